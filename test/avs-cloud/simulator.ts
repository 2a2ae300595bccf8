// The local AVS-compatible cloud: one server on 127.0.0.1 speaking the AVS device API as AVS does
// on the wire (PROTOCOL.md §1), Login with Amazon (§12) and the capabilities API (§13), scripted
// by a scenario, recording everything, and injecting faults on demand. See README.md here.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent } from '../../machines/catalog';
import { formatDecodeError } from '../../machines/envelope/report';
import { boundaryFromContentType } from '../../services/multipart';
import type { Delivery, Simulator, SimulatorOptions, StopCaptureOptions, TokenControl } from './api';
import type { CapabilitiesDocument } from './capabilities';
import { createCertificates } from './certificates';
import { Downchannel } from './downchannel';
import { type ControlApi, handleCapabilities, handleControl, handleLwa, handleMedia, type Reply } from './endpoints';
import { readEventBody } from './event-body';
import { type Exchange, h2Exchange, http1Exchange, type ResponseHeaders } from './exchange';
import { type BodyFault, FaultState, type Faults, type FaultStatus, type FaultTarget } from './faults';
import { type AuthorizationCodeRequest, LwaService } from './lwa';
import { AVS_CONTENT_TYPE, type ResponsePart, responseBody } from './multipart-body';
import {
  type AudioStats,
  type DownchannelInfo,
  type EventDocument,
  type ReceivedEvent,
  Recorder,
  type RequestKind,
  type RequestRecord,
} from './recorder';
import { loadDefaultScenario, parseScenario, type Push, ScenarioPlayer } from './scenario';
import { StopCaptureTracker } from './stop-capture';
import { renderReply } from './templates';
import { bearerToken, TokenStore } from './tokens';

/** §5.3 / §1.4: bytes per second of the audio formats (PCM 16 kHz 16-bit; Opus at 32 kbit/s). */
const BYTES_PER_SECOND: Readonly<Record<string, number>> = { AUDIO_L16_RATE_16000_CHANNELS_1: 32_000, OPUS: 4_000 };
/** §1.5.4: the `payload.code` of each error status. */
const EXCEPTION_CODES: Readonly<Record<number, string>> = {
  400: 'INVALID_REQUEST_EXCEPTION',
  403: 'UNAUTHORIZED_REQUEST_EXCEPTION',
  405: 'INVALID_REQUEST_EXCEPTION',
  429: 'THROTTLING_EXCEPTION',
  500: 'INTERNAL_SERVICE_EXCEPTION',
  503: 'N/A',
  505: 'INVALID_REQUEST_EXCEPTION',
};
const FAULT_DESCRIPTIONS: Readonly<Record<FaultStatus, string>> = {
  403: 'Access token expired',
  429: 'Too many requests',
  500: 'Internal service error',
  503: 'Service unavailable',
};
const JSON_TYPE = 'application/json';

interface RequestContext {
  readonly ex: Exchange;
  readonly kind: RequestKind;
  readonly at: number;
  event?: unknown;
  audio?: AudioStats;
  note?: string;
  readonly record: Promise<RequestRecord>;
}

