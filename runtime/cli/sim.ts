// `avs sim`: the local AVS cloud alone (test/avs-cloud, its own command line: --port, --h2c,
// --scenario, --trace, --cert-dir), in a child process that gets our signals.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type CliIo, EXIT_OK } from './io';

const MAIN = join(__dirname, '..', '..', 'test', 'avs-cloud', 'main.ts');

export const simHelp = `usage: avs sim [--port N] [--h2c] [--scenario FILE] [--trace FILE] [--cert-dir DIR]

Runs the local AVS-compatible cloud on 127.0.0.1 (test/avs-cloud/README.md). Prints
"listening <url>" and (TLS) "ca <path>"; point \`avs run --endpoint <url> --ca-file <path>\` at it.
--port 0 (the default) picks a free port. Ctrl-C stops it.`;

export async function simCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(simHelp);
    return EXIT_OK;
  }
  const args = argv.includes('--port') ? argv : ['--port', '0', ...argv];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', (c: string) => c.split('\n').filter(Boolean).forEach((l) => io.out(l)));
  child.stderr.setEncoding('utf8').on('data', (c: string) => c.split('\n').filter(Boolean).forEach((l) => io.err(l)));
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
