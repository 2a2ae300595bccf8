// `avs demo` (what `npm start` runs): the local AVS cloud (the simulator, test/avs-cloud) and a
// device against it over HTTP/2 + TLS on 127.0.0.1, with no audio hardware: a bundled WAV is the
// microphone; speech goes to mpg123 when it is installed (its null output on a machine without a
// sound card), else nowhere. The transcript shows the attention state, every directive received
// and every event sent as `Namespace.Name`; the run ends by itself with a summary.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { waitFor } from 'xstate';
import { NullOutput } from '../../drivers/audio-output/null-output';
import { PlaySoundOutput } from '../../drivers/audio-output/play-sound-output';
import type { AudioOutput } from '../../drivers/audio-output/output';
import { FileMicrophone } from '../../drivers/microphone/file-microphone';
import { createLogger } from '../../services/log/logger';
import { StaticTokenSource } from '../../services/transport';
import { createDevice, type Device } from '../device/device';
// The simulator is a development tool that lives with the tests (DESIGN.md); the demo runs it.
import { startSimulator } from '../../test/avs-cloud';
import { type CliIo, EXIT_FAILED, EXIT_OK } from './io';
import { keyHelp, pressKey, type KeyState } from './keys';

export const demoHelp = `usage: avs demo [--interactive] [--log-level LEVEL]

Starts the local AVS cloud (the simulator, default scenario) and a device against it, then plays
a short session without audio hardware: a spoken question (a bundled WAV) answered by speech, the
volume changed on the device and from the companion app. Prints the attention state, each
directive received and each event sent, then a summary. Exit 0 when the session went as expected.

  --interactive       after the session, keep the device running and drive it from the keyboard
                      (the keys of \`avs run\`, shown on screen; q quits)
  --log-level LEVEL   the device's structured logs on stderr (default: silent)`;

const ROOT = join(__dirname, '..', '..');
const QUESTION = join(ROOT, 'test', 'fixtures', 'audio', 'what-time-is-it.wav');
const STEP_TIMEOUT_MS = 20_000;

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export async function demoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, interactive: { type: 'boolean' }, 'log-level': { type: 'string' } } });
  if (values.help) {
    io.out(demoHelp);
    return EXIT_OK;
  }
  const level = (values['log-level'] ?? 'silent') as Level;
  const sim = await startSimulator();
  const player = new PlaySoundOutput({ player: 'mpg123' });
  const output: AudioOutput = player.available ? player : new NullOutput();
  io.out(`avs demo: local AVS cloud at ${sim.url}; speech plays on ${player.available ? `mpg123${player.noSoundCard ? ' (no sound card: its null output)' : ''}` : 'nothing (mpg123 is not installed)'}`);
  const device = createDevice({
    endpoint: sim.url,
    ca: sim.ca,
    tokens: new StaticTokenSource(sim.defaultToken),
    logger: createLogger({ level }),
    capabilities: { identity: { clientId: 'demo-client', productId: 'avs-device-demo', deviceSerialNumber: 'demo-1' } },
    drivers: { microphone: new FileMicrophone(QUESTION, { then: 'silence' }), output },
    firmwareVersion: '1',
  });
  const started = Date.now();
  const t = () => `${String(((Date.now() - started) / 1000).toFixed(2)).padStart(6)}s`;
  let directives = 0;
  let events = 0;
  device.attention$.subscribe((a) => io.out(`${t()}  attention  ${a}`));
  device.directives$.subscribe((d) => {
    directives++;
    io.out(`${t()}  ← ${d.namespace}.${d.name}${d.dialogRequestId ? `  (dialog ${d.dialogRequestId.slice(0, 8)})` : ''}`);
  });
  device.events$.subscribe((e) => {
    events++;
    io.out(`${t()}  → ${e.name}${e.queued ? '' : '  (not sent: offline)'}`);
  });
  let ok = true;
  const step = async (what: string, run: () => Promise<unknown>) => {
    io.out(`${t()}  ── ${what}`);
    try {
      await run();
    } catch (e) {
      ok = false;
      io.out(`${t()}  !! ${what} failed: ${(e as Error).message}`);
    }
  };
  try {
    await step('connecting', () => device.whenConnected());
    await step('the user taps and asks "Alexa, what time is it?"', async () => {
      device.tap();
      await waitFor(device.actors.speechRecognizer, (s) => !s.matches('IDLE'), { timeout: STEP_TIMEOUT_MS });
      await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', STEP_TIMEOUT_MS);
      await waitFor(device.actors.attention, (s) => s.matches('IDLE'), { timeout: STEP_TIMEOUT_MS });
    });
    await step('the user turns the volume up on the device', async () => {
      device.adjustVolume(10);
      await sim.waitForEvent('Speaker.VolumeChanged', STEP_TIMEOUT_MS);
    });
    await step('the volume is changed in the companion app', async () => {
      const applied = firstValueFrom(device.events$.pipe(filter((e) => e.name === 'Speaker.VolumeChanged'), timeout(STEP_TIMEOUT_MS)));
      sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'demo-app-volume' }, payload: { volume: 30 } } });
      await applied;
    });
    if (values.interactive) await interactive(device, io);
  } finally {
    await device.stop();
    await sim.stop();
  }
  const volume = summaryVolume(device);
  io.out('');
  io.out(`demo: ${directives} directives received, ${events} events sent, volume ${volume}, ${ok ? 'all steps passed' : 'some steps failed'}`);
  return ok ? EXIT_OK : EXIT_FAILED;
}

/** Keys from stdin until q (raw mode on a terminal: one key at a time, no Enter). */
async function interactive(device: Device, io: CliIo): Promise<void> {
  io.out(`\nkeys:\n${keyHelp()}`);
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  const state: KeyState = { holding: false, muted: false };
  try {
    await new Promise<void>((resolve) => {
      const onData = (chunk: string) => {
        for (const key of chunk.replace(/\r?\n/g, '')) {
          if (pressKey(key, device, state) === 'quit') {
            stdin.off('data', onData);
            stdin.off('end', resolve);
            return resolve();
          }
        }
      };
      stdin.on('data', onData);
      stdin.once('end', resolve);
    });
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}

function summaryVolume(device: Device): string {
  const entry = device.context().find((c) => c.header.name === 'VolumeState');
  return entry && 'volume' in entry.payload ? `${entry.payload.volume}${entry.payload.muted ? ' (muted)' : ''}` : 'unknown';
}
