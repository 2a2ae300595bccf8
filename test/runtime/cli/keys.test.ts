// The keys of `avs run`: each one drives its device control.
import { KEY_BINDINGS, keyHelp, pressKey, type KeyState } from '../../../runtime/cli/keys';
import type { Device } from '../../../runtime/device/device';

function fakeDevice() {
  const calls: string[] = [];
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      calls.push(args.length ? `${name}(${args.join(',')})` : name);
  const device = {
    tap: record('tap'),
    stopAlert: record('stopAlert'),
    hold: record('hold'),
    release: record('release'),
    play: record('play'),
    pause: record('pause'),
    next: record('next'),
    previous: record('previous'),
    adjustVolume: record('adjustVolume'),
    setMuted: record('setMuted'),
  } as unknown as Device;
  return { device, calls };
}

describe('avs run keys', () => {
  it('map each key to its control: talk, transport (§9), volume and mute (§10)', () => {
    const { device, calls } = fakeDevice();
    const state: KeyState = { holding: false, muted: false };
    for (const key of [' ', 'h', 'h', 's', 'p', 'o', 'n', 'b', '+', '-', 'm', 'm']) expect(pressKey(key, device, state)).toBe('done');
    expect(calls).toEqual(['tap', 'hold', 'release', 'stopAlert', 'play', 'pause', 'next', 'previous', 'adjustVolume(10)', 'adjustVolume(-10)', 'setMuted(true)', 'setMuted(false)']);
  });

  it('q and Ctrl-C quit; other keys do nothing', () => {
    const { device, calls } = fakeDevice();
    const state: KeyState = { holding: false, muted: false };
    expect(pressKey('q', device, state)).toBe('quit');
    expect(pressKey('\u0003', device, state)).toBe('quit');
    expect(pressKey('z', device, state)).toBe('unknown');
    expect(calls).toEqual([]);
  });

  it('shows every key on screen', () => {
    const help = keyHelp();
    for (const b of KEY_BINDINGS) expect(help).toContain(b.label);
    expect(help).toContain('q      quit');
  });
});
