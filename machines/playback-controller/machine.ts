// PROTOCOL.md §9: PlaybackController — the device's transport buttons. It changes nothing
// locally (§9.1: AVS answers with AudioPlayer directives); each press becomes its event (the
// runtime adds the full context, §2.1) and counts as user activity (§11.2). One state: a press is
// always reported, in order.
import { emit, enqueueActions, setup } from 'xstate';
import { outbound, type OutboundEventOf } from '../catalog';

export type Button = 'SKIPFORWARD' | 'SKIPBACKWARD';
export type Toggle = 'SHUFFLE' | 'LOOP' | 'REPEAT' | 'THUMBSUP' | 'THUMBSDOWN';

export type PlaybackControllerEvent =
  | { type: 'USER.PLAY' }
  | { type: 'USER.PAUSE' }
  | { type: 'USER.NEXT' }
  | { type: 'USER.PREVIOUS' }
  /** §9.1 (1.1) */
  | { type: 'USER.BUTTON'; name: Button }
  | { type: 'USER.TOGGLE'; name: Toggle; selected: boolean };

export type PlaybackControllerEmitted =
  | OutboundEventOf<'PlaybackController', 'PlayCommandIssued'>
  | OutboundEventOf<'PlaybackController', 'PauseCommandIssued'>
  | OutboundEventOf<'PlaybackController', 'NextCommandIssued'>
  | OutboundEventOf<'PlaybackController', 'PreviousCommandIssued'>
  | OutboundEventOf<'PlaybackController', 'ButtonCommandIssued'>
  | OutboundEventOf<'PlaybackController', 'ToggleCommandIssued'>
  | { type: 'USER.ACTIVITY' };

export const playbackControllerMachine = setup({
  types: {
    events: {} as PlaybackControllerEvent,
    emitted: {} as PlaybackControllerEmitted,
  },
  actions: {
    activity: emit({ type: 'USER.ACTIVITY' as const }),
    command: enqueueActions(({ event, enqueue }) => {
      switch (event.type) {
        case 'USER.PLAY':
          return enqueue.emit(outbound('PlaybackController', 'PlayCommandIssued', {}));
        case 'USER.PAUSE':
          return enqueue.emit(outbound('PlaybackController', 'PauseCommandIssued', {}));
        case 'USER.NEXT':
          return enqueue.emit(outbound('PlaybackController', 'NextCommandIssued', {}));
        case 'USER.PREVIOUS':
          return enqueue.emit(outbound('PlaybackController', 'PreviousCommandIssued', {}));
        case 'USER.BUTTON':
          return enqueue.emit(outbound('PlaybackController', 'ButtonCommandIssued', { name: event.name }));
        case 'USER.TOGGLE':
          return enqueue.emit(outbound('PlaybackController', 'ToggleCommandIssued', { name: event.name, action: event.selected ? 'SELECT' : 'DESELECT' }));
      }
    }),
  },
}).createMachine({
  id: 'playbackController',
  initial: 'READY',
  states: {
    READY: {
      on: {
        'USER.PLAY': { actions: ['activity', 'command'] },
        'USER.PAUSE': { actions: ['activity', 'command'] },
        'USER.NEXT': { actions: ['activity', 'command'] },
        'USER.PREVIOUS': { actions: ['activity', 'command'] },
        'USER.BUTTON': { actions: ['activity', 'command'] },
        'USER.TOGGLE': { actions: ['activity', 'command'] },
      },
    },
  },
});
