// PROTOCOL.md §10: Speaker 1.0.
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { intRange } from '../envelope/primitives';

/** §10.1: volume is an integer 0..100 whatever the hardware scale. */
export const Volume = intRange(0, 100);

export const SetVolume = t.type({ volume: Volume }, 'SetVolumePayload');
/** §10.2: a relative change, clamped into 0..100 by the machine. */
export const AdjustVolume = t.type({ volume: intRange(-100, 100) }, 'AdjustVolumePayload');
export const SetMute = t.type({ mute: t.boolean }, 'SetMutePayload');

/** §10.1 / §10.3: the context state and both events share this shape. */
export const VolumeState = t.type({ volume: Volume, muted: t.boolean }, 'VolumeStatePayload');
export type VolumeState = t.TypeOf<typeof VolumeState>;

export const Speaker = defineInterface({
  namespace: 'Speaker',
  version: '1.0',
  directives: { SetVolume, AdjustVolume, SetMute },
  events: { VolumeChanged: VolumeState, MuteChanged: VolumeState },
  context: { VolumeState },
  eventsWithContext: [],
  eventsWithDialogRequestId: [],
});