/** Starts a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new AvsCloudSimulator(options);
  await sim.start();
  return sim;
}

class AvsCloudSimulator implements Simulator {
  url = '';
  port = 0;
  readonly h2c: boolean;
  caPath?: string;
  ca?: string;
  readonly defaultToken: string;
  readonly tokens: TokenControl;
  readonly faults: Faults;
  readonly capabilities: CapabilitiesDocument[] = [];

  private server: http2.Http2Server | http2.Http2SecureServer | undefined;
  private readonly now: () => number;
  private readonly tokenStore: TokenStore;
  private lwa: LwaService | undefined;
  private readonly recorder: Recorder;
  private readonly player: ScenarioPlayer;
  private readonly faultState = new FaultState();
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<http2.Http2Session, { id: number; lastStreamId: number }>();
  private readonly http1Connections = new WeakMap<object, number>();
  private connectionSeq = 0;
  private readonly downchannels: Downchannel[] = [];
  private readonly pendingPushes: ResponsePart[][] = [];
  private readonly heldPings: Exchange[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pendingTags: string[] = [];
  private readonly stopCapture: Required<StopCaptureOptions>;
  private createdCertDir: string | undefined;
  private stopped = false;

  constructor(private readonly options: SimulatorOptions) {
    this.h2c = options.h2c ?? false;
    this.now = options.now ?? Date.now;
    this.tokenStore = new TokenStore(this.now, options.lwa?.accessTokenLifetime ?? 3600);
    this.defaultToken = this.tokenStore.issue().accessToken;
    this.recorder = new Recorder(options.tracePath);
    const scenario = options.scenario ? parseScenario(options.scenario, 'options.scenario') : loadDefaultScenario();
    this.player = new ScenarioPlayer(scenario);
    this.stopCapture = { idleMs: options.stopCapture?.idleMs ?? 300, afterAudioMs: options.stopCapture?.afterAudioMs ?? 1500 };
    const store = this.tokenStore;
    this.tokens = {
      issue: () => store.issue(),
      expire: (token) => store.expire(token),
      revoke: (token) => store.revoke(token),
      check: (token) => store.check(token),
    };
    this.faults = this.makeFaults();
  }

  get records(): readonly RequestRecord[] {
    return this.recorder.records;
  }

  async start(): Promise<void> {
    let server: http2.Http2Server | http2.Http2SecureServer;
    if (this.h2c) {
      server = http2.createServer();
    } else {
      const dir = this.options.certDir ?? (this.createdCertDir = mkdtempSync(join(tmpdir(), 'avs-cloud-')));
      try {
        const certs = await createCertificates(dir, this.options.openssl);
        this.caPath = certs.caPath;
        this.ca = certs.ca;
        server = http2.createSecureServer({ key: certs.key, cert: certs.cert, allowHTTP1: true });
      } catch (e) {
        this.removeCertDir();
        throw e;
      }
      // A client that rejects our certificate (unknown CA) ends here; nothing to do.
      server.on('tlsClientError', () => undefined);
      // HTTP/1.1 (LWA, capabilities, media, control). HTTP/2 streams also raise 'request' once a
      // listener exists; they are served from 'stream' below, so those are ignored here.
      server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onHttp1Request(req, res));
    }
    this.server = server;
    server.on('error', () => undefined);
    server.on('sessionError', () => undefined);
    server.on('clientError', (_e: Error, socket: Socket) => socket.destroy());
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.set(session, { id: ++this.connectionSeq, lastStreamId: 0 });
      session.on('error', () => undefined);
      session.on('frameError', () => undefined);
      session.once('close', () => this.sessions.delete(session));
    });
    server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => this.onStream(stream, headers));

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      this.removeCertDir();
      throw e;
    });
    this.port = (server.address() as AddressInfo).port;
    this.url = this.h2c ? `http://127.0.0.1:${this.port}` : `https://localhost:${this.port}`;
    this.lwa = new LwaService({
      tokens: this.tokenStore,
      now: this.now,
      verificationUri: `${this.url}/sim/code`,
      codePairLifetime: this.options.lwa?.codePairExpiresIn,
      pollInterval: this.options.lwa?.pollInterval,
      rotateRefreshTokens: this.options.lwa?.rotateRefreshTokens,
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.recorder.close();
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    // The downchannels never end on their own, so a graceful close would wait forever.
    for (const session of this.sessions.keys()) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.removeCertDir();
  }

  events(): EventDocument[] {
    return this.recorder.received.map((e) => e.document);
  }

  receivedEvents(): readonly ReceivedEvent[] {
    return this.recorder.received;
  }

  forget(): void {
    this.recorder.forget();
  }

  waitForEvent(match: string | ((e: ReceivedEvent) => boolean), timeoutMs = 5000, from = 0): Promise<ReceivedEvent> {
    const predicate = typeof match === 'string' ? (e: ReceivedEvent) => e.name === match || e.document.event.header.name === match : match;
    return this.recorder.waitForEvent(predicate, timeoutMs, from, typeof match === 'string' ? match : 'matching the predicate');
  }

  waitForAudio(match: (audio: AudioStats) => boolean, options: { dialogRequestId?: string; timeoutMs?: number } = {}): Promise<ReceivedEvent> {
    const { dialogRequestId } = options;
    return this.recorder.waitForAudio(
      (e) => e.audio !== undefined && (dialogRequestId === undefined || e.document.event.header.dialogRequestId === dialogRequestId) && match(e.audio),
      options.timeoutMs ?? 5000,
    );
  }

  waitForDownchannel(options: { nth?: number; timeoutMs?: number } = {}): Promise<DownchannelInfo> {
    return this.recorder.waitForDownchannel(options.nth, options.timeoutMs ?? 5000, () => this.currentDownchannel()?.info);
  }

  pushDirective(directive: object | string, attachments: Readonly<Record<string, Buffer>> = {}): Delivery {
    const parts: ResponsePart[] = [
      { kind: 'json', body: directive },
      ...Object.entries(attachments).map(([contentId, data]): ResponsePart => ({ kind: 'attachment', contentId, data })),
    ];
    return this.deliver(parts, { queue: true });
  }

  approve(userCode: string): boolean {
    return this.lwaService().approve(userCode);
  }

  authorizationCode(request: AuthorizationCodeRequest): string {
    return this.lwaService().authorizationCode(request);
  }

  tagNext(tag: string): void {
    this.pendingTags.push(tag);
  }

  // ---------------------------------------------------------------------------------------------
  // Connections and routing

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // A client misbehaving must never crash the simulator: every stream has an error handler.
    stream.on('error', () => undefined);
    const session = stream.session;
    const info = session ? this.sessions.get(session) : undefined;
    if (info && stream.id !== undefined && stream.id > info.lastStreamId) info.lastStreamId = stream.id;
    this.route(h2Exchange(stream, headers, info?.id ?? 0));
  }

  private onHttp1Request(req: IncomingMessage, res: ServerResponse): void {
    if (req.httpVersionMajor >= 2) return; // served from 'stream'
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    let id = this.http1Connections.get(req.socket);
    if (id === undefined) {
      id = ++this.connectionSeq;
      this.http1Connections.set(req.socket, id);
    }
    this.route(http1Exchange(req, res, id));
  }

  private route(ex: Exchange): void {
    const path = ex.path;
    if (path === '/v20160207/directives') return this.handleDownchannel(this.context(ex, 'downchannel'));
    if (path === '/v20160207/events') return this.handleEvent(this.context(ex, 'event'));
    if (path === '/ping') return this.handlePing(this.context(ex, 'ping'));
    // §12: Amazon writes the path both /auth/O2/… and /auth/o2/….
    if (/^\/auth\/o2\/create\/codepair$/i.test(path)) return handleLwa(ex, this.lwaService(), 'codepair', this.replier(this.context(ex, 'lwa')));
    if (/^\/auth\/o2\/token$/i.test(path)) return handleLwa(ex, this.lwaService(), 'token', this.replier(this.context(ex, 'lwa')));
    if (path === '/v1/devices/@self/capabilities') {
      return handleCapabilities(ex, this.tokenStore, this.capabilities, this.replier(this.context(ex, 'capabilities')));
    }
    if (path.startsWith('/media/')) return handleMedia(ex, this.player.scenario.media ?? {}, this.replier(this.context(ex, 'media')));
    if (path.startsWith('/sim/')) return handleControl(ex, this.controlApi(), this.replier(this.context(ex, 'control')));
    const ctx = this.context(ex, 'other');
    ex.body.resume();
    this.respondJson(ctx, 404, { message: `no such path ${path}` });
  }

  /** Starts a request's bookkeeping: its record is written when the exchange is over. */
  private context(ex: Exchange, kind: RequestKind): RequestContext {
    const at = Date.now();
    let ctx: RequestContext;
    const record = new Promise<RequestRecord>((resolve) => {
      ex.onClose(() => {
        const headers = Object.fromEntries(
          Object.entries(ex.headers).filter(([k]) => k !== 'authorization' && k !== 'x-amz-access-token'),
        );
        resolve(
          this.recorder.record({
            at,
            connection: ex.connection,
            protocol: ex.protocol,
            method: ex.method,
            path: ex.path,
            status: ex.status,
            headers,
            kind,
            ...(ctx.event !== undefined ? { event: ctx.event } : {}),
            ...(ctx.audio !== undefined ? { audio: ctx.audio } : {}),
            durationMs: Date.now() - at,
            ...(ex.completed ? {} : { aborted: true }),
            ...(ctx.note !== undefined ? { note: ctx.note } : {}),
          }),
        );
      });
    });
    ctx = { ex, kind, at, record };
    return ctx;
  }

  // ---------------------------------------------------------------------------------------------
  // AVS: auth, errors

  private requestId(): string {
    // Shaped like AVS's (§1.5.1: `12ece9fffe4c89f7-000075ea-...`).
    return `${randomBytes(8).toString('hex')}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
  }

  /** §1.5.3: a non-multipart System.Exception body. */
  private respondException(ctx: RequestContext, status: number, description: string, code = EXCEPTION_CODES[status] ?? 'INTERNAL_SERVICE_EXCEPTION'): void {
    ctx.note ??= description;
    const body = { header: { namespace: 'System', name: 'Exception', messageId: randomUUID() }, payload: { code, description } };
    ctx.ex.respond(status, { 'content-type': JSON_TYPE, 'x-amzn-requestid': this.requestId() }, JSON.stringify(body));
  }

  private respondJson(ctx: RequestContext, status: number, body: object, headers: ResponseHeaders = {}): void {
    if (status >= 400 && ctx.note === undefined) ctx.note = JSON.stringify(body);
    ctx.ex.respond(status, { 'content-type': 'application/json;charset=UTF-8', ...headers }, JSON.stringify(body));
  }

  /** §1.3 / §1.5.4: a valid bearer token, or a 403 already sent. */
  private authorized(ctx: RequestContext): string | undefined {
    const token = bearerToken(ctx.ex.headers.authorization);
    const check = this.tokenStore.check(token);
    if (check === 'ok') return token;
    ctx.ex.body.resume();
    const why = { missing: 'No bearer token', unknown: 'Unknown access token', expired: 'Access token expired', revoked: 'Access token revoked' }[check];
    this.respondException(ctx, 403, why);
    return undefined;
  }

  /** AVS answers over HTTP/2 only (§1.1). */
  private http2Only(ctx: RequestContext): boolean {
    if (ctx.ex.protocol === 'h2') return true;
    ctx.ex.body.resume();
    this.respondException(ctx, 505, 'The AVS device API is served over HTTP/2 only');
    return false;
  }

  private methodIs(ctx: RequestContext, method: string): boolean {
    if (ctx.ex.method === method) return true;
    ctx.ex.body.resume();
    this.respondException(ctx, 405, `${ctx.ex.path} takes ${method}, not ${ctx.ex.method}`);
    return false;
  }

  /** A status fault armed for `target`: answered (403 also expires the token); true if one was. */
  private statusFault(ctx: RequestContext, target: FaultTarget, token: string): boolean {
    const status = this.faultState.takeStatus(target);
    if (status === undefined) return false;
    if (status === 403) this.tokenStore.expire(token);
    ctx.ex.body.resume();
    this.respondException(ctx, status, FAULT_DESCRIPTIONS[status]);
    return true;
  }

  /** Resolves after `ms` (at once for 0); never resolves once the simulator stopped. */
  private after(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  private schedule(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  // ---------------------------------------------------------------------------------------------
  // §1.9 ping

  private handlePing(ctx: RequestContext): void {
    if (!this.http2Only(ctx) || !this.methodIs(ctx, 'GET')) return;
    const token = this.authorized(ctx);
    if (token === undefined || this.statusFault(ctx, 'ping', token)) return;
    ctx.ex.body.resume();
    void this.after(this.faultState.takeDelay('ping')).then(() => {
      if (this.faultState.pingsStopped) this.heldPings.push(ctx.ex);
      else ctx.ex.respond(204, { 'x-amzn-requestid': this.requestId() });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // §1.5.1 / §1.6 downchannel

  private currentDownchannel(connection?: number): Downchannel | undefined {
    const open = this.downchannels.filter((d) => d.open);
    return (connection !== undefined ? open.filter((d) => d.connection === connection).pop() : undefined) ?? open.pop();
  }

  private handleDownchannel(ctx: RequestContext): void {
    if (!this.http2Only(ctx) || !this.methodIs(ctx, 'GET')) return;
    const token = this.authorized(ctx);
    if (token === undefined) return;
    ctx.ex.body.resume();
    // §1.6: one downchannel per connection. A second one is refused (400) and the first kept, so
    // the mistake shows in the device's log and in the trace instead of silently moving pushes.
    if (this.downchannels.some((d) => d.open && d.connection === ctx.ex.connection)) {
      this.respondException(ctx, 400, 'A downchannel is already open on this connection (one per connection, PROTOCOL.md §1.6)');
      return;
    }
    if (this.statusFault(ctx, 'downchannel', token)) return;
    void this.after(this.faultState.takeDelay('downchannel')).then(() => {
      if (ctx.ex.closed) return;
      const info = this.recorder.downchannelOpened(ctx.ex.connection);
      const downchannel = new Downchannel(ctx.ex, info);
      this.downchannels.push(downchannel);
      downchannel.onClose(() => {
        const i = this.downchannels.indexOf(downchannel);
        if (i >= 0) this.downchannels.splice(i, 1);
        this.recorder.downchannelClosed(info);
      });
      downchannel.start(this.requestId());
      for (const parts of this.pendingPushes.splice(0)) this.deliver(parts, { queue: true });
      if (info.nth === 1) this.scheduleTimedPushes();
    });
  }

  /**
   * Writes parts on the downchannel of `connection` (else the newest open one). With none open:
   * queued for the next downchannel, or dropped.
   */
  private deliver(parts: ResponsePart[], options: { connection?: number; queue: boolean }): Delivery {
    const downchannel = this.currentDownchannel(options.connection);
    const label = parts.flatMap((p) => (p.kind === 'json' ? [directiveLabel(p.body)] : []));
    let delivery: Delivery;
    let fault: BodyFault | undefined;
    if (downchannel) {
      fault = this.faultState.takeBody('downchannel');
      downchannel.push(parts, fault);
      delivery = 'sent';
    } else if (options.queue) {
      this.pendingPushes.push(parts);
      delivery = 'queued';
    } else {
      delivery = 'dropped';
    }
    this.recorder.note({
      type: 'push',
      at: Date.now(),
      ...(downchannel ? { connection: downchannel.connection } : {}),
      delivery,
      directives: label,
      ...(fault ? { fault: fault.kind === 'corrupt' ? `corrupt:${fault.mode}` : fault.kind } : {}),
    });
    return delivery;
  }

  private scheduleTimedPushes(): void {
    for (const push of this.player.timedPushes()) this.schedule(push.afterMs ?? 0, () => this.push(push, undefined));
  }

  private push(push: Push, trigger: EventDocument | undefined): void {
    const dialogRequestId = trigger?.event.header.dialogRequestId;
    const parts = renderReply(this.player.resolve(push), {
      now: this.now(),
      url: this.url,
      ...(typeof dialogRequestId === 'string' ? { dialogRequestId } : {}),
    });
    this.deliver(parts, { queue: true });
  }

  // ---------------------------------------------------------------------------------------------
  // §1.4 / §1.5 events

  private handleEvent(ctx: RequestContext): void {
    const { ex } = ctx;
    if (!this.http2Only(ctx) || !this.methodIs(ctx, 'POST')) return;
    const token = this.authorized(ctx);
    if (token === undefined) return;
    const boundary = /^\s*multipart\/form-data\b/i.test(ex.headers['content-type'] ?? '') ? boundaryFromContentType(ex.headers['content-type']) : undefined;
    if (!boundary) {
      ex.body.resume();
      this.respondException(ctx, 400, 'Content-Type must be multipart/form-data with a boundary (§1.3)');
      return;
    }
    // Everything the response does waits for the delay fault, in order.
    let gate = this.after(this.faultState.takeDelay('event'));
    const then = (fn: () => void) => {
      gate = gate.then(() => {
        if (!ex.closed) fn();
      });
    };
    let finished = false; // an answer (or an error) has been decided
    let document: EventDocument | undefined;
    let recognize: { dialogRequestId: string; profile: string; format: string } | undefined;
    let received: ReceivedEvent | undefined;
    let reply: { parts: () => ResponsePart[]; pushes: Push[] } | undefined;
    let special: 'verify-gateway' | 'add-or-update-report' | undefined;
    let stopCapture: StopCaptureTracker | undefined;
    let resolveCompleted: (r: RequestRecord) => void = () => undefined;
    void ctx.record.then((r) => resolveCompleted(r));

    const refuse = (status: number, description: string) => {
      finished = true;
      stopCapture?.cancel();
      then(() => {
        if (ex.headersSent) ex.reset(http2.constants.NGHTTP2_INTERNAL_ERROR);
        else this.respondException(ctx, status, description);
      });
    };

    readEventBody(ex.body, boundary, {
      onMetadata: (text) => {
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (e) {
          return refuse(400, `The metadata part is not JSON: ${(e as Error).message}`);
        }
        ctx.event = doc;
        const decoded = decodeEvent(doc);
        if (decoded.kind === 'invalid' && decoded.header === undefined) {
          return refuse(400, `Invalid event: ${formatDecodeError(decoded.error)}`);
        }
        document = doc as EventDocument;
        const name = `${document.event.header.namespace}.${document.event.header.name}`;
        // A Recognize's audio statistics exist from the start, so a test sees them grow live.
        if (name === 'SpeechRecognizer.Recognize') ctx.audio = { bytes: 0, chunks: 0, arrivals: [] };
        received = this.recorder.eventArrived({
          name,
          document,
          connection: ex.connection,
          decode: decoded.kind,
          ...(ctx.audio ? { audio: ctx.audio } : {}),
          completed: new Promise<RequestRecord>((resolve) => (resolveCompleted = resolve)),
        });
        if (decoded.kind === 'invalid') return refuse(400, `Invalid event: ${formatDecodeError(decoded.error)}`);
        if (this.statusFault(ctx, 'event', token)) {
          finished = true;
          return;
        }
        const isRecognize = name === 'SpeechRecognizer.Recognize';
        const tag = ex.headers['x-sim-tag'] ?? (isRecognize ? this.pendingTags.shift() : undefined);
        const { rule, count } = this.player.arrived(name, tag);
        const pushes = this.player.pushesAfter(name, count);
        if (isRecognize) {
          const payload = document.event.payload as { profile?: unknown; format?: unknown };
          recognize = {
            dialogRequestId: String(document.event.header.dialogRequestId),
            profile: String(payload.profile),
            format: String(payload.format),
          };
        }
        // §13.1: the post-connect steps of later SDKs, outside the eight interfaces' codecs.
        if (name === 'Alexa.ApiGateway.VerifyGateway') special = 'verify-gateway';
        if (name === 'Alexa.Discovery.AddOrUpdateReport') special = 'add-or-update-report';
        const dialogRequestId = recognize?.dialogRequestId;
        reply = {
          parts: () =>
            rule
              ? renderReply(this.player.resolve(rule), {
                  now: this.now(),
                  url: this.url,
                  ...(dialogRequestId !== undefined ? { dialogRequestId } : {}),
                  answersRecognize: isRecognize,
                })
              : [],
          pushes,
        };
      },
      onAudioStart: () => {
        ctx.audio ??= { bytes: 0, chunks: 0, arrivals: [] };
        if (finished || !recognize) return;
        // §1.7: the status right away, so the device may send its next event while it speaks.
        // Resettable, so a body that turns out malformed can still be refused with RST_STREAM.
        then(() => ex.sendHeaders(200, { 'content-type': AVS_CONTENT_TYPE, 'x-amzn-requestid': this.requestId() }, false, true));
        // §5.3 / §5.5: AVS ends capture for NEAR_FIELD and FAR_FIELD; CLOSE_TALK is ended by the device.
        if (recognize.profile === 'NEAR_FIELD' || recognize.profile === 'FAR_FIELD') {
          const { dialogRequestId } = recognize;
          stopCapture = new StopCaptureTracker(
            this.stopCapture.idleMs,
            (this.stopCapture.afterAudioMs / 1000) * (BYTES_PER_SECOND[recognize.format] ?? BYTES_PER_SECOND.AUDIO_L16_RATE_16000_CHANNELS_1),
            (ms, fn) => this.schedule(ms, fn),
            () => this.sendStopCapture(dialogRequestId, ex.connection),
          );
        }
      },
      onAudio: (bytes, newChunk) => {
        const audio = ctx.audio;
        if (!audio) return;
        const at = Date.now();
        audio.bytes += bytes;
        if (newChunk) {
          audio.chunks++;
          audio.firstChunkAt ??= at;
          audio.lastChunkAt = at;
          audio.arrivals.push({ at, bytes });
        } else if (audio.arrivals.length > 0) {
          audio.arrivals[audio.arrivals.length - 1].bytes += bytes;
        }
        if (received) this.recorder.audioArrived(received);
        stopCapture?.audio(bytes);
      },
      onEnd: (outcome) => {
        stopCapture?.cancel();
        if (outcome.aborted) {
          ctx.note ??= 'the client ended the stream before the body was complete';
          return;
        }
        if (finished) return;
        if (outcome.error) return refuse(400, `Bad Request: ${outcome.error}`);
        if (!outcome.metadata || !reply) return refuse(400, 'Bad Request: metadata part missing');
        if (recognize && !outcome.audio) return refuse(400, 'Bad Request: audio part missing');
        finished = true;
        const { parts, pushes } = reply;
        then(() => {
          if (special === 'verify-gateway') {
            // §13.1 step 1: 204 (a 200 would mean "the gateway is changing").
            ex.respond(204, { 'x-amzn-requestid': this.requestId() });
          } else if (special === 'add-or-update-report') {
            // §13.1 step 2: 202, then Alexa.EventProcessed on the downchannel.
            ex.respond(202, { 'x-amzn-requestid': this.requestId() });
            this.sendEventProcessed(document, ex.connection);
          } else {
            this.answer(ctx, parts(), recognize !== undefined);
          }
          // Pushes timed from this event come after its answer, never before it.
          for (const push of pushes) this.schedule(push.delayMs ?? 0, () => this.push(push, document));
        });
      },
    });
  }

  /** §1.5.1 / §1.5.2: 204 for nothing, else 200 multipart (a Recognize's headers already went). */
  private answer(ctx: RequestContext, parts: ResponsePart[], headersSent: boolean): void {
    const { ex } = ctx;
    if (parts.length === 0 && !headersSent) {
      ex.respond(204, { 'x-amzn-requestid': this.requestId() });
      return;
    }
    const fault = this.faultState.takeBody('event');
    const body = responseBody(parts, fault?.kind === 'corrupt' ? fault.mode : undefined);
    if (fault) ctx.note = fault.kind === 'corrupt' ? `corrupt:${fault.mode}` : 'truncate';
    if (!ex.headersSent) ex.sendHeaders(200, { 'content-type': AVS_CONTENT_TYPE, 'x-amzn-requestid': this.requestId() });
    ex.end(fault?.kind === 'truncate' ? body.subarray(0, Math.max(1, Math.floor(body.length / 2))) : body);
  }

  /** §5.5: StopCapture with the Recognize's dialogRequestId, on that connection's downchannel. */
  private sendStopCapture(dialogRequestId: string, connection: number): void {
    const directive = {
      directive: {
        header: { namespace: 'SpeechRecognizer', name: 'StopCapture', messageId: randomUUID(), dialogRequestId },
        payload: {},
      },
    };
    this.deliver([{ kind: 'json', body: directive }], { connection, queue: false });
  }

  /**
   * §13.1 step 2: `Alexa.EventProcessed` with the report's eventCorrelationToken in its header.
   * Shapes as in the AVS Device SDK's tests (alexa/avs-device-sdk:
   * CapabilityAgents/Alexa/test/AlexaInterfaceCapabilityAgentTest.cpp — the directive's header
   * carries `eventCorrelationToken`, payload `{}`; CapabilitiesDelegate/test/DiscoveryEventSenderTest.cpp
   * — the AddOrUpdateReport's header carries it, with payloadVersion "3").
   */
  private sendEventProcessed(report: EventDocument | undefined, connection: number): void {
    const token = report?.event.header.eventCorrelationToken;
    const directive = {
      directive: {
        header: {
          namespace: 'Alexa',
          name: 'EventProcessed',
          messageId: randomUUID(),
          ...(typeof token === 'string' ? { eventCorrelationToken: token } : {}),
        },
        payload: {},
      },
    };
    this.deliver([{ kind: 'json', body: directive }], { connection, queue: true });
  }

  // ---------------------------------------------------------------------------------------------
  // §12 LWA, §13 capabilities, media, control

  private controlApi(): ControlApi {
    return {
      approve: (userCode) => this.approve(userCode),
      tagNext: (tag) => this.tagNext(tag),
      pushDirective: (doc) => this.pushDirective(doc),
      records: () => this.recorder.records,
      faults: this.faults,
      dropConnectionsExcept: (port) => this.dropConnections(port),
    };
  }

  private lwaService(): LwaService {
    if (!this.lwa) throw new Error('the simulator has not started');
    return this.lwa;
  }

  /** JSON for the non-AVS endpoints; an error's body is the record's note. */
  private replier(ctx: RequestContext): Reply {
    return (status, body) => this.respondJson(ctx, status, body);
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  private makeFaults(): Faults {
    const state = this.faultState;
    const note = (fault: string) => this.recorder.note({ type: 'fault', at: Date.now(), fault });
    return {
      dropConnections: () => this.dropConnections(),
      goaway: (code = http2.constants.NGHTTP2_NO_ERROR) => {
        note(`goaway:${code}`);
        const sessions = [...this.sessions].filter(([s]) => !s.destroyed && !s.closed);
        // §1.10: streams up to the last one seen were processed; the device opens a new connection.
        for (const [session, info] of sessions) session.goaway(code, info.lastStreamId);
        return sessions.length;
      },
      resetDownchannel: (code = http2.constants.NGHTTP2_INTERNAL_ERROR) => {
        note(`resetDownchannel:${code}`);
        const open = this.downchannels.filter((d) => d.open);
        for (const d of open) d.reset(code);
        return open.length;
      },
      endDownchannel: () => {
        note('endDownchannel');
        const open = this.downchannels.filter((d) => d.open);
        for (const d of open) d.end();
        return open.length;
      },
      failNext: (status, options) => {
        note(`status:${status}`);
        state.addStatus(status, options);
      },
      delayNext: (ms, options) => {
        note(`delay:${ms}`);
        state.addDelay(ms, options);
      },
      truncateNext: (target = 'event') => {
        note(`truncate:${target}`);
        state.addBody(target, { kind: 'truncate' });
      },
      corruptNext: (target = 'event', mode = 'framing') => {
        note(`corrupt:${target}:${mode}`);
        state.addBody(target, { kind: 'corrupt', mode });
      },
      stopPings: () => {
        note('stopPings');
        state.pingsStopped = true;
      },
      resumePings: () => {
        note('resumePings');
        state.pingsStopped = false;
        for (const ex of this.heldPings.splice(0)) ex.respond(204, { 'x-amzn-requestid': this.requestId() });
      },
      clear: () => {
        note('clear');
        state.clear();
        for (const ex of this.heldPings.splice(0)) ex.respond(204, { 'x-amzn-requestid': this.requestId() });
      },
    };
  }

  /** Drops every TCP connection but the one on `exceptPort` (a control client's own). */
  private dropConnections(exceptPort?: number): number {
    this.recorder.note({ type: 'fault', at: Date.now(), fault: 'drop' });
    const sockets = [...this.sockets].filter((s) => exceptPort === undefined || s.remotePort !== exceptPort);
    // RST, as a lost link looks to the device: no GOAWAY, no TLS close_notify.
    for (const socket of sockets) socket.resetAndDestroy();
    return sockets.length;
  }

  private removeCertDir(): void {
    if (this.createdCertDir) rmSync(this.createdCertDir, { recursive: true, force: true });
    this.createdCertDir = undefined;
  }
}

/** `Namespace.Name messageId` of a directive document, for the trace. */
function directiveLabel(body: object | string): string {
  if (typeof body === 'string') return '(raw text)';
  const header = (body as { directive?: { header?: { namespace?: unknown; name?: unknown; messageId?: unknown } } }).directive?.header;
  return header ? `${String(header.namespace)}.${String(header.name)} ${String(header.messageId)}` : '(not a directive)';
}
