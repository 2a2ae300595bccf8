// createDevice: the running device as one object (DESIGN.md "runtime/"). It opens the database,
// starts the actor tree and the connection, and wires the two rxjs streams between them:
//   directives$: every part from AVS → pipeline (sequencer → router) → the interface machines
//   events$:     every machine's AVS.EVENT → envelope (+ the live context, §2.3) → outbox → AVS
// and derives attention$ from the attention aggregator.
import { readFileSync } from 'node:fs';
import { BehaviorSubject, Subject, distinctUntilChanged, type Observable } from 'rxjs';
import { createActor, fromCallback, type Actor, type ActorOptions, type AnyActorLogic } from 'xstate';

/** What XState needs of a clock for its delays. */
interface XStateClock {
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}
import { buildOutboundEvent, eventNeedsContext, type ContextEntry, type EventMessage, type OutboundEvent } from '../../machines/catalog';
import { attentionOf, connectionChanged, type Attention } from '../../machines/attention/machine';
import { EndpointUrl, LocaleTag } from '../../machines/envelope/primitives';
import { speakerContext } from '../../machines/speaker/machine';
import { systemMachine } from '../../machines/system/machine';
import { speechRecognizerContext, speechRecognizerMachine, type SpeechRecognizerInput, type WakeWordIndices } from '../../machines/speech-recognizer/machine';
import { speechSynthesizerContext, speechSynthesizerMachine } from '../../machines/speech-synthesizer/machine';
import { audioPlayerContext, audioPlayerMachine, type InterruptedBehavior } from '../../machines/audio-player/machine';
import type { Button, Toggle } from '../../machines/playback-controller/machine';
import { alertsContext, alertsMachine } from '../../machines/alerts/machine';
import { alertMachine } from '../../machines/alerts/alert';
import type { AudioOutput } from '../../drivers/audio-output/output';
import type { Clock } from '../../drivers/clock/clock';
import { SystemClock } from '../../drivers/clock/system-clock';
import { NullOutput } from '../../drivers/audio-output/null-output';
import { MicrophoneError, type Microphone } from '../../drivers/microphone/microphone';
import { createLogger, type Logger } from '../../services/log/logger';
import { AttachmentStore, type AvsPart } from '../../services/multipart';
import { MemoryOutbox, type Outbox } from '../../services/outbox/outbox';
import { SqliteOutbox } from '../../services/outbox/sqlite-outbox';
import { openDatabase, type DeviceDatabase } from '../../services/store/database';
import { MemoryKeyValueStore, SqliteKeyValueStore, type KeyValueStore } from '../../services/store/kv';
import { MemoryAlertStore, SqliteAlertStore, type AlertStore } from '../../services/store/alert-store';
import type { LwaClientOptions } from '../../services/lwa/client';
import { CapabilitiesPublisher, capabilitiesDocument, type PublisherOptions, type SenderReport, type TokenSource } from '../../services/transport';
import { AvsConnection } from '../connection/avs-connection';
import { machineHandler, type DirectiveHandler } from '../pipeline/handlers';
import { renderActor, waitUntilActor } from './alerts';
import { DeviceAuthorization, wipeCustomerData } from './authorization';
import { openSource, playStreamActor, Prefetcher } from './content';
import { playSpeechActor, recognizeActor, type DialogServices } from './dialog';
import { DirectivePipeline, type PipelineItem } from '../pipeline/pipeline';
import { deviceMachine, type DeviceActors } from './machine';

export interface DeviceDrivers {
  /** Speech (and later music and alerts) play here, at the Speaker's volume (§10); a null output by default. */
  readonly output?: AudioOutput;
  /** 16 kHz PCM for Recognize (§1.4); without one, tap/hold/wake word fail with a clear log. */
  readonly microphone?: Microphone;
}

