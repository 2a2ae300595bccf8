// The device's Login with Amazon side (PROTOCOL.md §12): the authorization machine with its LWA
// requests, its token store in the device database (the refresh token, never logged), and the
// TokenSource the connection asks — which waits while the device is not linked (the connection
// stays in AUTHORIZING) and turns a 403 from AVS into a refresh (§1.5.4, §12.3).
import { createActor, fromPromise, type Actor, type ActorOptions, type AnyActorLogic } from 'xstate';
import {
  authorizationMachine,
  type AuthorizationEmitted,
  type CodePair,
  type LinkedBy,
  type PollResult,
  type Tokens,
} from '../../machines/authorization/machine';
import { LwaClient, newPkce, pkceChallenge, type LwaClientOptions, type Pkce } from '../../services/lwa/client';
import type { Logger } from '../../services/log/logger';
import type { DeviceDatabase } from '../../services/store/database';
import type { KeyValueStore } from '../../services/store/kv';
import type { TokenSource } from '../../services/transport';

export const TOKEN_KEYS = {
  refreshToken: 'lwa.refreshToken',
  linkedBy: 'lwa.linkedBy',
  pkceVerifier: 'lwa.pkceVerifier',
} as const;

/** What a companion app needs from the device (§12.5 step 2). */
export interface RegistrationInfo {
  readonly productId: string;
  readonly deviceSerialNumber: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: 'S256';
  readonly sessionId: string;
}

export interface AuthorizationOptions extends LwaClientOptions {
  readonly store: KeyValueStore;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly clock?: ActorOptions<AnyActorLogic>['clock'];
  readonly inspect?: ActorOptions<AnyActorLogic>['inspect'];
}

const LINKED_BY: readonly LinkedBy[] = ['CODE_BASED_LINKING', 'COMPANION_APP', 'COMPANION_SITE', 'LOCAL_APP'];

export class DeviceAuthorization implements TokenSource {
  readonly actor: Actor<typeof authorizationMachine>;
  private readonly lwa: LwaClient;
  private expiresAt = 0;
  private readonly now: () => number;
  private waiters: { resolve: (token: string) => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly options: AuthorizationOptions) {
    this.now = options.now ?? Date.now;
    this.lwa = new LwaClient(options);
    const log = options.logger.child({ module: 'authorization' });
    const store = options.store;
    const machine = authorizationMachine.provide({
      actors: {
        requestCodePair: fromPromise<CodePair>(() => this.lwa.requestCodePair()),
        pollToken: fromPromise<PollResult, { codePair: CodePair }>(({ input }) => this.lwa.pollToken(input.codePair)),
        exchangeCode: fromPromise<Tokens, { code: string; redirectUri: string; clientId: string }>(({ input }) =>
          // §12.5: the verifier of the challenge the companion app was given.
          this.lwa.exchangeCode({ ...input, ...(store.get(TOKEN_KEYS.pkceVerifier) ? { codeVerifier: store.get(TOKEN_KEYS.pkceVerifier) } : {}) }),
        ),
        refresh: fromPromise<Tokens, { refreshToken: string }>(({ input }) => this.lwa.refresh(input.refreshToken)),
      },
    });
    const kept = store.get(TOKEN_KEYS.linkedBy);
    this.actor = createActor(machine, {
      input: {
        ...(store.get(TOKEN_KEYS.refreshToken) ? { refreshToken: store.get(TOKEN_KEYS.refreshToken) } : {}),
        ...(kept && (LINKED_BY as readonly string[]).includes(kept) ? { linkedBy: kept as LinkedBy } : {}),
      },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.actor.on('TOKENS.CHANGED', (e: Extract<AuthorizationEmitted, { type: 'TOKENS.CHANGED' }>) => {
      this.expiresAt = this.now() + e.expiresIn * 1000;
      // §12.2: a new refresh token replaces the kept one; the access token lives in memory only.
      if (e.refreshToken) store.set(TOKEN_KEYS.refreshToken, e.refreshToken);
      store.set(TOKEN_KEYS.linkedBy, e.linkedBy);
      log.info({ linkedBy: e.linkedBy, expiresIn: e.expiresIn }, 'tokens');
      for (const w of this.waiters.splice(0)) w.resolve(e.accessToken);
    });
    this.actor.on('CODE_PAIR.READY', (e) => log.info({ verificationUri: e.verificationUri, userCode: e.userCode }, 'code-based linking: waiting for the user'));
    this.actor.on('UNLINKED', (e) => log.warn({ reason: e.reason }, 'not linked'));
    this.actor.subscribe({
      next: (s) => {
        if (s.matches('ERROR')) for (const w of this.waiters.splice(0)) w.reject(new Error(`authorization failed: ${s.context.error ?? 'unknown error'}`));
      },
      error: (e) => log.error({ error: String(e) }, 'the authorization machine failed'),
    });
  }

  start(): this {
    this.actor.start();
    return this;
  }

  stop(): void {
    this.actor.stop();
    for (const w of this.waiters.splice(0)) w.reject(new Error('the device stopped'));
  }

  /** The access token while it is valid (a minute to spare), when linked. */
  current(): string | undefined {
    const s = this.actor.getSnapshot();
    const token = s.context.accessToken;
    return s.matches('LINKED') && token && this.now() < this.expiresAt - 60_000 ? token : undefined;
  }

  /**
   * A fresh access token: AVS refused the one in hand (or there is none). Linked: a refresh now.
   * Not linked yet: it waits until the device is (the connection waits in AUTHORIZING).
   */
  refresh(): Promise<string> {
    const s = this.actor.getSnapshot();
    if (s.matches('ERROR') && !s.context.refreshToken) return Promise.reject(new Error(`authorization failed: ${s.context.error ?? 'unknown error'}`));
    return new Promise<string>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (s.matches('LINKED') || s.matches('ERROR')) this.actor.send({ type: 'TOKEN.REJECTED' });
    });
  }

