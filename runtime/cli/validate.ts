// `avs validate FILE...`: checks AVS messages against the codecs (PROTOCOL.md §2, §5–§11).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeMessage, formatDecodeError, qualifiedName } from '../../machines/catalog';
import { type CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './io';

export const validateHelp = `usage: avs validate [--lenient] FILE...

Reads each FILE as JSON and checks it as the AVS message it is: a directive ({"directive":…}),
an event ({"event":…}), a context entry ({"header":…,"payload":…} without messageId) or a
System.Exception error body. Prints one line per file:

  FILE: ok Namespace.Name
  FILE: invalid Namespace.Name: <json path>: <reason>
  FILE: unsupported Namespace.Name

  --lenient   accept what the runtime accepts: fill in the fields the SDK defaults
              (playBehavior, clearBehavior, streamFormat, audioItemId; PROTOCOL.md §16 #6)

Exit status: 0 every file valid, 1 any invalid or unsupported, 2 unreadable file, bad JSON or bad usage.`;

/** The line for one document, and whether it was valid. */
export function validateDocument(file: string, doc: unknown, lenient: boolean): { line: string; ok: boolean } {
  const r = decodeMessage(doc, { lenient });
  const name = r.header ? qualifiedName(r.header) : '(unknown)';
  switch (r.kind) {
    case 'ok':
      return { line: `${file}: ok ${name}`, ok: true };
    case 'unsupported':
      return { line: `${file}: unsupported ${name}`, ok: false };
    case 'invalid':
      return { line: `${file}: invalid ${name}: ${formatDecodeError(r.error)}`, ok: false };
  }
}

export async function validateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { lenient: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    io.out(validateHelp);
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('no FILE given (see avs validate --help)');
  let status = EXIT_OK;
  for (const file of positionals) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      io.out(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      status = EXIT_USAGE;
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      io.out(`${file}: not JSON: ${(e as Error).message}`);
      status = EXIT_USAGE;
      continue;
    }
    const { line, ok } = validateDocument(file, doc, values.lenient ?? false);
    io.out(line);
    if (!ok && status === EXIT_OK) status = EXIT_FAILED;
  }
  return status;
}
