// Login with Amazon as the simulator serves it (PROTOCOL.md §12): code-based linking (§12.1),
// refresh (§12.3) and the authorization-code grant of the companion flows (§12.4, §12.5, with
// S256 PKCE). Pure logic over an injected clock; the simulator turns the results into HTTP.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { TokenStore } from './tokens';

export interface LwaOptions {
  readonly tokens: TokenStore;
  readonly now: () => number;
  /** The `verification_uri` handed out with a code pair. */
  readonly verificationUri: string;
  /** §12.1 `expires_in` of a code pair, seconds. */
  readonly codePairLifetime?: number;
  /** §12.1 `interval`: the least seconds between two polls of one code pair. */
  readonly pollInterval?: number;
  /** Hand out a new refresh token on every refresh (§12.2 allows it) instead of keeping it. */
  readonly rotateRefreshTokens?: boolean;
}

/** What to answer: §12.1 OAuth errors are HTTP 400 `{"error", "error_description"}`. */
export interface LwaResponse {
  readonly status: number;
  readonly body: Readonly<Record<string, string | number>>;
}

export interface AuthorizationCodeRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  /** base64url(SHA-256(code_verifier)), §12.5; when given, the token request must prove it. */
  readonly codeChallenge?: string;
}

interface CodePair {
  readonly userCode: string;
  readonly deviceCode: string;
  readonly expiresAt: number;
  readonly interval: number;
  lastPollAt?: number;
  approved: boolean;
}

interface AuthorizationCode extends AuthorizationCodeRequest {
  readonly expiresAt: number;
}

/** Codes people type: no 0/O or 1/I. */
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const AUTHORIZATION_CODE_LIFETIME_MS = 600_000;

const oauthError = (error: string, description: string): LwaResponse => ({
  status: 400,
  body: { error, error_description: description },
});

export class LwaService {
  private readonly codePairs = new Map<string, CodePair>(); // by device_code
  private readonly authorizationCodes = new Map<string, AuthorizationCode>();
  private readonly codePairLifetime: number;
  private readonly pollInterval: number;

  constructor(private readonly options: LwaOptions) {
    this.codePairLifetime = options.codePairLifetime ?? 600;
    this.pollInterval = options.pollInterval ?? 5;
  }

  /** `POST /auth/O2/create/codepair` (§12.1 step 1). */
  createCodePair(params: Readonly<Record<string, string>>): LwaResponse {
    if (params.response_type !== 'device_code') {
      return oauthError('unsupported_response_type', 'response_type must be device_code');
    }
    if (!params.client_id) return oauthError('invalid_request', 'client_id is missing');
    if (!(params.scope ?? '').split(/\s+/).includes('alexa:all')) return oauthError('invalid_scope', 'scope must be alexa:all');
    if (!validScopeData(params.scope_data)) {
      return oauthError(
        'invalid_request',
        'scope_data must be JSON {"alexa:all":{"productID":…,"productInstanceAttributes":{"deviceSerialNumber":…}}}',
      );
    }
    const now = this.options.now();
    let userCode: string;
    do userCode = newUserCode();
    while (this.findByUserCode(userCode));
    const pair: CodePair = {
      userCode,
      deviceCode: randomUUID(),
      expiresAt: now + this.codePairLifetime * 1000,
      interval: this.pollInterval,
      approved: false,
    };
    this.codePairs.set(pair.deviceCode, pair);
    return {
      status: 200,
      body: {
        user_code: pair.userCode,
        device_code: pair.deviceCode,
        verification_uri: this.options.verificationUri,
        expires_in: this.codePairLifetime,
        interval: pair.interval,
      },
    };
  }

  /** The user entered `userCode` on the verification page and signed in. False: unknown or expired. */
  approve(userCode: string): boolean {
    const pair = this.findByUserCode(userCode.trim().toUpperCase());
    if (!pair || this.options.now() >= pair.expiresAt) return false;
    pair.approved = true;
    return true;
  }

  /** Mints the code a companion app or site would receive from LWA (§12.4 step 3, §12.5 step 3). */
  authorizationCode(request: AuthorizationCodeRequest): string {
    const code = `ANsim${randomBytes(15).toString('base64url')}`;
    this.authorizationCodes.set(code, { ...request, expiresAt: this.options.now() + AUTHORIZATION_CODE_LIFETIME_MS });
    return code;
  }

