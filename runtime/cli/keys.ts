// The keys of `avs run` (and `avs demo --interactive`): one key per device control, shown on
// screen. Space is tap-to-talk; "h" holds to talk until it is pressed again (a terminal sees no
// key release); the transport keys are PlaybackController's (PROTOCOL.md §9).
import type { Device } from '../device/device';

export interface KeyBinding {
  readonly key: string;
  readonly label: string;
  readonly run: (device: Device, state: KeyState) => void;
}

/** What the keys remember between presses. */
export interface KeyState {
  holding: boolean;
  muted: boolean;
}

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { key: ' ', label: 'space  tap to talk', run: (d) => d.tap() },
  {
    key: 'h',
    label: 'h      hold to talk (h again to release)',
    run: (d, s) => {
      if (s.holding) d.release();
      else d.hold();
      s.holding = !s.holding;
    },
  },
  { key: 's', label: 's      stop the ringing alert', run: (d) => d.stopAlert() },
  { key: 'p', label: 'p      play', run: (d) => d.play() },
  { key: 'o', label: 'o      pause', run: (d) => d.pause() },
  { key: 'n', label: 'n      next', run: (d) => d.next() },
  { key: 'b', label: 'b      previous', run: (d) => d.previous() },
  { key: '+', label: '+      volume up', run: (d) => d.adjustVolume(10) },
  { key: '-', label: '-      volume down', run: (d) => d.adjustVolume(-10) },
  {
    key: 'm',
    label: 'm      mute / unmute',
    run: (d, s) => {
      s.muted = !s.muted;
      d.setMuted(s.muted);
    },
  },
];

/** The help line block shown on screen. */
export const keyHelp = (): string => [...KEY_BINDINGS.map((b) => b.label), 'q      quit'].join('\n');

/** Runs the control bound to `key`; returns 'quit' for q / Ctrl-C, 'unknown' for an unbound key. */
export function pressKey(key: string, device: Device, state: KeyState): 'done' | 'quit' | 'unknown' {
  if (key === 'q' || key === '\u0003') return 'quit';
  const binding = KEY_BINDINGS.find((b) => b.key === key.toLowerCase() || (b.key !== ' ' && b.key === key));
  if (!binding) return 'unknown';
  binding.run(device, state);
  return 'done';
}

/** Keys from stdin until q or the end of input (raw mode on a terminal: one key at a time, no Enter). */
export async function readKeys(device: Device, io: { out: (line: string) => void }): Promise<void> {
  io.out(`keys:\n${keyHelp()}`);
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  const state: KeyState = { holding: false, muted: false };
  try {
    await new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('data', onData);
        stdin.off('end', done);
        resolve();
      };
      const onData = (chunk: string) => {
        for (const key of chunk.replace(/\r?\n/g, '')) if (pressKey(key, device, state) === 'quit') return done();
      };
      stdin.on('data', onData);
      stdin.once('end', done);
    });
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}