export interface DeviceConfig {
  /** The AVS base URL (§1.1), or the simulator's. A SetEndpoint (§11.3) persisted earlier wins. */
  readonly endpoint: string;
  /** Where access tokens come from: given, or (with `authorization`) Login with Amazon. */
  readonly tokens?: TokenSource;
  /** §12: link and refresh with Login with Amazon; the refresh token is kept in the database. */
  readonly authorization?: Omit<LwaClientOptions, 'ca'> & { readonly ca?: string | Buffer };
  /** The device database (one SQLite file for everything that must survive a power cut). Without it, nothing does. */
  readonly database?: string;
  readonly drivers?: DeviceDrivers;
  /** §11.1: the locale until the user changes it (default en-US). */
  readonly locale?: string;
  /** §11.3 (1.1): reported with SoftwareInfo when given. */
  readonly firmwareVersion?: string;
  /** §5: profiles, ExpectSpeech behaviour, wake word. */
  readonly recognizer?: SpeechRecognizerInput;
  /** §4.2: music in the background pauses (AudioPlayer 1.0, the default) or plays on attenuated. */
  readonly interruptedBehavior?: InterruptedBehavior;
  /** How long a Speak waits for its attachment to start arriving (default 10 s). */
  readonly attachmentTimeoutMs?: number;
  /** §10.1: the volume of a device that never had one set (default 50). */
  readonly initialVolume?: number;
  /** §13: publish the device's interfaces before connecting (AVS needs it; the simulator accepts it). */
  readonly capabilities?: Pick<PublisherOptions, 'identity' | 'authHeader' | 'url'>;
  /** Handlers for interfaces of the product's own (or to replace one of ours), by namespace. */
  readonly handlers?: readonly DirectiveHandler[];
  /** Extra CA for a private endpoint (the simulator's), as PEM or a file. */
  readonly ca?: string | Buffer;
  readonly caFile?: string;
  readonly logger?: Logger;
  /**
   * The device's clock (drivers/clock): alerts wait on it, the wall time comes from it. A clock
   * that also has setTimeout/clearTimeout (the SimulatedClock) runs the machines' delays too, so
   * a test drives one time line. Default: the SystemClock.
   */
  readonly clock?: Clock & Partial<XStateClock>;
  /** The wall clock (ms), when it is not the clock's. */
  readonly now?: () => number;
  /** Connection tuning (defaults are the SDK's, §1.8–§1.9). */
  readonly seed?: number;
  readonly maxRetryDelayMs?: number;
  readonly pingIdleMs?: number;
  readonly pingTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** §11.2: how often UserInactivityReport goes (default one hour). */
  readonly inactivityReportMs?: number;
  /** Passed to every actor (the inspector uses it). */
  readonly inspect?: ActorOptions<AnyActorLogic>['inspect'];
}

/** How long a volume change may wait to be written (a burst of them is written once). */
const VOLUME_WRITE_MS = 250;

/** Node's timers hold at most 2^31-1 ms; a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer of any length (in hops of at most MAX_TIMER_MS), not keeping the process alive; returns its cancel. */
function longTimeout(fn: () => void, ms: number): () => void {
  let left = Math.max(0, ms);
  let timer: NodeJS.Timeout | undefined;
  const hop = () => {
    if (left <= 0) return fn();
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(hop, step).unref();
  };
  hop();
  return () => clearTimeout(timer);
}

/** A config value the device cannot start with; `key` names it. */
export class DeviceConfigError extends Error {
  readonly code = 'INVALID_CONFIG' as const;
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`config.${key}: ${message}`);
    this.name = 'DeviceConfigError';
  }
}

/** An event on its way to AVS, as queued. */
export interface SentEvent {
  readonly name: string;
  readonly message: EventMessage;
  /** False when it could not be queued (not connected and not one that must reach AVS, or the outbox is full). */
  readonly queued: boolean;
}

export interface Device {
  readonly actors: DeviceActors & { readonly connection: AvsConnection['actor'] };
  /** The root actor of the device's machines. */
  readonly root: Actor<ReturnType<typeof deviceMachine>>;
  readonly connection: AvsConnection;
  /** The directive pipeline: the current dialog, and what became of each directive. */
  readonly pipeline: DirectivePipeline;
  /** The attention state for LEDs and screens (current value first). */
  readonly attention$: Observable<Attention>;
  /** Every directive accepted for carrying out, decoded, in arrival order. */
  readonly directives$: Observable<PipelineItem>;
  /** Every event the device's machines sent towards AVS. */
  readonly events$: Observable<SentEvent>;
  /** What the event sender did with each queued event (sent, refused, held…). */
  readonly reports$: Observable<SenderReport>;
  /** System.Exception bodies AVS sent (§11.3). */
  readonly exceptions$: Observable<{ code: string; description?: string }>;
  /** §12: linking and tokens, when the device links itself (config.authorization). */
  readonly authorization: DeviceAuthorization | undefined;
  /** Deregistration (§12.2): unlinks, wipes the tokens and the customer's data, stops the device. */
  logout(): Promise<void>;
  /** The context entries of every interface now (§2.3). */
  context(): ContextEntry[];
  /** Resolves once connected (after SynchronizeState). */
  whenConnected(): Promise<void>;
  /** §5.3 TAP: start listening (NEAR_FIELD by default; AVS ends the capture with StopCapture). */
  tap(): void;
  /** §5.3 PRESS_AND_HOLD: listen while the button is held (CLOSE_TALK) … */
  hold(): void;
  /** … and stop at its release. */
  release(): void;
  /** §5.3 WAKEWORD: the wake word was heard at these sample indices of the capture. */
  wakeWord(indices: WakeWordIndices): void;
  /** §7.5: stops the sounding alert here, without the cloud (a local stop). */
  stopAlert(): void;
  /** §9.1 PlaybackController: the transport buttons (AVS answers with AudioPlayer directives). */
  play(): void;
  pause(): void;
  next(): void;
  previous(): void;
  /** §9.1 (1.1): skip forward / backward. */
  button(name: Button): void;
  /** §9.1 (1.1): shuffle, loop, repeat, thumbs up / down switched on or off. */
  toggle(name: Toggle, selected: boolean): void;
  setVolume(volume: number): void;
  adjustVolume(by: number): void;
  setMuted(muted: boolean): void;
  /** §11.1: changes the locale and tells AVS; rejects a value that is not an `ll-CC` tag. */
  setLocale(locale: string): void;
  readonly locale: string;
  /** Closes the connection and stops every machine; what must reach AVS stays in the database. */
  stop(): Promise<void>;
}

