// The benchmark harness itself (issue 11), in its smallest mode: every figure is produced and
// reported. No figure is compared with its target here — targets are the bench's business, and
// a test that times things would fail on a slow or busy machine.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { KEYS } from './figures';
import { formatTable, runBench, toJson } from './harness';

const ROOT = join(__dirname, '..', '..');

function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the benchmark harness', () => {
  it('produces every figure of issue 11 as a finite number, with details, in a table and as JSON', async () => {
    const report = await runBench({ mode: 'test' });
    const json = toJson(report);
    for (const key of KEYS) {
      expect(typeof json[key]).toBe('number');
      expect(Number.isFinite(json[key])).toBe(true);
    }
    expect(json).toEqual(expect.objectContaining({ cpu: expect.any(String), node: process.version, date: expect.any(String), details: expect.any(Object) }));
    const details = json.details as Record<string, { median: number; min: number; max: number; runs: number[] }>;
    for (const key of KEYS) expect(details[key]).toEqual(expect.objectContaining({ median: json[key], runs: expect.any(Array) }));

    const table = formatTable(report);
    for (const s of report.summaries) expect(table).toContain(s.figure.label);
    expect(table.split('\n').filter((l) => l.startsWith('| ')).length).toBe(report.summaries.length + 1);
  });

  it('npm run bench -- --json prints exactly one JSON object with the machine, Node, date and the keys', async () => {
    const { code, stdout, stderr } = await runMain(['--tiny', '--json', '--only', 'multipart,lifecycle']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['cpu', 'node', 'date', 'details', ...KEYS]));
    // The groups left out are there as null; those run are numbers.
    expect(json.directive_p99_ms_at_1000_per_s).toBeNull();
    expect(typeof json.multipart_mb_per_s).toBe('number');
    expect(typeof json.start_to_connected_ms).toBe('number');
  });

  it('refuses an unknown group with exit 2', async () => {
    const { code, stderr } = await runMain(['--only', 'nonsense']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown group nonsense');
  });
});
