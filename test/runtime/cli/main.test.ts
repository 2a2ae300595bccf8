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
    for (const command of ['validate', 'parse-multipart', 'demo', 'run', 'sim', 'charts', 'login', 'register-info', 'authorize', 'logout']) {
      const r = await avs(command, '--help');
      expect(r.code).toBe(0);
      expect(r.out.join('\n')).toMatch(new RegExp(`^usage: avs ${command}`));
    }
  });

  it('npm start (avs demo) as a child process: exits 0, and its output shows the whole demonstration in order', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    // Directives and events by Namespace.Name, in the order the session goes (§4.6, §7, §8).
    const order = [
      '→ SpeechRecognizer.Recognize',
      '← SpeechRecognizer.StopCapture',
      '← SpeechSynthesizer.Speak',
      '→ SpeechSynthesizer.SpeechStarted',
      '→ SpeechSynthesizer.SpeechFinished',
      '← Alerts.SetAlert',
      '→ Alerts.SetAlertSucceeded',
      'attention  ALERTING',
      '→ Alerts.AlertStarted',
      '→ Alerts.AlertStopped',
      '← AudioPlayer.Play',
      '→ AudioPlayer.PlaybackStarted',
      '← Speaker.SetVolume',
      '→ AudioPlayer.PlaybackPaused',
      '← AudioPlayer.Stop',
      '→ AudioPlayer.PlaybackStopped',
    ];
    let from = 0;
    for (const line of order) {
      const at = out.indexOf(line, from);
      expect({ line, found: at >= 0 }).toEqual({ line, found: true });
      from = at;
    }
    expect(out).toMatch(/attention {2}LISTENING[\s\S]*attention {2}THINKING[\s\S]*attention {2}SPEAKING/);
    expect(out.trim().split('\n').at(-1)).toMatch(/^demo: \d+ directives received, \d+ events sent, volume 40, all steps passed$/);
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

  it('demo --interactive takes the keys of avs run from stdin until q', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(ROOT, 'runtime', 'cli', 'avs.js'), 'demo', '--interactive'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const before = out;
      out += chunk;
      if (!before.includes('q      quit') && out.includes('q      quit')) child.stdin.write('+mq');
    });
    expect(await exited).toBe(0);
    expect(out).toMatch(/→ Speaker\.VolumeChanged[\s\S]*keys:[\s\S]*→ Speaker\.VolumeChanged[\s\S]*→ Speaker\.MuteChanged/);
    expect(out.trim().split('\n').at(-1)).toMatch(/volume 50 \(muted\), all steps passed$/);
  });
});
