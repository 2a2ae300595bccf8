// LWA tokens the simulator issues and checks (PROTOCOL.md §12.1–§12.3). Time comes from the
// injected clock, so a test can expire a token by moving the clock instead of waiting an hour.
import { randomBytes } from 'node:crypto';

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Lifetime of the access token in seconds (§12.2: 3600 in practice). */
  readonly expiresIn: number;
}

/** Why a bearer token is refused (§1.5.4: all of them are 403 UNAUTHORIZED_REQUEST_EXCEPTION). */
export type TokenCheck = 'ok' | 'missing' | 'unknown' | 'expired' | 'revoked';

interface AccessEntry {
  readonly refreshToken: string;
  readonly expiresAt: number;
  expired: boolean;
}

export class TokenStore {
  private readonly access = new Map<string, AccessEntry>();
  private readonly refresh = new Map<string, { revoked: boolean; replaced: boolean }>();

  constructor(
    private readonly now: () => number,
    /** Seconds an access token lives. */
    readonly accessTokenLifetime = 3600,
  ) {}

  /** A new access token and a new refresh token (what a completed linking hands out). */
  issue(): TokenPair {
    const refreshToken = `Atzr|sim-${randomBytes(24).toString('base64url')}`;
    this.refresh.set(refreshToken, { revoked: false, replaced: false });
    return this.accessFor(refreshToken);
  }

  /** §12.3: a new access token for a valid refresh token; the refresh token stays (or rotates). */
  refreshWith(refreshToken: string, rotate = false): TokenPair | undefined {
    const entry = this.refresh.get(refreshToken);
    if (!entry || entry.revoked || entry.replaced) return undefined;
    if (!rotate) return this.accessFor(refreshToken);
    // §12.2: a new refresh token replaces the old one, which can no longer refresh (the access
    // tokens already issued keep working until they expire).
    entry.replaced = true;
    return this.issue();
  }

  /** Makes an access token expired now (as if its hour had passed). */
  expire(accessToken: string): void {
    const entry = this.access.get(accessToken);
    if (entry) entry.expired = true;
  }

  /**
   * Revokes a refresh token (§12.2: the user deregistered the device): refreshing with it gives
   * `invalid_grant`, and the access tokens issued with it stop working too.
   */
  revoke(refreshToken: string): void {
    const entry = this.refresh.get(refreshToken);
    if (entry) entry.revoked = true;
  }

  check(accessToken: string | undefined): TokenCheck {
    if (!accessToken) return 'missing';
    const entry = this.access.get(accessToken);
    if (!entry) return 'unknown';
    if (this.refresh.get(entry.refreshToken)?.revoked) return 'revoked';
    if (entry.expired || this.now() >= entry.expiresAt) return 'expired';
    return 'ok';
  }

  private accessFor(refreshToken: string): TokenPair {
    const accessToken = `Atza|sim-${randomBytes(24).toString('base64url')}`;
    this.access.set(accessToken, { refreshToken, expiresAt: this.now() + this.accessTokenLifetime * 1000, expired: false });
    return { accessToken, refreshToken, expiresIn: this.accessTokenLifetime };
  }
}

/** The token of an `authorization: Bearer <token>` header (scheme case-insensitive). */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}
