// The `avs` command line: `avs <command> [options]`.
import { authorizeCommand, loginCommand, logoutCommand, registerInfoCommand } from './auth';
import { chartsCommand } from './charts';
import { demoCommand } from './demo';
import { runCommand } from './run';
import { simCommand } from './sim';
import { type CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, processIo, UsageError } from './io';
import { parseMultipartCommand } from './parse-multipart';
import { validateCommand } from './validate';

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  validate: { run: validateCommand, summary: 'check AVS messages (JSON files) against the protocol' },
  'parse-multipart': { run: parseMultipartCommand, summary: 'list the parts of a captured AVS multipart body' },
  demo: { run: demoCommand, summary: 'a device against the local AVS cloud, a short session (what `npm start` runs)' },
  run: { run: runCommand, summary: 'run the device: AVS (or --endpoint), the microphone and player, keys on screen' },
  charts: { run: chartsCommand, summary: 'draw the statecharts of the machines (SVG, Mermaid, JSON, DOT)' },
  sim: { run: simCommand, summary: 'run the local AVS cloud alone (--port, --scenario, --trace)' },
  login: { run: loginCommand, summary: 'link the device with Login with Amazon (code-based linking)' },
  'register-info': { run: registerInfoCommand, summary: 'what a companion app needs to authorize the device (PKCE)' },
  authorize: { run: authorizeCommand, summary: 'exchange a companion\'s authorization code for tokens' },
  logout: { run: logoutCommand, summary: "unlink: remove the tokens and the customer's data" },
};

export const mainHelp = `usage: avs <command> [options]

An Alexa Voice Service device runtime. Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(16)}${c.summary}`)
  .join('\n')}

Run \`avs <command> --help\` for a command's options.`;

/** Runs one command line; resolves to the exit status. Never throws. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`avs: unknown command "${name}"\n\n${mainHelp}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    // parseArgs reports unknown or malformed options as TypeErrors with an ERR_PARSE_ARGS code.
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.err(`avs ${name}: ${(e as Error).message}`);
      return EXIT_USAGE;
    }
    io.err(`avs ${name}: internal error: ${(e as Error).stack ?? String(e)}`);
    return EXIT_FAILED;
  }
}