  /** §12.1: start code-based linking (the code pair comes as CODE_PAIR.READY). */
  login(): void {
    this.actor.send({ type: 'USER.LOGIN' });
  }

  /** §12.5 step 2: what the companion app asks for; the verifier stays here, kept across restarts. */
  registrationInfo(): RegistrationInfo {
    let verifier = this.options.store.get(TOKEN_KEYS.pkceVerifier);
    let pkce: Pkce;
    if (verifier) {
      pkce = { verifier, challenge: pkceChallenge(verifier), method: 'S256' };
    } else {
      pkce = newPkce();
      verifier = pkce.verifier;
      this.options.store.set(TOKEN_KEYS.pkceVerifier, verifier);
    }
    return {
      productId: this.options.productId,
      deviceSerialNumber: this.options.deviceSerialNumber,
      codeChallenge: pkce.challenge,
      codeChallengeMethod: 'S256',
      sessionId: pkce.challenge.slice(0, 16),
    };
  }

  /** §12.4 / §12.5 step 4: the authorization code a companion sent back. */
  authorize(request: { code: string; redirectUri: string; clientId: string }, by: 'COMPANION_APP' | 'COMPANION_SITE' = 'COMPANION_APP'): void {
    this.actor.send({ type: 'USER.AUTHORIZE', ...request, by });
  }

  /** Tokens obtained by a local app (LWA SDK) or pushed by the companion site. */
  setTokens(tokens: Tokens, by: 'LOCAL_APP' | 'COMPANION_SITE' = 'LOCAL_APP'): void {
    this.actor.send({ type: 'USER.TOKENS', tokens, by });
  }

  logout(): void {
    this.actor.send({ type: 'USER.LOGOUT' });
  }
}


/** Deregistration (§12.2): the tokens and every piece of the customer's data go. */
export function wipeCustomerData(db: DeviceDatabase): void {
  db.transaction(() => {
    db.exec('DELETE FROM kv; DELETE FROM alerts; DELETE FROM outbox;');
  })();
}
