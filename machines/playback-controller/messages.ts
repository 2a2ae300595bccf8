// PROTOCOL.md §9: PlaybackController 1.0, with the 1.1 button and toggle events.
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { EmptyPayload, oneOf } from '../envelope/primitives';

export const ButtonName = oneOf(['SKIPFORWARD', 'SKIPBACKWARD']);
export const ButtonCommandIssued = t.type({ name: ButtonName }, 'ButtonCommandIssuedPayload');

export const ToggleName = oneOf(['SHUFFLE', 'LOOP', 'REPEAT', 'THUMBSUP', 'THUMBSDOWN']);
export const ToggleAction = oneOf(['SELECT', 'DESELECT']);
export const ToggleCommandIssued = t.type({ name: ToggleName, action: ToggleAction }, 'ToggleCommandIssuedPayload');

export const PlaybackController = defineInterface({
  namespace: 'PlaybackController',
  version: '1.1',
  directives: {},
  events: {
    PlayCommandIssued: EmptyPayload,
    PauseCommandIssued: EmptyPayload,
    NextCommandIssued: EmptyPayload,
    PreviousCommandIssued: EmptyPayload,
    ButtonCommandIssued,
    ToggleCommandIssued,
  },
  context: {},
  // §9.1: every PlaybackController event carries the full context.
  eventsWithContext: [
    'PlayCommandIssued',
    'PauseCommandIssued',
    'NextCommandIssued',
    'PreviousCommandIssued',
    'ButtonCommandIssued',
    'ToggleCommandIssued',
  ],
  eventsWithDialogRequestId: [],
});
