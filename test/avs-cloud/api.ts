// The simulator's public API: its options and what a running simulator offers (README.md).
import type { CapabilitiesDocument } from './capabilities';
import type { Faults } from './faults';
import type { AuthorizationCodeRequest } from './lwa';
import type { AudioStats, DownchannelInfo, EventDocument, ReceivedEvent, RequestRecord } from './recorder';
import type { Scenario } from './scenario';
import type { TokenCheck, TokenPair } from './tokens';

export interface StopCaptureOptions {
  /** §5.5: StopCapture once no audio arrived for this long (default 300 ms). */
  readonly idleMs?: number;
  /** …or once this much audio arrived (default 1500 ms: 48000 bytes of 16 kHz 16-bit PCM). */
  readonly afterAudioMs?: number;
}

export interface LwaSettings {
  /** §12.1 code pair `expires_in`, seconds (default 600). */
  readonly codePairExpiresIn?: number;
  /** §12.1 `interval`, seconds (default 5). */
  readonly pollInterval?: number;
  /** §12.2 access token lifetime, seconds (default 3600). */
  readonly accessTokenLifetime?: number;
  /** A new refresh token on every refresh (default: the same one is kept). */
  readonly rotateRefreshTokens?: boolean;
}

export interface SimulatorOptions {
  /** Default 0: a free port. The host is always 127.0.0.1. */
  readonly port?: number;
  /** HTTP/2 with prior knowledge, no TLS (LWA and capabilities are then served over h2c too). */
  readonly h2c?: boolean;
  /** Default: test/fixtures/avs-cloud/default.json. */
  readonly scenario?: Scenario;
  /** A JSON-lines trace: every request record, downchannel opened/closed, pushes, faults. */
  readonly tracePath?: string;
  /** Where ca.pem and the server certificate go (default: a fresh temporary folder, removed at stop). */
  readonly certDir?: string;
  readonly stopCapture?: StopCaptureOptions;
  /** The clock of tokens, code pairs and `$now` (default Date.now), so expiry needs no waiting. */
  readonly now?: () => number;
  readonly lwa?: LwaSettings;
  /** The openssl command (default `openssl`). */
  readonly openssl?: string;
}

export interface TokenControl {
  /** A new access + refresh token pair, as a completed linking hands out. */
  issue(): TokenPair;
  /** Makes an access token expired now. */
  expire(accessToken: string): void;
  /** Revokes a refresh token (and the access tokens issued with it). */
  revoke(refreshToken: string): void;
  check(accessToken: string | undefined): TokenCheck;
}

export type Delivery = 'sent' | 'queued' | 'dropped';

export interface Simulator {
  /** `https://localhost:PORT` (TLS) or `http://127.0.0.1:PORT` (h2c). */
  readonly url: string;
  readonly port: number;
  readonly h2c: boolean;
  /** The CA certificate to trust (TLS only): its file and its PEM text. */
  readonly caPath?: string;
  readonly ca?: string;
  /** An access token valid from the start, so a client can connect without LWA. */
  readonly defaultToken: string;
  readonly tokens: TokenControl;
  readonly faults: Faults;
  /** Every finished request, in order of completion. */
  readonly records: readonly RequestRecord[];
  /** The capabilities documents accepted by `PUT /v1/devices/@self/capabilities` (§13). */
  readonly capabilities: readonly CapabilitiesDocument[];
  /** The event metadata documents received, in arrival order (a Recognize as soon as its metadata is in). */
  events(): EventDocument[];
  /** The same, with connection, decode outcome, live audio statistics and the finished record. */
  receivedEvents(): readonly ReceivedEvent[];
  /** Drops the records and received events kept so far (a long run's memory); `seq` and `index` go on counting. */
  forget(): void;
  /**
   * The first event (from index `from` of `events()`, default 0) named `Namespace.Name` (or just
   * `Name`), or matching a predicate; rejects after `timeoutMs` (default 5000).
   */
  waitForEvent(match: string | ((e: ReceivedEvent) => boolean), timeoutMs?: number, from?: number): Promise<ReceivedEvent>;
  /**
   * The Recognize (or other event with audio) whose audio so far satisfies `match`, e.g.
   * `(a) => a.bytes >= 6400`; checked as each chunk arrives. Optionally only that dialogRequestId's.
   */
  waitForAudio(match: (audio: AudioStats) => boolean, options?: { dialogRequestId?: string; timeoutMs?: number }): Promise<ReceivedEvent>;
  /** The `nth` downchannel since start once it opened; without `nth`, one open now or the next to open. */
  waitForDownchannel(options?: { nth?: number; timeoutMs?: number }): Promise<DownchannelInfo>;
  /**
   * Pushes a directive (a document, or raw text for malformed-input tests) and attachments on
   * the newest open downchannel; queued for the next downchannel when none is open.
   */
  pushDirective(directive: object | string, attachments?: Readonly<Record<string, Buffer>>): Delivery;
  /** The user entered this code on the verification page (§12.1). False: unknown or expired. */
  approve(userCode: string): boolean;
  /** Mints an authorization code for the companion flows (§12.4, §12.5). */
  authorizationCode(request: AuthorizationCodeRequest): string;
  /** The tag (README: scenario tags) of the next Recognize that has no `x-sim-tag` header. */
  tagNext(tag: string): void;
  stop(): Promise<void>;
}
