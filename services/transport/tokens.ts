// Where the transport gets its bearer token (§1.3). Login with Amazon (§12) implements this; a
// fixed token serves tests and devices whose token is managed elsewhere.

export interface TokenSource {
  /** The access token to use now, if there is one. */
  current(): string | undefined;
  /** A fresh access token (AVS refused the current one, or there is none yet); rejects when none can be had. */
  refresh(): Promise<string>;
}

/** A token given from outside; "refresh" can only hand out the same one, or the next one set. */
export class StaticTokenSource implements TokenSource {
  constructor(private token: string | undefined) {}

  current(): string | undefined {
    return this.token;
  }

  set(token: string | undefined): void {
    this.token = token;
  }

  async refresh(): Promise<string> {
    if (!this.token) throw new Error('no access token');
    return this.token;
  }
}
