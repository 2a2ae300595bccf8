// Login with Amazon token refresh (PROTOCOL.md §12.3): the TokenSource the transport asks for a
// fresh access token (before expiry, and when AVS answers 403). Linking itself — code pairs,
// companion flows, the token store — is the authorization machine's (§12.1, §12.4, §12.5).
import type { TokenSource } from '../transport/tokens';
import { oneShot } from '../transport/one-shot';

export const LWA_URL = 'https://api.amazon.com';

/** An OAuth error from LWA (`invalid_grant`: the refresh token was revoked — relink, §12.2). */
export class LwaError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LwaError';
    void this.stack;
  }
}

export interface LwaRefreshOptions {
  readonly clientId: string;
  readonly refreshToken: string;
  /** An access token already in hand, and when it expires (ms since the epoch). */
  readonly accessToken?: string;
  readonly expiresAt?: number;
  /** LWA's base URL (the simulator's in tests). */
  readonly url?: string;
  readonly ca?: string | Buffer;
  readonly now?: () => number;
  /** §12.3: refresh this long before expiry (the SDK: 10 minutes); the token stays usable until then and a minute more. */
  readonly refreshAheadMs?: number;
  /** A new refresh token from LWA replaces the stored one (§12.2): persist it here. */
  readonly onTokens?: (tokens: { accessToken: string; refreshToken: string; expiresAt: number }) => void;
}

interface TokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  error?: unknown;
  error_description?: unknown;
}

export class LwaTokenSource implements TokenSource {
  private accessToken: string | undefined;
  private expiresAt: number;
  private refreshToken: string;
  private inFlight: Promise<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: LwaRefreshOptions) {
    this.accessToken = options.accessToken;
    this.expiresAt = options.expiresAt ?? 0;
    this.refreshToken = options.refreshToken;
    this.now = options.now ?? Date.now;
    if (this.accessToken && this.expiresAt > 0) this.scheduleAhead();
  }

  /** The access token while it is valid (with a minute to spare for the request that carries it). */
  current(): string | undefined {
    return this.accessToken && this.now() < this.expiresAt - 60_000 ? this.accessToken : undefined;
  }

  /** Stops refreshing ahead of expiry. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * §12.3: refresh before the token expires (the SDK: 10 minutes ahead); a failed attempt is
   * tried again after 30 s, and a 403 from AVS asks at once (`refresh`).
   */
  private scheduleAhead(): void {
    this.stop();
    const due = this.expiresAt - (this.options.refreshAheadMs ?? 10 * 60_000) - this.now();
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {
        this.timer = setTimeout(() => this.scheduleAhead(), 30_000);
        this.timer.unref();
      });
    }, Math.max(0, due));
    this.timer.unref();
  }

  /** §12.3 `grant_type=refresh_token`; concurrent callers share one request. */
  refresh(): Promise<string> {
    this.inFlight ??= this.requestToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async requestToken(): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.refreshToken, client_id: this.options.clientId }).toString();
    const res = await oneShot({
      url: `${this.options.url ?? LWA_URL}/auth/O2/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      ca: this.options.ca,
      timeoutMs: 60_000, // §12.3: the SDK's request timeout
    });
    let json: TokenResponse;
    try {
      json = JSON.parse(res.body) as TokenResponse;
    } catch {
      throw new LwaError('invalid_response', `LWA answered ${res.status} with a body that is not JSON`, res.status);
    }
    if (res.status !== 200 || typeof json.access_token !== 'string') {
      const code = typeof json.error === 'string' ? json.error : `http_${res.status}`;
      const description = typeof json.error_description === 'string' ? `: ${json.error_description}` : '';
      throw new LwaError(code, `LWA refused the refresh (${code}${description})`, res.status);
    }
    const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : 3600;
    this.accessToken = json.access_token;
    this.expiresAt = this.now() + expiresIn * 1000;
    if (typeof json.refresh_token === 'string') this.refreshToken = json.refresh_token;
    this.options.onTokens?.({ accessToken: this.accessToken, refreshToken: this.refreshToken, expiresAt: this.expiresAt });
    this.scheduleAhead();
    return this.accessToken;
  }
}
