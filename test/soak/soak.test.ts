// The soak as part of npm test (issue 12): a short run of `npm run soak` with a fixed seed, as a
// child process (an unhandled rejection or exception in it counts as a crash, not a jest error).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

it('npm run soak -- --turns 60 --seed 7: nothing lost, nothing duplicated, nothing crashed', async () => {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'test', 'soak', 'main.ts'), '--turns', '60', '--seed', '7'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const lines = out.trim().split('\n');
  const last = lines.at(-1) ?? '';
  const m = /^soak: (\d+) turns, (\d+) faults, (\d+) events checked, (\d+) alerts checked, lost (\d+), duplicated (\d+), crashes (\d+)$/.exec(last);
  expect({ last, problems: lines.filter((l) => l.startsWith('problem:')) }).toEqual({ last: expect.stringMatching(/^soak: /), problems: [] });
  expect(m).not.toBeNull();
  const [, turns, faults, events, , lost, duplicated, crashes] = (m as RegExpExecArray).map(Number);
  expect({ turns, lost, duplicated, crashes }).toEqual({ turns: 60, lost: 0, duplicated: 0, crashes: 0 });
  expect(faults).toBeGreaterThan(0);
  expect(events).toBeGreaterThan(0);
  expect(code).toBe(0);
}, 300_000);
