// `avs run`: the device for real — against AVS with the config's endpoint and Login with Amazon
// tokens (`avs login` first), or against `--endpoint` (the simulator, with `--token`), with the
// real microphone and player (or a WAV as the microphone); keys on screen; Ctrl-C or q shuts down
// cleanly (the connection closed, what must reach AVS kept in the database).
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NullOutput } from '../../drivers/audio-output/null-output';
import { PlaySoundOutput } from '../../drivers/audio-output/play-sound-output';
import type { AudioOutput } from '../../drivers/audio-output/output';
import { FileMicrophone } from '../../drivers/microphone/file-microphone';
import { Lpcm16Microphone } from '../../drivers/microphone/lpcm16-microphone';
import type { Microphone } from '../../drivers/microphone/microphone';
import { createLogger, type LogLevel } from '../../services/log/logger';
import { StaticTokenSource } from '../../services/transport';
import { ConfigError, defaultConfigPath, loadConfig, type AvsConfig, type ConfigFlags } from '../config';
import { createDevice, type DeviceConfig } from '../device/device';
import { type CliIo, EXIT_OK, UsageError } from './io';
import { readKeys } from './keys';
import { inspectDevice } from '../inspector/device';
import { startInspector } from '../inspector/server';
import { attachTranscript } from './transcript';

export const runHelp = `usage: avs run [options]

Runs the device: against AVS with the config's endpoint and the Login with Amazon tokens kept by
\`avs login\`, or against --endpoint (the local AVS cloud, with --token), with the microphone and
player of the config. Shows the attention state, the directives and events, and the keys:
space tap to talk, h hold to talk, s stop the alert, p/o/n/b play/pause/next/previous, +/- volume,
m mute, q quit. Ctrl-C stops it cleanly; what must reach AVS is kept for the next run.

  --config FILE         the device config (default $AVS_CONFIG or ~/.avs-device/config.json)
  --endpoint URL        avs.endpoint (e.g. the simulator's, from \`avs sim\`)
  --ca-file FILE        avs.caFile: an extra CA to trust (the simulator prints its own)
  --token TOKEN         use this access token instead of Login with Amazon (the simulator's)
  --database FILE       device.database
  --microphone-file F   a WAV (16 kHz 16-bit mono) as the microphone instead of the recorder
  --no-sound            play nothing (a null output) instead of the player
  --log-level LEVEL     log.level (structured logs on stderr)
  --duration SECONDS    stop by itself after this long (for scripts)
  --inspect             serve the live statechart inspector on 127.0.0.1 (its URL is printed)
  --inspect-port N      its port (default inspector.port of the config, else a free one)`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string' },
  endpoint: { type: 'string' },
  'ca-file': { type: 'string' },
  token: { type: 'string' },
  database: { type: 'string' },
  'microphone-file': { type: 'string' },
  'no-sound': { type: 'boolean' },
  'log-level': { type: 'string' },
  duration: { type: 'string' },
  inspect: { type: 'boolean' },
  'inspect-port': { type: 'string' },
} as const;

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    io.out(runHelp);
    return EXIT_OK;
  }
  const flags: ConfigFlags = {
    'avs.endpoint': values.endpoint,
    'avs.caFile': values['ca-file'],
    'device.database': values.database,
    'log.level': values['log-level'],
  };
  let config: AvsConfig;
  const file = values.config ?? (existsSync(defaultConfigPath()) ? defaultConfigPath() : undefined);
  try {
    config = loadConfig({ ...(file ? { file } : {}), flags });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (!values.token && !config.lwa) throw new UsageError('no tokens: give --token (the simulator\'s) or the lwa settings and run `avs login` first');
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration: expected a positive number of seconds, got ${JSON.stringify(values.duration)}`);
  const microphone: Microphone = values['microphone-file']
    ? new FileMicrophone(values['microphone-file'], { then: 'silence' })
    : new Lpcm16Microphone({ recorder: config.audio.recorder, ...(config.audio.device ? { device: config.audio.device } : {}), ...(config.audio.gain !== undefined ? { gain: config.audio.gain } : {}) });
  const output: AudioOutput = values['no-sound'] ? new NullOutput() : new PlaySoundOutput({ player: config.audio.player });
  const deviceConfig: DeviceConfig = {
    endpoint: config.avs.endpoint,
    ...(config.avs.caFile ? { ca: readFileSync(config.avs.caFile) } : {}),
    ...(values.token
      ? { tokens: new StaticTokenSource(values.token) }
      : { authorization: { clientId: config.lwa?.clientId ?? '', productId: config.lwa?.productId ?? '', deviceSerialNumber: config.lwa?.deviceSerialNumber ?? '', url: config.lwa?.url } }),
    ...(config.lwa ? { capabilities: { identity: { clientId: config.lwa.clientId, productId: config.lwa.productId, deviceSerialNumber: config.lwa.deviceSerialNumber } } } : {}),
    database: config.device.database,
    ...(config.device.locale ? { locale: config.device.locale } : {}),
    ...(config.device.firmwareVersion ? { firmwareVersion: config.device.firmwareVersion } : {}),
    ...(config.device.initialVolume !== undefined ? { initialVolume: config.device.initialVolume } : {}),
    ...(config.audio.interruptedBehavior ? { interruptedBehavior: config.audio.interruptedBehavior } : {}),
    recognizer: { ...(config.recognizer.tapProfile ? { tapProfile: config.recognizer.tapProfile } : {}), ...(config.recognizer.listenOnExpectSpeech !== undefined ? { listenOnExpectSpeech: config.recognizer.listenOnExpectSpeech } : {}) },
    logger: createLogger({ level: config.log.level as LogLevel }),
    drivers: { microphone, output },
  };
  const inspector = values.inspect ? await startInspector({ port: Number(values['inspect-port'] ?? config.inspector.port ?? 0) }) : undefined;
  const device = createDevice({ ...deviceConfig, ...(inspector ? { inspect: inspector.inspect } : {}) });
  const feed = inspector ? inspectDevice(inspector, device) : undefined;
  if (inspector) io.out(`inspector: ${inspector.url}`);
  const transcript = attachTranscript(device, io);
  io.out(`avs run: ${config.avs.endpoint}, database ${config.device.database}`);
  void device.whenConnected().then(() => transcript.line('connected'));
  const stopSignals = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const timer = duration !== undefined ? new Promise<void>((resolve) => setTimeout(resolve, duration * 1000).unref()) : new Promise<void>(() => undefined);
  await Promise.race([readKeys(device, io), stopSignals, timer]);
  transcript.line('stopping');
  // Stopped by a signal or the clock: the keyboard is not read any more.
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
  process.stdin.unref?.();
  await device.stop();
  feed?.unsubscribe();
  await inspector?.stop();
  io.out(`avs run: stopped (${transcript.directives} directives, ${transcript.events} events); undelivered events stay in ${config.device.database}`);
  return EXIT_OK;
}