const KEYS = {
  volume: 'speaker.volume',
  muted: 'speaker.muted',
  locale: 'settings.locale',
  localeConfirmed: 'settings.locale.confirmed',
} as const;

/** The interfaces this device carries out, for the capabilities it publishes (§13). */
const IMPLEMENTED = ['SpeechRecognizer', 'SpeechSynthesizer', 'Alerts', 'AudioPlayer', 'PlaybackController', 'System', 'Speaker', 'Settings'];

/**
 * Wraps a listener of a machine or a stream: whatever it throws (a full disk under the store, a
 * driver's bug) is logged, never rethrown into XState or rxjs, which would end the process.
 */
function safely<A extends unknown[]>(log: Logger, what: string, fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (e) {
      log.error({ error: e instanceof Error ? e.message : String(e) }, `${what} failed`);
    }
  };
}

function checkConfig(config: DeviceConfig): void {
  if (!config.tokens && !config.authorization) throw new DeviceConfigError('authorization', 'either tokens or authorization (clientId, productId, deviceSerialNumber) is needed');
  if (!EndpointUrl.is(config.endpoint)) throw new DeviceConfigError('endpoint', `not an http(s) URL or host: ${JSON.stringify(config.endpoint)}`);
  if (config.locale !== undefined && !LocaleTag.is(config.locale)) throw new DeviceConfigError('locale', `not an ll-CC locale tag: ${JSON.stringify(config.locale)}`);
  const v = config.initialVolume;
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 100)) throw new DeviceConfigError('initialVolume', `expected an integer 0..100, got ${v}`);
}

const intOr = (value: string | undefined, fallback: number): number => {
  const n = value === undefined ? NaN : Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 100 ? n : fallback;
};

