// `node --import tsx test/avs-cloud/main.ts` (npm run sim): its output lines, its exits.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(__dirname, 'main.ts');

const run = (...args: string[]): ChildProcessWithoutNullStreams => spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT });

/** The first `n` lines of stdout. */
function lines(child: ChildProcessWithoutNullStreams, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      seen.push(line);
      if (seen.length === n) {
        rl.close();
        resolve(seen);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} after ${JSON.stringify(seen)}`)));
  });
}

const exitOf = (child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> =>
  new Promise((resolve) => {
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });

describe('main.ts', () => {
  it('prints "listening <url>" then "ca <path>", serves, and exits 0 on SIGTERM', async () => {
    const child = run('--port', '0');
    const exited = exitOf(child);
    const [listening, ca] = await lines(child, 2);
    expect(listening).toMatch(/^listening https:\/\/localhost:\d+$/);
    expect(ca).toMatch(/^ca \/.+\/ca\.pem$/);
    const caPath = ca.slice(3);
    expect(readFileSync(caPath, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
    expect(existsSync(caPath)).toBe(false);
  });

  it('runs h2c with a scenario and stops on SIGINT', async () => {
    const child = run('--port', '0', '--h2c', '--scenario', 'test/fixtures/avs-cloud/default.json');
    const exited = exitOf(child);
    const [listening] = await lines(child, 1);
    expect(listening).toMatch(/^listening http:\/\/127\.0\.0\.1:\d+$/);
    child.kill('SIGINT');
    expect((await exited).code).toBe(0);
  });

  it('exits 2 on bad usage, naming the problem', async () => {
    const noPort = await exitOf(run());
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toContain('--port is required');
    const badScenario = await exitOf(run('--port', '0', '--scenario', 'package.json'));
    expect(badScenario.code).toBe(2);
    expect(badScenario.stderr).toMatch(/package\.json: \$\.\S+: unknown key/);
  });

  it('prints help and exits 0', async () => {
    const child = run('--help');
    const [first] = await lines(child, 1);
    expect(first).toMatch(/^usage: sim --port N/);
    expect((await exitOf(child)).code).toBe(0);
  });
});
