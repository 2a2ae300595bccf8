// PROTOCOL.md §9: the PlaybackController machine — each press one event, in order, as user activity.
import { createActor } from 'xstate';
import { playbackControllerMachine, type PlaybackControllerEmitted, type PlaybackControllerEvent } from '../../../machines/playback-controller/machine';

describe('playback controller machine', () => {
  it('turns every press into its event (§9.1), each also user activity (§11.2)', () => {
    const actor = createActor(playbackControllerMachine).start();
    const emitted: PlaybackControllerEmitted[] = [];
    actor.on('*', (e) => emitted.push(e));
    const presses: PlaybackControllerEvent[] = [
      { type: 'USER.PLAY' },
      { type: 'USER.PAUSE' },
      { type: 'USER.NEXT' },
      { type: 'USER.PREVIOUS' },
      { type: 'USER.BUTTON', name: 'SKIPFORWARD' },
      { type: 'USER.TOGGLE', name: 'SHUFFLE', selected: true },
      { type: 'USER.TOGGLE', name: 'THUMBSUP', selected: false },
    ];
    for (const p of presses) actor.send(p);
    expect(emitted.filter((e) => e.type === 'USER.ACTIVITY')).toHaveLength(presses.length);
    expect(emitted.filter((e) => e.type === 'AVS.EVENT').map((e) => (e.type === 'AVS.EVENT' ? [e.name, e.payload] : []))).toEqual([
      ['PlayCommandIssued', {}],
      ['PauseCommandIssued', {}],
      ['NextCommandIssued', {}],
      ['PreviousCommandIssued', {}],
      ['ButtonCommandIssued', { name: 'SKIPFORWARD' }],
      ['ToggleCommandIssued', { name: 'SHUFFLE', action: 'SELECT' }],
      ['ToggleCommandIssued', { name: 'THUMBSUP', action: 'DESELECT' }],
    ]);
  });
});
