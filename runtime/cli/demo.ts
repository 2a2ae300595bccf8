// `avs demo` (what `npm start` runs): the local AVS cloud (the simulator, test/avs-cloud, default
// scenario) and a device against it over HTTP/2 + TLS on 127.0.0.1, with no audio hardware: a
// bundled WAV is the microphone; sound goes to mpg123 where there is a sound card, else it is
// played on a paced recording output and written to files the run names. The transcript shows
// the attention state, each directive and each event as `Namespace.Name`; the run ends by itself
// with a summary (`--interactive` keeps the device running on the keys of `avs run`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { waitFor } from 'xstate';
import { PlaySoundOutput } from '../../drivers/audio-output/play-sound-output';
import { RecordingOutput } from '../../drivers/audio-output/recording-output';
import type { AudioOutput } from '../../drivers/audio-output/output';
import { FileMicrophone } from '../../drivers/microphone/file-microphone';
import { createLogger, type LogLevel } from '../../services/log/logger';
import { StaticTokenSource } from '../../services/transport';
import { createDevice, type Device } from '../device/device';
// The simulator is a development tool that lives with the tests (DESIGN.md); the demo runs it.
import { startSimulator } from '../../test/avs-cloud';
import { type CliIo, EXIT_FAILED, EXIT_OK, UsageError } from './io';
import { readKeys } from './keys';
import { inspectDevice } from '../inspector/device';
import { startInspector } from '../inspector/server';
import { attachTranscript } from './transcript';

export const demoHelp = `usage: avs demo [--interactive] [--inspect] [--log-level LEVEL]

Starts the local AVS cloud (the simulator, default scenario) and a device against it, then plays a
short session without audio hardware: a spoken question (a bundled WAV) answered by speech, a
timer set by voice that rings and is stopped on the device, music that plays and is paused by
voice, the volume changed from the companion app and on the device. Prints the attention state,
each directive received (← Namespace.Name) and each event sent (→ Namespace.Name), then a summary.
Sound plays on mpg123 where there is a sound card; otherwise it is written to files the run names.
Exit 0 when the session went as expected.

  --interactive       after the session, keep the device running and drive it from the keyboard
                      (the keys of \`avs run\`, shown on screen; q quits)
  --inspect           serve the live statechart inspector on 127.0.0.1 (its URL is printed; with
                      --interactive it stays up while the device runs)
  --log-level LEVEL   the device's structured logs on stderr (default: silent)`;

