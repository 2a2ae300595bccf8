// `avs charts`, run in-process. Bad usage is a thrown UsageError, which runCli turns into exit 2
// with the message on stderr (runtime/cli/main.ts), as for every command.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartsCommand, chartsHelp } from '../../../runtime/cli/charts';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../../../runtime/cli/io';
import { DEVICE_MACHINES } from '../../../runtime/inspector/chart';

async function charts(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await chartsCommand(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const names = Object.keys(DEVICE_MACHINES);
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avs-charts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('avs charts', () => {
  it('prints its usage with --help, exit 0', async () => {
    const r = await charts('--help');
    expect(r.code).toBe(EXIT_OK);
    expect(r.out.join('\n')).toBe(chartsHelp);
    expect(chartsHelp).toMatch(/^usage: avs charts /);
  });

  it('writes one SVG per machine (the default format), printing each file, exit 0', async () => {
    const r = await charts('--out', join(dir, 'new', 'folder'));
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toEqual(names.map((n) => join(dir, 'new', 'folder', `${n}.svg`)));
    const svg = readFileSync(join(dir, 'new', 'folder', 'speechRecognizer.svg'), 'utf8');
    expect(svg).toContain('id="state:speechRecognizer.RECOGNIZING.STREAMING"');
  });

  it('writes Mermaid (.mmd) and JSON files', async () => {
    expect((await charts('--format', 'mermaid', '--out', dir)).code).toBe(EXIT_OK);
    expect((await charts('--format', 'json', '--out', dir)).code).toBe(EXIT_OK);
    expect(readdirSync(dir).sort()).toEqual(names.flatMap((n) => [`${n}.json`, `${n}.mmd`]).sort());
    expect(readFileSync(join(dir, 'focus.mmd'), 'utf8')).toMatch(/^stateDiagram-v2\n/);
    const json = JSON.parse(readFileSync(join(dir, 'attention.json'), 'utf8')) as { id: string; states: { id: string }[] };
    expect(json.id).toBe('attention');
    expect(json.states.map((s) => s.id)).toContain('attention.THINKING.AWAITING_RESPONSE');
  });

  it('writes only the machines named with --machine', async () => {
    const r = await charts('--format', 'json', '--out', dir, '--machine', 'alert', '--machine', 'connection');
    expect(r.code).toBe(EXIT_OK);
    expect(readdirSync(dir).sort()).toEqual(['alert.json', 'connection.json']);
  });

  it('refuses an unknown format, naming the allowed ones (bad usage: exit 2)', async () => {
    const run = charts('--format', 'png', '--out', dir);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow('unknown format "png" (allowed: svg, mermaid, json, dot)');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an unknown machine, and a missing --out', async () => {
    await expect(charts('--out', dir, '--machine', 'toaster')).rejects.toThrow(/unknown machine "toaster" \(machines: focus, attention/);
    await expect(charts('--format', 'json')).rejects.toThrow(UsageError);
  });

  it('exits 1 naming the file when it cannot write there', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await charts('--format', 'json', '--out', file);
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.err.join('\n')).toMatch(/cannot create .*a-file: EEXIST/);
  });
});
