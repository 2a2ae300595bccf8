// `avs login`, `register-info`, `authorize`, `logout` against the simulator's Login with Amazon
// (PROTOCOL.md §12) — and nothing they print holds a token.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../runtime/cli/main';
import { openDatabase } from '../../../services/store/database';
import { TOKEN_KEYS } from '../../../runtime/device/authorization';
import { startSimulator, type Simulator } from '../../avs-cloud';

let sim: Simulator;
let dir: string;
let config: string;
let printed: string[];

beforeEach(async () => {
  sim = await startSimulator({ lwa: { pollInterval: 1 } });
  dir = mkdtempSync(join(tmpdir(), 'avs-cli-auth-'));
  config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      avs: { endpoint: sim.url, caFile: sim.caPath },
      lwa: { clientId: 'amzn1.application-oa2-client.cli', productId: 'product-1', deviceSerialNumber: 'dsn-cli', url: sim.url },
      device: { database: join(dir, 'device.db') },
    }),
  );
  printed = [];
});
afterEach(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (...argv: string[]) => runCli(argv, { out: (l) => printed.push(l), err: (l) => printed.push(l) });
const keptRefreshToken = (): string | undefined => {
  const db = openDatabase(join(dir, 'device.db'));
  const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(TOKEN_KEYS.refreshToken) as { value: string } | undefined;
  db.close();
  return row?.value;
};

describe('avs login and friends', () => {
  it('avs login: prints the page and the code, waits for the user, ends linked; no token printed (§12.1)', async () => {
    const login = run('login', '--config', config, '--timeout', '30');
    // The user reads the code off the screen and approves it on the page.
    for (let i = 0; i < 100 && !printed.some((l) => /enter the code/.test(l)); i++) await new Promise((r) => setTimeout(r, 20));
    const line = printed.find((l) => /enter the code/.test(l)) ?? '';
    const [, uri, code] = /open (\S+) and enter the code (\S+)/.exec(line) ?? [];
    expect(uri).toBe(`${sim.url}/sim/code`);
    expect(sim.approve(code)).toBe(true);
    expect(await login).toBe(0);
    expect(printed.some((l) => /^waiting for you to sign in/.test(l))).toBe(true);
    expect(printed.at(-1)).toMatch(/^linked \(by code-based linking\)/);
    const token = keptRefreshToken();
    expect(token).toBeDefined();
    expect(printed.join('\n')).not.toContain(token);
    // Linked already: a second login just refreshes.
    expect(await run('login', '--config', config)).toBe(0);
  });

  it('avs register-info and avs authorize: the companion-app flow with PKCE (§12.5)', async () => {
    expect(await run('register-info', '--config', config)).toBe(0);
    const info = JSON.parse(printed.join('\n')) as { codeChallenge: string; codeChallengeMethod: string; productId: string; deviceSerialNumber: string };
    expect(info).toMatchObject({ productId: 'product-1', deviceSerialNumber: 'dsn-cli', codeChallengeMethod: 'S256' });
    const code = sim.authorizationCode({ clientId: 'amzn1.application-oa2-client.app', redirectUri: 'amzn://app', codeChallenge: info.codeChallenge });
    expect(await run('authorize', '--config', config, '--code', code, '--redirect-uri', 'amzn://app', '--app-client-id', 'amzn1.application-oa2-client.app')).toBe(0);
    expect(printed.at(-1)).toMatch(/^linked \(by a companion app\)/);
    const token = keptRefreshToken();
    expect(token).toBeDefined();
    expect(printed.join('\n')).not.toContain(token);
  });

  it('avs authorize with a code for another challenge fails (exit 1), naming the LWA error, not a token', async () => {
    await run('register-info', '--config', config);
    const code = sim.authorizationCode({ clientId: 'c', redirectUri: 'amzn://app', codeChallenge: 'x'.repeat(43) });
    expect(await run('authorize', '--config', config, '--code', code, '--redirect-uri', 'amzn://app', '--app-client-id', 'c')).toBe(1);
    expect(printed.at(-1)).toMatch(/^not linked: invalid_grant/);
  });

  it('avs logout wipes the tokens and the customer data (§12.2)', async () => {
    const pair = sim.tokens.issue();
    const db = openDatabase(join(dir, 'device.db'));
    db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)').run(TOKEN_KEYS.refreshToken, pair.refreshToken);
    db.close();
    expect(await run('logout', '--config', config)).toBe(0);
    expect(keptRefreshToken()).toBeUndefined();
  });

  it('without the lwa settings: exit 2 naming them', async () => {
    writeFileSync(config, JSON.stringify({ device: { database: join(dir, 'device.db') } }));
    expect(await run('login', '--config', config)).toBe(2);
    expect(printed.join('\n')).toMatch(/lwa/);
  });
});
