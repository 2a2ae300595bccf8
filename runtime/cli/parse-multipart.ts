// `avs parse-multipart [--boundary B] [--open] FILE`: lists the parts of a captured AVS body.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { lastValueFrom, tap, EMPTY, catchError } from 'rxjs';
import { formatDecodeError } from '../../machines/catalog';
import { AttachmentStore, type AvsPart, MultipartError, isValidBoundary, readMultipart } from '../../services/multipart';
import { type CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './io';

export const parseMultipartHelp = `usage: avs parse-multipart [--boundary B] [--open] FILE

Reads FILE as an AVS multipart body (a multipart/related response or a downchannel capture) and
prints one JSON document listing its parts in wire order:

  {"parts":[{"kind":"directive","namespace":…,"name":…,"messageId":…,"dialogRequestId":…|null},
            {"kind":"attachment","contentId":…,"bytes":…,"sha256":…}, …]}

A directive that does not decode also has "error"; one of an unknown interface has
"unsupported":true. Parts of an unknown type are listed as {"kind":"skipped",…}.

  --boundary B  the boundary (default: taken from the body's first delimiter line)
  --open        the body is a downchannel capture, which never closes: list every part
                completed so far and exit 0 without a closing delimiter

Exit status: 0 parsed, 1 malformed or unterminated body (the reason on stderr), 2 bad usage or
unreadable file.`;

type Listed = Record<string, unknown>;

/** The boundary of the first delimiter line (`--boundary`), after any preamble (RFC 2046). */
export function sniffBoundary(head: Buffer): string | undefined {
  const line = head
    .toString('latin1')
    .split('\r\n')
    .find((l) => l.startsWith('--'));
  const b = line?.slice(2).replace(/[ \t]+$/, '');
  return b !== undefined && isValidBoundary(b) ? b : undefined;
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function describe(part: AvsPart): Listed {
  switch (part.kind) {
    case 'directive': {
      const r = part.result;
      const h = r.header;
      return {
        kind: 'directive',
        namespace: h?.namespace ?? null,
        name: h?.name ?? null,
        messageId: h?.messageId ?? null,
        dialogRequestId: h?.dialogRequestId ?? null,
        ...(r.kind === 'invalid' ? { error: formatDecodeError(r.error) } : {}),
        ...(r.kind === 'unsupported' ? { unsupported: true } : {}),
      };
    }
    case 'exception': {
      const r = part.result;
      return r.kind === 'ok'
        ? { kind: 'exception', code: r.value.payload.code, description: r.value.payload.description ?? null }
        : { kind: 'exception', error: r.kind === 'invalid' ? formatDecodeError(r.error) : 'unsupported' };
    }
    case 'attachment':
      return { kind: 'attachment', contentId: part.contentId, bytes: 0, sha256: '' };
    case 'skipped':
      return {
        kind: 'skipped',
        contentType: part.headers['content-type'] ?? null,
        bytes: part.bytes,
        ...(part.error ? { error: part.error.message } : {}),
      };
  }
}

export async function parseMultipartCommand(argv: string[], io: CliIo): Promise<number> {
  // AVS boundaries start with dashes ("------abcde123"), which parseArgs takes for an option:
  // `--boundary B` is read as `--boundary=B`, unless B is one of our own flags.
  const flags = new Set(['--open', '--help', '-h']);
  const joins = (i: number) => argv[i] === '--boundary' && i + 1 < argv.length && !flags.has(argv[i + 1]);
  const args = argv.flatMap((a, i) => (joins(i) ? [] : i > 0 && joins(i - 1) ? [`--boundary=${a}`] : [a]));
  const { values, positionals } = parseArgs({
    args,
    options: { boundary: { type: 'string' }, open: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    io.out(parseMultipartHelp);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one FILE (see avs parse-multipart --help)');
  const file = positionals[0];
  if (values.boundary !== undefined && !isValidBoundary(values.boundary)) throw new UsageError('unusable --boundary');

  let boundary = values.boundary;
  try {
    boundary ??= sniffBoundary(await readHead(file, 64 * 1024));
  } catch (e) {
    io.err(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return EXIT_USAGE;
  }
  if (boundary === undefined) {
    io.err(`${file}: no multipart delimiter line at the start of the body; give --boundary`);
    return EXIT_FAILED;
  }

  const store = new AttachmentStore({ maxUnclaimedBytes: 0 });
  const listed: Listed[] = [];
  const pending: Promise<unknown>[] = [];
  let failure: MultipartError | undefined;
  let readError: string | undefined;
  const source = createReadStream(file);
  source.on('error', (e: NodeJS.ErrnoException) => {
    readError = e.code ?? e.message;
  });

  await lastValueFrom(
    readMultipart(source, boundary, { store }).pipe(
      tap((part) => {
        const entry = describe(part);
        listed.push(entry);
        if (part.kind !== 'attachment') return;
        // Opened at once, before any byte: hashed as it streams, never held whole.
        const hash = createHash('sha256');
        const stream = part.open();
        let bytes = 0;
        stream.on('data', (c: Buffer) => {
          bytes += c.length;
          hash.update(c);
        });
        pending.push(
          // `finished` also settles on a close without an end: no path leaves this pending.
          finished(stream).then(
            () => {
              entry.bytes = bytes;
              entry.sha256 = hash.digest('hex');
            },
            () => {
              entry.incomplete = true; // broke off with the body: not a completed part
            },
          ),
        );
      }),
      catchError((e: MultipartError) => {
        failure = e;
        return EMPTY;
      }),
    ),
    { defaultValue: undefined },
  );
  await Promise.all(pending);
  store.close();

  if (readError !== undefined) {
    io.err(`${file}: cannot read: ${readError}`);
    return EXIT_USAGE;
  }
  const parts = listed.filter((p) => !p.incomplete);
  const unterminated = failure?.code === 'TRUNCATED';
  if (failure && !(values.open && unterminated)) {
    io.out(JSON.stringify({ parts, error: failure.message }));
    io.err(`${file}: ${failure.message}`);
    return EXIT_FAILED;
  }
  io.out(JSON.stringify({ parts }));
  return EXIT_OK;
}