  /** `POST /auth/O2/token` (§12.1 step 3, §12.3, §12.4 step 4, §12.5 step 5). */
  token(params: Readonly<Record<string, string>>): LwaResponse {
    switch (params.grant_type) {
      case 'device_code':
        return this.pollCodePair(params);
      case 'refresh_token': {
        if (!params.refresh_token) return oauthError('invalid_request', 'refresh_token is missing');
        const pair = this.options.tokens.refreshWith(params.refresh_token, this.options.rotateRefreshTokens);
        return pair ? tokenResponse(pair.accessToken, pair.refreshToken, pair.expiresIn) : oauthError('invalid_grant', 'the refresh token is invalid or revoked');
      }
      case 'authorization_code':
        return this.exchangeCode(params);
      case undefined:
      case '':
        return oauthError('invalid_request', 'grant_type is missing');
      default:
        return oauthError('unsupported_grant_type', `grant_type ${params.grant_type} is not supported`);
    }
  }

  private pollCodePair(params: Readonly<Record<string, string>>): LwaResponse {
    if (!params.device_code) return oauthError('invalid_request', 'device_code is missing');
    const pair = this.codePairs.get(params.device_code);
    const now = this.options.now();
    if (!pair || (params.user_code !== undefined && params.user_code !== pair.userCode)) {
      return oauthError('invalid_code_pair', 'unknown code pair');
    }
    if (now >= pair.expiresAt) {
      this.codePairs.delete(pair.deviceCode);
      return oauthError('invalid_code_pair', 'the code pair has expired');
    }
    // §12.1: polls must be `interval` seconds apart; the first poll may come at once.
    const tooSoon = pair.lastPollAt !== undefined && now - pair.lastPollAt < pair.interval * 1000;
    pair.lastPollAt = now;
    if (tooSoon) return oauthError('slow_down', `poll at most every ${pair.interval} s`);
    if (!pair.approved) return oauthError('authorization_pending', 'the user has not entered the code yet');
    this.codePairs.delete(pair.deviceCode);
    const tokens = this.options.tokens.issue();
    return tokenResponse(tokens.accessToken, tokens.refreshToken, tokens.expiresIn);
  }

  private exchangeCode(params: Readonly<Record<string, string>>): LwaResponse {
    if (!params.code) return oauthError('invalid_request', 'code is missing');
    const code = this.authorizationCodes.get(params.code);
    if (!code || this.options.now() >= code.expiresAt) return oauthError('invalid_grant', 'the authorization code is invalid or expired');
    if (params.client_id !== code.clientId) return oauthError('invalid_grant', 'the authorization code was issued to another client_id');
    if (params.redirect_uri !== code.redirectUri) return oauthError('invalid_grant', 'redirect_uri does not match the authorization request');
    if (code.codeChallenge !== undefined) {
      if (!params.code_verifier) return oauthError('invalid_grant', 'code_verifier is missing');
      const challenge = createHash('sha256').update(params.code_verifier).digest('base64url');
      if (challenge !== code.codeChallenge) return oauthError('invalid_grant', 'code_verifier does not match the code challenge');
    }
    this.authorizationCodes.delete(params.code);
    const tokens = this.options.tokens.issue();
    return tokenResponse(tokens.accessToken, tokens.refreshToken, tokens.expiresIn);
  }

  private findByUserCode(userCode: string): CodePair | undefined {
    for (const pair of this.codePairs.values()) if (pair.userCode === userCode) return pair;
    return undefined;
  }
}

const tokenResponse = (accessToken: string, refreshToken: string, expiresIn: number): LwaResponse => ({
  status: 200,
  body: { access_token: accessToken, refresh_token: refreshToken, token_type: 'bearer', expires_in: expiresIn },
});

function newUserCode(): string {
  const bytes = randomBytes(6);
  return Array.from(bytes, (b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join('');
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

function validScopeData(text: string | undefined): boolean {
  if (!text) return false;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return false;
  }
  const all = isObject(doc) ? doc['alexa:all'] : undefined;
  if (!isObject(all) || typeof all.productID !== 'string') return false;
  const attributes = all.productInstanceAttributes;
  return isObject(attributes) && typeof attributes.deviceSerialNumber === 'string';
}

/**
 * The parameters of an LWA request body: form-urlencoded (the OAuth standard), or JSON, which
 * the Java sample sends for authorization_code (§12.5). Non-string JSON values are ignored.
 */
export function lwaParams(contentType: string | undefined, body: string): Record<string, string> | undefined {
  if (/^\s*application\/json/i.test(contentType ?? '')) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return undefined;
    }
    if (!isObject(doc)) return undefined;
    return Object.fromEntries(Object.entries(doc).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  return Object.fromEntries(new URLSearchParams(body));
}
