// The simulator on its own: `node --import tsx test/avs-cloud/main.ts --port N [--h2c]
// [--scenario FILE] [--trace FILE]` (npm run sim -- …). Prints `listening <url>` first and, with
// TLS, `ca <path>` next, so a script can read where to connect and what to trust.
import { parseArgs } from 'node:util';
import { loadScenario, ScenarioError, type Scenario } from './scenario';
import type { Simulator } from './api';
import { startSimulator } from './simulator';

const USAGE = `usage: sim --port N [--h2c] [--scenario FILE] [--trace FILE] [--cert-dir DIR]

A local AVS-compatible cloud on 127.0.0.1 (test/avs-cloud/README.md).

  --port N          port to listen on; 0 picks a free one (required)
  --h2c             plain HTTP/2 with prior knowledge instead of TLS
  --scenario FILE   the scenario (default test/fixtures/avs-cloud/default.json)
  --trace FILE      write a JSON-lines trace of every request
  --cert-dir DIR    where ca.pem and the server certificate go (default: a temporary folder)
  --help            this text

Prints "listening <url>", then (TLS) "ca <path of the CA certificate>". Stops on SIGINT/SIGTERM.`;

function usageError(message: string): never {
  process.stderr.write(`sim: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        port: { type: 'string' },
        h2c: { type: 'boolean', default: false },
        scenario: { type: 'string' },
        trace: { type: 'string' },
        'cert-dir': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usageError((e as Error).message);
  }
}

async function main(): Promise<void> {
  const values = parse();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.port === undefined) usageError('--port is required');
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) usageError(`--port must be 0..65535, got ${JSON.stringify(values.port)}`);
  let scenario: Scenario | undefined;
  if (values.scenario !== undefined) {
    try {
      scenario = loadScenario(values.scenario);
    } catch (e) {
      if (e instanceof ScenarioError) usageError(e.message);
      throw e;
    }
  }
  // Handlers first: a signal that came before them would kill the process outright (the
  // default action), and a script may signal as soon as it has read the first line.
  let sim: Simulator | undefined;
  let stopping = false;
  const shutdown = (running: Simulator) =>
    void running.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`sim: stopping failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (sim) shutdown(sim); // else: stopped as soon as it has started
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  sim = await startSimulator({
    port: Number(values.port),
    h2c: values.h2c,
    ...(scenario ? { scenario } : {}),
    ...(values.trace !== undefined ? { tracePath: values.trace } : {}),
    ...(values['cert-dir'] !== undefined ? { certDir: values['cert-dir'] } : {}),
  });
  if (stopping) return shutdown(sim);
  process.stdout.write(`listening ${sim.url}\n`);
  if (sim.caPath) process.stdout.write(`ca ${sim.caPath}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`sim: ${(e as Error).message}\n`);
  process.exit(1);
});
