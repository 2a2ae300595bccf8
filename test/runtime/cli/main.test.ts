import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES } from '../../support/fixtures';
import { avs } from '../../support/cli';

const ROOT = join(__dirname, '..', '..', '..');

describe('avs', () => {
  it('lists its commands with --help, and exits 2 without one', async () => {
    const help = await avs('--help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/usage: avs <command>[\s\S]*validate[\s\S]*parse-multipart/);
    expect((await avs()).code).toBe(2);
  });

  it('exits 2 on an unknown command', async () => {
    const r = await avs('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/unknown command "frobnicate"/);
  });

  it('has --help on every command', async () => {
    for (const command of ['validate', 'parse-multipart', 'demo']) {
      const r = await avs(command, '--help');
      expect(r.code).toBe(0);
      expect(r.out.join('\n')).toMatch(new RegExp(`^usage: avs ${command}`));
    }
  });

  it('runs the demo (what npm start runs) to a passing end', async () => {
    const r = await avs('demo');
    expect(r.code).toBe(0);
    expect(r.out[r.out.length - 1]).toBe('demo: all checks passed');
  });

  it('runs as the avs executable (package.json bin) with the documented exit codes', () => {
    const ok = spawnSync(process.execPath, [join(ROOT, 'runtime', 'cli', 'avs.js'), 'validate', join(FIXTURES, 'messages', 'valid', 'Speaker.SetVolume.json')], {
      encoding: 'utf8',
    });
    expect(ok.stdout).toMatch(/: ok Speaker\.SetVolume\n$/);
    expect(ok.status).toBe(0);
    const usage = spawnSync(process.execPath, [join(ROOT, 'runtime', 'cli', 'avs.js'), 'validate'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });
});
