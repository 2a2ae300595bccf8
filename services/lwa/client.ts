// Login with Amazon requests (PROTOCOL.md §12), as the authorization machine's actors need them:
// each answer read into what it means for the machine (machines/authorization). Nothing here
// logs; error messages carry LWA's error code and description, never a token.
import { createHash, randomBytes } from 'node:crypto';
import type { CodePair, GrantFailure, PollResult, Tokens } from '../../machines/authorization/machine';
import { oneShot } from '../transport/one-shot';
import { LWA_URL } from './refresh';

export interface LwaClientOptions {
  readonly clientId: string;
  readonly productId: string;
  readonly deviceSerialNumber: string;
  /** LWA's base URL (the simulator's in tests). */
  readonly url?: string;
  readonly ca?: string | Buffer;
  /** §12.1: the page in the device's language (optional). */
  readonly locale?: string;
  /** §12.3: the SDK's request timeout. */
  readonly timeoutMs?: number;
}

/** §12.5: the device's PKCE pair; the challenge goes to the companion app, the verifier stays. */
export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
  readonly method: 'S256';
}

/** §12.5: base64url(SHA-256(verifier)). */
export const pkceChallenge = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier), method: 'S256' };
}

/** §12.1 scope_data */
export const scopeData = (o: Pick<LwaClientOptions, 'productId' | 'deviceSerialNumber'>): string =>
  JSON.stringify({ 'alexa:all': { productID: o.productId, productInstanceAttributes: { deviceSerialNumber: o.deviceSerialNumber } } });

interface LwaAnswer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** The failure a refresh or exchange answer means (§12.3). */
export class LwaGrantError extends Error implements GrantFailure {
  constructor(
    readonly kind: GrantFailure['kind'],
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LwaGrantError';
  }
}

const FATAL = new Set(['invalid_client', 'unauthorized_client', 'invalid_request', 'unsupported_grant_type', 'invalid_scope']);

export class LwaClient {
  constructor(private readonly options: LwaClientOptions) {}

  /** §12.1 step 1 */
  async requestCodePair(): Promise<CodePair> {
    const answer = await this.post('/auth/O2/create/codepair', {
      response_type: 'device_code',
      client_id: this.options.clientId,
      scope: 'alexa:all',
      scope_data: scopeData(this.options),
    });
    const j = answer.json;
    if (answer.status !== 200 || typeof j.user_code !== 'string' || typeof j.device_code !== 'string' || typeof j.verification_uri !== 'string') {
      throw new LwaGrantError(FATAL.has(String(j.error)) ? 'fatal' : 'transient', String(j.error ?? `http_${answer.status}`), `no code pair: ${describe(answer)}`);
    }
    return {
      userCode: j.user_code,
      deviceCode: j.device_code,
      verificationUri: j.verification_uri,
      expiresIn: typeof j.expires_in === 'number' ? j.expires_in : 600,
      interval: typeof j.interval === 'number' ? j.interval : 5,
    };
  }

  /** §12.1 step 3: one poll. */
  async pollToken(codePair: CodePair): Promise<PollResult> {
    let answer: LwaAnswer;
    try {
      answer = await this.post('/auth/O2/token', { grant_type: 'device_code', device_code: codePair.deviceCode, user_code: codePair.userCode });
    } catch (e) {
      return { kind: 'transient', message: (e as Error).message };
    }
    if (answer.status === 200) {
      const tokens = tokensOf(answer);
      return tokens ? { kind: 'tokens', tokens } : { kind: 'transient', message: 'a 200 without tokens' };
    }
    const error = String(answer.json.error ?? '');
    if (error === 'authorization_pending') return { kind: 'pending' };
    if (error === 'slow_down') return { kind: 'slow_down' };
    // §16 #9: both spellings of "this code pair is over".
    if (error === 'invalid_code_pair' || error === 'expired_token' || error === 'invalid_grant') return { kind: 'expired' };
    if (FATAL.has(error)) return { kind: 'fatal', code: error, message: describe(answer) };
    return { kind: 'transient', message: describe(answer) };
  }

  /** §12.4 step 4 / §12.5 step 5: `grant_type=authorization_code`, with the PKCE verifier when there is one. */
  async exchangeCode(request: { code: string; redirectUri: string; clientId: string; codeVerifier?: string }): Promise<Tokens> {
    return this.grant({
      grant_type: 'authorization_code',
      code: request.code,
      redirect_uri: request.redirectUri,
      client_id: request.clientId,
      ...(request.codeVerifier ? { code_verifier: request.codeVerifier } : {}),
    });
  }

  /** §12.3 `grant_type=refresh_token`. */
  async refresh(refreshToken: string): Promise<Tokens> {
    return this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: this.options.clientId });
  }

  private async grant(params: Record<string, string>): Promise<Tokens> {
    let answer: LwaAnswer;
    try {
      answer = await this.post('/auth/O2/token', params);
    } catch (e) {
      throw new LwaGrantError('transient', 'network', (e as Error).message);
    }
    const tokens = answer.status === 200 ? tokensOf(answer) : undefined;
    if (tokens) return tokens;
    const error = String(answer.json.error ?? `http_${answer.status}`);
    // §12.2 / §12.3: invalid_grant — revoked (deregistered) or a bad code; configuration errors are fatal; 5xx is transient.
    const kind: GrantFailure['kind'] = error === 'invalid_grant' ? 'revoked' : FATAL.has(error) ? 'fatal' : 'transient';
    throw new LwaGrantError(kind, error, describe(answer));
  }

  private async post(path: string, params: Record<string, string>): Promise<LwaAnswer> {
    const res = await oneShot({
      url: `${this.options.url ?? LWA_URL}${path}`,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(this.options.locale ? { 'accept-language': this.options.locale } : {}),
      },
      body: new URLSearchParams(params).toString(),
      ca: this.options.ca,
      timeoutMs: this.options.timeoutMs ?? 60_000,
    });
    let json: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(res.body);
      if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    }
    return { status: res.status, json };
  }
}

function tokensOf(answer: LwaAnswer): Tokens | undefined {
  const j = answer.json;
  if (typeof j.access_token !== 'string') return undefined;
  return {
    accessToken: j.access_token,
    ...(typeof j.refresh_token === 'string' ? { refreshToken: j.refresh_token } : {}),
    expiresIn: typeof j.expires_in === 'number' ? j.expires_in : 3600,
  };
}

/** LWA's error code and description — the only parts of an answer that may be shown. */
function describe(answer: LwaAnswer): string {
  const code = typeof answer.json.error === 'string' ? answer.json.error : `HTTP ${answer.status}`;
  const text = typeof answer.json.error_description === 'string' ? `: ${answer.json.error_description}` : '';
  return `${code}${text}`;
}