export function createDevice(config: DeviceConfig): Device {
  checkConfig(config);
  const logger = config.logger ?? createLogger();
  const log = logger.child({ module: 'device' });
  const ownClock = config.clock === undefined ? new SystemClock() : undefined;
  const clock: Clock = config.clock ?? (ownClock as SystemClock);
  const now = config.now ?? (() => clock.now());
  // The machines' delays run on the same time line as the alerts when the clock can carry them.
  const xstateClock: XStateClock | undefined = config.clock?.setTimeout && config.clock.clearTimeout ? (config.clock as XStateClock) : undefined;
  const output = config.drivers?.output ?? new NullOutput();
  const microphone: Microphone = config.drivers?.microphone ?? {
    open: () => {
      throw new MicrophoneError('CAPTURE_FAILED', 'this device has no microphone configured (config.drivers.microphone)');
    },
  };
  const ca = config.ca ?? (config.caFile ? readFileSync(config.caFile) : undefined);

  let db: DeviceDatabase | undefined;
  let store: KeyValueStore;
  let outbox: Outbox;
  let alertStore: AlertStore;
  if (config.database) {
    db = openDatabase(config.database);
    store = new SqliteKeyValueStore(db);
    alertStore = new SqliteAlertStore(db);
    const outboxLog = logger.child({ module: 'outbox' });
    outbox = new SqliteOutbox(db, { onWarning: (message) => outboxLog.warn(message) });
    if (outbox.size > 0) outboxLog.info({ waiting: outbox.size }, 'events left from the last run go first');
  } else {
    log.warn('no database configured: volume, settings and undelivered events will not survive a restart');
    store = new MemoryKeyValueStore();
    outbox = new MemoryOutbox();
    alertStore = new MemoryAlertStore();
  }

  const authorization = config.tokens
    ? undefined
    : new DeviceAuthorization({
        ...(config.authorization as NonNullable<DeviceConfig['authorization']>),
        ...(config.authorization?.ca ? {} : ca ? { ca } : {}),
        store,
        logger,
        ...(xstateClock ? { clock: xstateClock } : {}),
        ...(config.inspect ? { inspect: config.inspect } : {}),
      });
  const tokens: TokenSource = config.tokens ?? (authorization as DeviceAuthorization);

  // The System machine's hourly timer runs on the device's clock and reports the device's time.
  const system = systemMachine.provide({
    actors: {
      reportTimer: fromCallback<{ type: 'NONE' }, { intervalMs: number }>(({ input, sendBack }) => {
        const clock = xstateClock;
        const tick = () => {
          sendBack({ type: 'INACTIVITY.TICK', at: now() });
          handle = schedule();
        };
        const schedule = () => (clock ? clock.setTimeout(tick, input.intervalMs) : longTimeout(tick, input.intervalMs));
        let handle: unknown = schedule();
        return () => (clock ? clock.clearTimeout(handle) : (handle as () => void)());
      }),
    },
  });
  const events = new Subject<SentEvent>();
  const attachments = new AttachmentStore({ missingTimeoutMs: config.attachmentTimeoutMs ?? 10_000 });
  // The connection is made below; the recognize actor only runs once it exists.
  let connectionRef: AvsConnection | undefined;
  const dialogServices: DialogServices = {
    microphone,
    output,
    attachments,
    context: () => context(),
    sendNow: (message, audio, signal) => {
      const connection = connectionRef;
      if (!connection) return Promise.reject(new Error('not connected'));
      return connection.sendNow(
        () => {
          const built = message() as EventMessage;
          const header = built.event.header;
          events.next({ name: `${header.namespace}.${header.name}`, message: built, queued: true });
          return built;
        },
        audio,
        signal,
      );
    },
    onResponseComplete: () => actorsRef?.attention.send({ type: 'DIALOG.RESPONSE_COMPLETE' }),
    logger,
  };
  let actorsRef: DeviceActors | undefined;
  const actorOptions = { ...(xstateClock ? { clock: xstateClock } : {}), ...(config.inspect ? { inspect: config.inspect } : {}) };
  const speechRecognizer = speechRecognizerMachine.provide({ actors: { recognize: recognizeActor(dialogServices) } });
  const speechSynthesizer = speechSynthesizerMachine.provide({ actors: { playSpeech: playSpeechActor(dialogServices) } });
  const contentServices = { output, attachments, ...(ca ? { ca } : {}), now, logger };
  const prefetcher = new Prefetcher((url) => openSource(contentServices, url));
  const audioPlayer = audioPlayerMachine.provide({ actors: { playStream: playStreamActor(contentServices, prefetcher) } });
  const alertServices = {
    clock,
    output,
    delay: (ms: number, fn: () => void) => {
      if (xstateClock) {
        const id = xstateClock.setTimeout(fn, ms);
        return () => xstateClock.clearTimeout(id);
      }
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
    logger,
  };
  const alerts = alertsMachine.provide({
    actors: { alert: alertMachine.provide({ actors: { waitUntil: waitUntilActor(alertServices), render: renderActor(alertServices) } }) },
  });
  const root = createActor(deviceMachine({ system, speechRecognizer, speechSynthesizer, audioPlayer, alerts }), {
    ...actorOptions,
    input: {
      speaker: { volume: intOr(store.get(KEYS.volume), config.initialVolume ?? 50), muted: store.get(KEYS.muted) === 'true' },
      settings: { locale: store.get(KEYS.locale) ?? config.locale ?? 'en-US', ...(store.get(KEYS.localeConfirmed) ? { confirmed: store.get(KEYS.localeConfirmed) } : {}) },
      system: { startedAt: now(), ...(config.firmwareVersion ? { firmwareVersion: config.firmwareVersion } : {}), ...(config.inactivityReportMs ? { reportIntervalMs: config.inactivityReportMs } : {}) },
      attention: {},
      // §5.6: without a microphone nothing can open by itself; wait (and time out) instead.
      speechRecognizer: { listenOnExpectSpeech: config.drivers?.microphone !== undefined, ...config.recognizer },
      audioPlayer: { interruptedBehavior: config.interruptedBehavior ?? 'PAUSE' },
    },
  });
  root.on('DEVICE.MACHINE_FAILED', (e) => log.error({ machine: e.machine, error: e.error }, 'a machine failed; its directives are answered INTERNAL_ERROR'));
  root.subscribe({ error: (e) => log.error({ error: String(e) }, 'the device machine failed') });
  root.start();
  const children = root.getSnapshot().children;
  const actors: DeviceActors = {
    focus: children.focus as DeviceActors['focus'],
    attention: children.attention as DeviceActors['attention'],
    system: children.system as DeviceActors['system'],
    speaker: children.speaker as DeviceActors['speaker'],
    settings: children.settings as DeviceActors['settings'],
    speechRecognizer: children.speechRecognizer as DeviceActors['speechRecognizer'],
    speechSynthesizer: children.speechSynthesizer as DeviceActors['speechSynthesizer'],
    audioPlayer: children.audioPlayer as DeviceActors['audioPlayer'],
    playbackController: children.playbackController as DeviceActors['playbackController'],
    alerts: children.alerts as DeviceActors['alerts'],
  };
  actorsRef = actors;

  /** §2.3: built from the machines' snapshots, at the moment it is asked for. */
  const context = (): ContextEntry[] => {
    const recognizer = speechRecognizerContext(actors.speechRecognizer.getSnapshot());
    return [
      ...(recognizer ? [recognizer] : []),
      speechSynthesizerContext(actors.speechSynthesizer.getSnapshot()),
      alertsContext(actors.alerts.getSnapshot()),
      audioPlayerContext(actors.audioPlayer.getSnapshot()),
      speakerContext(actors.speaker.getSnapshot()),
    ];
  };

  const reports = new Subject<SenderReport>();
  const exceptions = new Subject<{ code: string; description?: string }>();
  const transportLog = logger.child({ module: 'transport' });
  const connection = new AvsConnection({
    endpoint: config.endpoint,
    tokens,
    context,
    store,
    outbox,
    attachments,
    ...(ca ? { ca } : {}),
    ...(config.seed !== undefined ? { seed: config.seed } : {}),
    // The network runs on real time (backoff, pings, stalled streams), whatever clock the alerts use.
    ...(config.now ? { now: config.now } : {}),
    ...(config.maxRetryDelayMs !== undefined ? { maxRetryDelayMs: config.maxRetryDelayMs } : {}),
    ...(config.pingIdleMs !== undefined ? { pingIdleMs: config.pingIdleMs } : {}),
    ...(config.pingTimeoutMs !== undefined ? { pingTimeoutMs: config.pingTimeoutMs } : {}),
    ...(config.connectTimeoutMs !== undefined ? { connectTimeoutMs: config.connectTimeoutMs } : {}),
    ...(config.capabilities
      ? {
          capabilities: new CapabilitiesPublisher({
            ...config.capabilities,
            document: { ...capabilitiesDocument(), capabilities: capabilitiesDocument().capabilities.filter((c) => IMPLEMENTED.includes(c.interface)) },
            token: () => tokens.current(),
            store,
            ...(ca ? { ca } : {}),
          }),
        }
      : {}),
    onEndpointChanged: (endpoint) => transportLog.info({ endpoint }, 'endpoint changed (§11.3), reconnecting there'),
    onBodyError: (e) => transportLog.warn({ error: e.message }, 'a response body broke off; the directives before the break were kept'),
    onReport: (r) => {
      reportOf(r);
      reports.next(r);
    },
  });

  function reportOf(r: SenderReport): void {
    switch (r.kind) {
      case 'sent':
        transportLog.debug({ event: r.entry.name, status: r.status }, 'event sent');
        break;
      case 'refused':
        transportLog.warn({ event: r.entry.name, status: r.status, reason: r.reason }, 'AVS refused an event');
        break;
      case 'held':
        transportLog.info({ event: r.entry.name, reason: r.reason }, 'event held for the next connection');
        break;
      case 'not-connected':
        transportLog.info({ event: r.name }, 'event dropped: not connected (§1.7)');
        return;
      case 'outbox-full':
        transportLog.error({ event: r.name }, 'event dropped: the outbox is full');
        return;
      case 'superseded':
        transportLog.debug({ event: r.entry.name }, 'state report replaced by a newer one before it went');
        return;
    }
    // §11.1: the answer to a SettingsUpdated decides whether the locale stays.
    if (r.entry.name === 'Settings.SettingsUpdated' && r.kind !== 'held') {
      const locale = (r.entry.message as { event: { payload: { settings: { value: string }[] } } }).event.payload.settings[0]?.value;
      if (locale) actors.settings.send(r.kind === 'sent' ? { type: 'SETTINGS.ACCEPTED', locale } : { type: 'SETTINGS.REFUSED', locale });
    }
  }

  /** events$: a machine's AVS.EVENT becomes an envelope (with context where §2.1 wants it) in the outbox. */
  const eventLog = logger.child({ module: 'events' });
  const send = (e: OutboundEvent) => {
    let message: EventMessage;
    try {
      message = buildOutboundEvent(e, eventNeedsContext(e.namespace, e.name) ? { context: context() } : {});
    } catch (error) {
      eventLog.error({ event: `${e.namespace}.${e.name}`, error: (error as Error).message }, 'a machine asked for an invalid event');
      return;
    }
    const queued = connection.send(message);
    eventLog.debug({ event: `${e.namespace}.${e.name}`, queued }, 'event');
    events.next({ name: `${e.namespace}.${e.name}`, message, queued });
  };
  /**
   * §7: an alert's change in the store and the event that reports it (the machine emits the change
   * first) commit in one transaction. Written apart, a power cut between the two either lost the
   * event (AVS never heard the alert had stopped) or kept the alert (it rang again after the
   * restart) — found by the power-loss test. A change with no event behind it is written at the end
   * of the turn. (The event is on disk when the transaction ends, within the same synchronous turn:
   * before any of it can reach the wire, which HTTP/2 writes on a later tick.)
   */
  const alertChanges: (() => void)[] = [];
  const withAlertChanges = (fn: () => void): void => {
    const run = () => {
      for (const write of alertChanges.splice(0)) write();
      fn();
    };
    if (db) db.transaction(run)();
    else run();
  };
  const deferAlertChange = (write: () => void): void => {
    if (alertChanges.push(write) === 1) queueMicrotask(safely(log, 'storing the alerts', () => withAlertChanges(() => {})));
  };
  /** What stop() undoes. */
  const teardown: { unsubscribe(): void }[] = [];
  connectionRef = connection;
  const sendSafely = safely(eventLog, 'queueing an event', send);
  teardown.push(
    actors.system.on('AVS.EVENT', sendSafely),
    actors.speaker.on('AVS.EVENT', sendSafely),
    actors.settings.on('AVS.EVENT', sendSafely),
    actors.speechRecognizer.on('AVS.EVENT', sendSafely),
    actors.speechSynthesizer.on('AVS.EVENT', sendSafely),
    actors.audioPlayer.on('AVS.EVENT', sendSafely),
    actors.audioPlayer.on('STREAM.PREFETCH', safely(log, 'prefetching the next item', (e) => prefetcher.start(e.item))),
    actors.playbackController.on('AVS.EVENT', sendSafely),
    actors.alerts.on('AVS.EVENT', safely(eventLog, 'queueing an alert event', (e) => withAlertChanges(() => sendSafely(e)))),
    actors.playbackController.on('USER.ACTIVITY', safely(log, 'noting user activity', () => actors.system.send({ type: 'USER.ACTIVITY', at: now() }))),
  );
  const speakerLog = logger.child({ module: 'speaker' });
  // The volume is kept on disk at most every VOLUME_WRITE_MS (and at stop): each write is a synced
  // transaction on the event loop, and a burst of changes needs only its last one kept. A power
  // cut within that time restarts at the volume before it.
  let kept = { volume: store.get(KEYS.volume), muted: store.get(KEYS.muted) };
  let wanted = kept;
  let volumeWrite: NodeJS.Timeout | undefined;
  const writeVolume = safely(speakerLog, 'keeping the volume', () => {
    volumeWrite = undefined;
    if (wanted.volume !== kept.volume && wanted.volume !== undefined) store.set(KEYS.volume, wanted.volume);
    if (wanted.muted !== kept.muted && wanted.muted !== undefined) store.set(KEYS.muted, wanted.muted);
    kept = wanted;
  });
  actors.speaker.on('OUTPUT.VOLUME', safely(speakerLog, 'applying and keeping the volume', (e) => {
    try {
      output.setVolume(e.volume, e.muted);
    } catch (error) {
      speakerLog.error({ error: (error as Error).message }, 'the output refused the volume');
    }
    wanted = { volume: String(e.volume), muted: String(e.muted) };
    volumeWrite ??= setTimeout(writeVolume, VOLUME_WRITE_MS).unref();
  }));
  // The output starts at the persisted volume.
  safely(speakerLog, 'applying the volume', () => {
    const s = speakerContext(actors.speaker.getSnapshot()).payload;
    output.setVolume(s.volume, s.muted);
  })();
  actors.settings.on(
    'SETTINGS.PERSIST',
    safely(log, 'keeping the locale', (e) => {
      store.set(KEYS.locale, e.locale);
      if (e.confirmed) store.set(KEYS.localeConfirmed, e.confirmed);
    }),
  );
  // §7: every alert is on disk before AVS hears of it (the machine emits the write first), in the
  // event's transaction (withAlertChanges above).
  const alertLog = logger.child({ module: 'alerts' });
  teardown.push(
    actors.alerts.on('ALERTS.PUT', (e) => deferAlertChange(safely(alertLog, 'storing an alert', () => alertStore.put({ ...e.alert })))),
    actors.alerts.on('ALERTS.DELETE', (e) => deferAlertChange(safely(alertLog, 'deleting an alert', () => void alertStore.delete(e.token)))),
    actors.alerts.on('ALERTS.ACTIVE', (e) => deferAlertChange(safely(alertLog, 'marking an alert', () => alertStore.setActive(e.token, e.active)))),
  );
  const systemLog = logger.child({ module: 'system' });
  actors.system.on(
    'ENDPOINT.SET',
    safely(systemLog, 'SetEndpoint', (e) => {
      if (!connection.setEndpoint(e.endpoint)) systemLog.warn({ endpoint: e.endpoint }, 'SetEndpoint with an endpoint that cannot be used');
    }),
  );
  actors.system.on(
    'SYSTEM.EXCEPTION',
    safely(systemLog, 'reporting System.Exception', (e) => {
      systemLog.warn({ code: e.code, description: e.description }, 'System.Exception from AVS');
      exceptions.next({ code: e.code, ...(e.description ? { description: e.description } : {}) });
    }),
  );

  const pipeline = new DirectivePipeline({
    handlers: [
      machineHandler('System', actors.system, {
        refuse: (d) => (d.header.name === 'ReportSoftwareInfo' && !config.firmwareVersion ? 'this device has no firmware version to report' : undefined),
      }),
      machineHandler('Speaker', actors.speaker),
      // §4.4 step 3: Speak holds the dialog; ExpectSpeech reports itself done once expecting (SDK).
      machineHandler('SpeechSynthesizer', actors.speechSynthesizer, { blocking: ['Speak'] }),
      machineHandler('SpeechRecognizer', actors.speechRecognizer, { blocking: ['ExpectSpeech'] }),
      // §7.3: SetAlert and DeleteAlert are non-blocking; a malformed SetAlert that names its token fails it (SDK).
      machineHandler('Alerts', actors.alerts, {
        rejected: (name, doc) => {
          const token = (doc as { directive?: { payload?: { token?: unknown } } }).directive?.payload?.token;
          if (name === 'SetAlert' && typeof token === 'string') actors.alerts.send({ type: 'SETALERT.INVALID', token });
        },
      }),
      // §8.3: Play is done once queued (non-blocking).
      machineHandler('AudioPlayer', actors.audioPlayer),
      ...(config.handlers ?? []),
    ],
    reportException: (r) => actors.system.send({ type: 'EXCEPTION.REPORT', ...r }),
    onSystemException: (code, description) =>
      actors.system.send({ type: 'DIRECTIVE.Exception', payload: { code, ...(description ? { description } : {}) }, messageId: 'exception-part', receivedAt: now() }),
    logger: logger.child({ module: 'pipeline' }),
    now,
  });
  teardown.push(connection.directives$.subscribe(safely(log, 'taking a directive', (part: AvsPart) => pipeline.accept(part))));

  // Connection state → the machines that care (§11.2 SoftwareInfo, §11.1 first report, attention).
  let connected = false;
  let lastState = '';
  const connected$ = new BehaviorSubject(false);
  const followConnection = (snapshot: ReturnType<typeof connection.actor.getSnapshot>) => {
    const state = JSON.stringify(snapshot.value);
    if (state !== lastState) transportLog.debug({ state, endpoint: snapshot.context.endpoint, failures: snapshot.context.failures, lastError: snapshot.context.lastError }, 'connection');
    lastState = state;
    const up = snapshot.matches({ ONLINE: 'CONNECTED' });
    actors.attention.send(connectionChanged(snapshot));
    if (up === connected) return;
    connected = up;
    connected$.next(up);
    transportLog.info(up ? 'connected' : 'not connected');
    actors.system.send({ type: up ? 'CONNECTION.CONNECTED' : 'CONNECTION.LOST' });
    if (up) actors.settings.send({ type: 'CONNECTION.CONNECTED' });
  };
  /** A machine that failed is reported once here (and by the root, runtime/device/machine.ts); its directives then fail with INTERNAL_ERROR. */
  const failed = (name: string) => (e: unknown) => log.error({ machine: name, error: e instanceof Error ? e.message : String(e) }, 'a machine failed');
  teardown.push(connection.actor.subscribe({ next: safely(transportLog, 'following the connection', followConnection), error: failed('connection') }));

  // §7.6 on boot: the stored alerts, now that everything they say is heard.
  {
    const stored = alertStore.all();
    if (stored.length > 0) alertLog.info({ alerts: stored.length }, 'alerts reloaded');
    actors.alerts.send({ type: 'ALERTS.LOAD', alerts: stored, now: now() });
  }

  // §4.4 step 1: a new Recognize makes its dialog current before it is sent.
  teardown.push(
    actors.speechRecognizer.on('DIALOG.STARTED', safely(log, 'starting a dialog', (e) => pipeline.startDialog(e.dialogRequestId))),
    actors.speechRecognizer.on('USER.ACTIVITY', safely(log, 'noting user activity', () => actors.system.send({ type: 'USER.ACTIVITY', at: now() }))),
  );
  // The attention aggregator follows the recognizer and the synthesizer.
  let recognizerState = '';
  let synthesizerState = '';
  const followRecognizer = (s: ReturnType<typeof actors.speechRecognizer.getSnapshot>) => {
    const state = (typeof s.value === 'string' ? s.value : Object.keys(s.value)[0]) as 'IDLE' | 'RECOGNIZING' | 'BUSY' | 'EXPECTING_SPEECH';
    if (state === recognizerState) return;
    recognizerState = state;
    actors.attention.send({ type: 'RECOGNIZER.CHANGED', state });
  };
  const followSynthesizer = (s: ReturnType<typeof actors.speechSynthesizer.getSnapshot>) => {
    const state = s.matches({ PLAYING: { OUTPUT: 'SPEAKING' } }) ? 'PLAYING' : 'FINISHED';
    if (state === synthesizerState) return;
    synthesizerState = state;
    actors.attention.send({ type: 'SYNTHESIZER.CHANGED', state });
  };
  let alerting = false;
  const followAlerts = (s: ReturnType<typeof actors.alerts.getSnapshot>) => {
    const now = s.matches('ALERTING');
    if (now === alerting) return;
    alerting = now;
    actors.attention.send({ type: 'ALERTS.CHANGED', active: now });
  };
  teardown.push(
    actors.alerts.subscribe({ next: safely(log, 'following the alerts', followAlerts), error: failed('alerts') }),
    actors.speechRecognizer.subscribe({ next: safely(log, 'following the recognizer', followRecognizer), error: failed('speechRecognizer') }),
    actors.speechSynthesizer.subscribe({ next: safely(log, 'following the synthesizer', followSynthesizer), error: failed('speechSynthesizer') }),
  );
  const attention = new BehaviorSubject<Attention>(attentionOf(actors.attention.getSnapshot()));
  teardown.push(actors.attention.subscribe({ next: (s) => attention.next(attentionOf(s)), error: failed('attention') }));

  if (authorization) {
    // §12.2: unlinked (revoked, or logged out): the tokens and the customer's data go.
    authorization.actor.on('UNLINKED', safely(log, 'wiping the customer data', () => (db ? wipeCustomerData(db) : undefined)));
    authorization.start();
  }
  connection.start();

  const activity = () => actors.system.send({ type: 'USER.ACTIVITY', at: now() });
  let stopped: Promise<void> | undefined;
  const device: Device = {
    actors: { ...actors, connection: connection.actor },
    root,
    connection,
    pipeline,
    attention$: attention.pipe(distinctUntilChanged()),
    directives$: pipeline.directives$,
    events$: events.asObservable(),
    reports$: reports.asObservable(),
    exceptions$: exceptions.asObservable(),
    context,
    authorization,
    logout: async () => {
      authorization?.logout();
      if (!authorization && db) wipeCustomerData(db);
      await device.stop();
    },
    whenConnected: () =>
      new Promise<void>((resolve) => {
        const sub = connected$.subscribe((c) => {
          if (!c) return;
          queueMicrotask(() => sub.unsubscribe());
          resolve();
        });
      }),
    tap: () => {
      activity();
      actors.speechRecognizer.send({ type: 'USER.TAP' });
    },
    hold: () => {
      activity();
      actors.speechRecognizer.send({ type: 'USER.HOLD' });
    },
    release: () => actors.speechRecognizer.send({ type: 'USER.RELEASE' }),
    wakeWord: (indices) => {
      activity();
      actors.speechRecognizer.send({ type: 'USER.WAKEWORD', indices });
    },
    stopAlert: () => {
      activity();
      actors.alerts.send({ type: 'USER.STOP' });
    },
    play: () => actors.playbackController.send({ type: 'USER.PLAY' }),
    pause: () => actors.playbackController.send({ type: 'USER.PAUSE' }),
    next: () => actors.playbackController.send({ type: 'USER.NEXT' }),
    previous: () => actors.playbackController.send({ type: 'USER.PREVIOUS' }),
    button: (name) => actors.playbackController.send({ type: 'USER.BUTTON', name }),
    toggle: (name, selected) => actors.playbackController.send({ type: 'USER.TOGGLE', name, selected }),
    setVolume: (volume) => {
      activity();
      actors.speaker.send({ type: 'USER.SET_VOLUME', volume });
    },
    adjustVolume: (by) => {
      activity();
      actors.speaker.send({ type: 'USER.ADJUST_VOLUME', by });
    },
    setMuted: (muted) => {
      activity();
      actors.speaker.send({ type: muted ? 'USER.MUTE' : 'USER.UNMUTE' });
    },
    setLocale: (locale) => {
      if (!LocaleTag.is(locale)) throw new DeviceConfigError('locale', `not an ll-CC locale tag: ${JSON.stringify(locale)}`);
      activity();
      actors.settings.send({ type: 'USER.SET_LOCALE', locale });
    },
    get locale() {
      return actors.settings.getSnapshot().context.locale;
    },
    stop: () =>
      (stopped ??= (async () => {
        pipeline.stop();
        await connection.stop();
        for (const s of teardown.splice(0)) s.unsubscribe();
        if (volumeWrite) {
          clearTimeout(volumeWrite);
          writeVolume();
        }
        root.stop();
        attention.complete();
        events.complete();
        reports.complete();
        exceptions.complete();
        connected$.complete();
        authorization?.stop();
        prefetcher.drop();
        ownClock?.stop();
        attachments.close();
        db?.close();
        log.info('stopped');
      })()),
  };
  return device;
}