const ROOT = join(__dirname, '..', '..');
const QUESTION = join(ROOT, 'test', 'fixtures', 'audio', 'what-time-is-it.wav');
const STEP_TIMEOUT_MS = 30_000;
const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export async function demoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, interactive: { type: 'boolean' }, inspect: { type: 'boolean' }, 'log-level': { type: 'string' } } });
  if (values.help) {
    io.out(demoHelp);
    return EXIT_OK;
  }
  const level = values['log-level'] ?? 'silent';
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level: expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  const sim = await startSimulator();
  const player = new PlaySoundOutput({ player: 'mpg123' });
  const realSound = player.available && !player.noSoundCard;
  const recording = realSound ? undefined : new RecordingOutput({ paced: true });
  const output: AudioOutput = realSound ? player : (recording as RecordingOutput);
  io.out(`avs demo: local AVS cloud at ${sim.url}; sound on ${realSound ? 'mpg123' : 'a recording output (no sound card): written to files at the end'}`);
  const inspector = values.inspect ? await startInspector() : undefined;
  if (inspector) io.out(`inspector: ${inspector.url}`);
  const device = createDevice({
    ...(inspector ? { inspect: inspector.inspect } : {}),
    endpoint: sim.url,
    ca: sim.ca,
    tokens: new StaticTokenSource(sim.defaultToken),
    logger: createLogger({ level: level as LogLevel }),
    capabilities: { identity: { clientId: 'demo-client', productId: 'avs-device-demo', deviceSerialNumber: 'demo-1' } },
    drivers: { microphone: new FileMicrophone(QUESTION, { then: 'silence' }), output },
    firmwareVersion: '1',
  });
  const feed = inspector ? inspectDevice(inspector, device) : undefined;
  const transcript = attachTranscript(device, io);
  let ok = true;
  const step = async (what: string, run: () => Promise<unknown>) => {
    transcript.line(`── ${what}`);
    try {
      await run();
    } catch (e) {
      ok = false;
      transcript.line(`!! ${what} failed: ${(e as Error).message}`);
    }
  };
  /** Resolves at the next event of that name the device sends. */
  const sent = (name: string) => firstValueFrom(device.events$.pipe(filter((e) => e.name === name), timeout(STEP_TIMEOUT_MS)));
  const idle = () => waitFor(device.actors.attention, (s) => s.matches('IDLE'), { timeout: STEP_TIMEOUT_MS });
  /** A spoken request (the simulator tells them apart by tag, README of test/avs-cloud). */
  const ask = async (tag: string) => {
    sim.tagNext(tag);
    device.tap();
    await waitFor(device.actors.speechRecognizer, (s) => !s.matches('IDLE'), { timeout: STEP_TIMEOUT_MS });
  };
  try {
    await step('connecting', () => device.whenConnected());
    await step('the user taps and asks "Alexa, what time is it?"', async () => {
      const finished = sent('SpeechSynthesizer.SpeechFinished');
      await ask('question');
      await finished;
      await idle();
    });
    await step('"Alexa, set a timer for five seconds" — it rings, and the user stops it on the device', async () => {
      const rings = sent('Alerts.AlertStarted');
      await ask('timer');
      await rings;
      await waitFor(device.actors.alerts, (s) => s.matches('ALERTING'), { timeout: STEP_TIMEOUT_MS });
      await new Promise((r) => setTimeout(r, 1500)); // let it ring a moment
      const stopped = sent('Alerts.AlertStopped');
      device.stopAlert();
      await stopped;
      await idle();
    });
    await step('"Alexa, play some music" — and the volume is changed in the companion app while it plays', async () => {
      const playing = sent('AudioPlayer.PlaybackStarted');
      // The default scenario's app changes the volume 3 s into the music.
      const appVolume = sent('Speaker.VolumeChanged');
      await ask('music');
      await playing;
      await appVolume;
    });
    await step('"Alexa, pause" — the music pauses for the question, and stops', async () => {
      const stopped = sent('AudioPlayer.PlaybackStopped');
      await ask('pause');
      await stopped;
      await idle();
    });
    await step('the user turns the volume up on the device', async () => {
      const changed = sent('Speaker.VolumeChanged');
      device.adjustVolume(10);
      await changed;
    });
    if (values.interactive) await readKeys(device, io);
  } finally {
    await device.stop();
    feed?.unsubscribe();
    await inspector?.stop();
    await sim.stop();
  }
  if (recording && recording.recordings.length > 0) {
    const dir = join(tmpdir(), `avs-demo-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    for (const r of recording.recordings) {
      const ext = r.source.kind === 'stream' && r.source.format !== 'mp3' ? 'wav' : 'mp3';
      writeFileSync(join(dir, `${String(r.index + 1).padStart(2, '0')}-${r.outcome ?? 'played'}.${ext}`), r.audio());
    }
    io.out(`sound: ${recording.recordings.length} playbacks written to ${dir}`);
  }
  io.out('');
  io.out(`demo: ${transcript.directives} directives received, ${transcript.events} events sent, volume ${summaryVolume(device)}, ${ok ? 'all steps passed' : 'some steps failed'}`);
  return ok ? EXIT_OK : EXIT_FAILED;
}

function summaryVolume(device: Device): string {
  const entry = device.context().find((c) => c.header.name === 'VolumeState');
  return entry && 'volume' in entry.payload ? `${entry.payload.volume}${entry.payload.muted ? ' (muted)' : ''}` : 'unknown';
}
