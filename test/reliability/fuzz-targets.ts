// The fuzz targets of test/reliability/fuzz.test.ts (issue 12): what is generated and what must
// hold for each input. A target is run by test/fixtures/scripts/fuzz.ts in a child process (so a
// hang can be stopped from outside and memory measured after a real GC).
//
// The public boundaries fuzzed, and their contract:
//  - the multipart reader (`AvsPartReader`, PROTOCOL.md §1.5.1): `write`/`end` never throw; the
//    body ends exactly once, closed or with a MultipartError of a known code; no part after that;
//    the same parts and the same end whatever the chunking; unopened attachments stay within the
//    store's budget;
//  - the directive decoder (`decodeDirective`, `decodeDirectiveText`, `decodeMessage`, §2.2):
//    never throws; an `invalid` result names a `$…` path and a reason; an `ok` one decodes again;
//  - the pipeline's entry (`DirectivePipeline.accept`, §2.2 / §11.4): never throws; a directive
//    that cannot be carried out is answered with exactly one ExceptionEncountered holding its text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { of, throwError } from 'rxjs';
import { decodeDirective, decodeDirectiveText, decodeMessage, formatDecodeError, type DecodeResult } from '../../machines/catalog';
import { AttachmentStore, AvsPartReader, MultipartError, type AvsPart } from '../../services/multipart';
import { silentLogger } from '../../services/log/logger';
import { DirectiveError, type DirectiveHandler } from '../../runtime/pipeline/handlers';
import { DirectivePipeline, type ExceptionReport } from '../../runtime/pipeline/pipeline';
import { FIXTURES, loadExamples } from '../support/fixtures';
import { buildBody, splitAt } from '../support/multipart';
import { jsonPaths } from '../support/arbitrary';

// ---------------------------------------------------------------------------------------------
// Seeds: the valid material mutations start from

const AVS_BOUNDARY = '------abcde123';
const EXAMPLES = loadExamples();
/** Every valid directive example, as a document and as the text AVS would send. */
const DIRECTIVES = EXAMPLES.filter((e) => typeof e.doc === 'object' && e.doc !== null && 'directive' in e.doc).map((e) => ({
  file: e.file,
  doc: e.doc,
  text: JSON.stringify(e.doc),
}));
const CAPTURES = ['recognize-response.multipart', 'downchannel-open.multipart'].map((f) => readFileSync(join(FIXTURES, 'multipart', f)));

const KNOWN_CODES = new Set(['NO_BOUNDARY', 'NO_DELIMITER', 'BAD_DELIMITER', 'BAD_HEADERS', 'PART_TOO_LARGE', 'TRUNCATED', 'ABORTED']);

/** Thrown by a check: the property failed for this input. */
class Violation extends Error {
  override readonly name = 'Violation';
}
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Violation(message);
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations of a multipart body

const BOUNDARIES = [AVS_BOUNDARY, 'b', 'xq7', 'avs-boundary-0123456789', 'a b', '--', '-', ' ', 'x'.repeat(70), 'é€', '', 'a\r\nb'];

/** Bytes that matter to the framing: CRLFs, dashes, whole and partial delimiters, header lines. */
const piece = (boundary: string): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          '\r',
          '\n',
          '\r\n',
          '\r\n\r\n',
          '-',
          '--',
          ' ',
          '\t',
          `--${boundary}`,
          `\r\n--${boundary}`,
          `\r\n--${boundary}\r\n`,
          `\r\n--${boundary}--`,
          `\r\n--${boundary}--\r\n`,
          `\r\n--${boundary}-`,
          `\r\n--${boundary} \t\r\n`,
          `\r\n--${boundary}x`,
          `\r\n--${boundary.slice(0, -1)}`,
          'Content-Type: application/json\r\n\r\n',
          'Content-ID: <a>\r\n\r\n',
          'Content-ID: <cid-1>\r\nContent-Type: application/octet-stream\r\n\r\n',
          'Content-Type: application/json\r\nContent-ID: <x>\r\n\r\n',
          'X-Bad Header: 1\r\n',
          ': no name\r\n',
          'no colon\r\n',
          '{"directive":',
          '}}',
        )
        .map((s) => Buffer.from(s, 'latin1')),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 24_000 }).map((n) => Buffer.from(`X-Huge: ${'h'.repeat(n)}\r\n`, 'latin1')) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 600 }).map((n) => Buffer.from('X-Many: 1\r\n'.repeat(n), 'latin1')) },
  );

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Buffer }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number; to: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'breakDelimiter'; nth: number; into: Buffer }
  | { kind: 'lf'; nth: number }
  | { kind: 'hugeHeader'; nth: number; bytes: number };

const mutation = (boundary: string): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: piece(boundary) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 256 }), to: fc.nat() }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('breakDelimiter' as const),
      nth: fc.nat(),
      into: fc.constantFrom('-', 'x', ' x', '\r', '\rx', '-x', '\n', '').map((s) => Buffer.from(s, 'latin1')),
    }),
    fc.record({ kind: fc.constant('lf' as const), nth: fc.nat() }),
    fc.record({ kind: fc.constant('hugeHeader' as const), nth: fc.nat(), bytes: fc.integer({ min: 1, max: 40_000 }) }),
  );

/** Offsets of every `\r\n--boundary` in `body` (the first delimiter may lack its CRLF). */
function delimiterOffsets(body: Buffer, boundary: string): number[] {
  const needle = Buffer.from(`--${boundary}`, 'latin1');
  const out: number[] = [];
  if (needle.length === 2) return out;
  for (let i = body.indexOf(needle); i >= 0; i = body.indexOf(needle, i + 1)) out.push(i);
  return out;
}

function applyMutation(body: Buffer, m: Mutation, boundary: string): Buffer {
  const len = body.length;
  switch (m.kind) {
    case 'flip': {
      if (len === 0) return body;
      const out = Buffer.from(body);
      out[m.at % len] ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      if (len === 0) return body;
      const out = Buffer.from(body);
      out[m.at % len] = m.byte;
      return out;
    }
    case 'insert': {
      const at = m.at % (len + 1);
      return Buffer.concat([body.subarray(0, at), m.bytes, body.subarray(at)]);
    }
    case 'delete': {
      const at = m.at % (len + 1);
      return Buffer.concat([body.subarray(0, at), body.subarray(at + m.length)]);
    }
    case 'duplicate': {
      const at = m.at % (len + 1);
      const to = m.to % (len + 1);
      return Buffer.concat([body.subarray(0, to), body.subarray(at, at + m.length), body.subarray(to)]);
    }
    case 'truncate':
      return body.subarray(0, m.at % (len + 1));
    case 'breakDelimiter': {
      // What follows `--boundary` becomes something else: a bad delimiter line, or data.
      const offsets = delimiterOffsets(body, boundary);
      if (offsets.length === 0) return body;
      const end = offsets[m.nth % offsets.length] + 2 + Buffer.byteLength(boundary, 'latin1');
      const lineEnd = body.indexOf('\r\n', end);
      const cut = lineEnd < 0 ? body.length : lineEnd + 2;
      return Buffer.concat([body.subarray(0, end), m.into, body.subarray(cut)]);
    }
    case 'lf': {
      // One CRLF of the framing (or the data) becomes a bare LF.
      const crlfs: number[] = [];
      for (let i = body.indexOf('\r\n'); i >= 0 && crlfs.length < 200; i = body.indexOf('\r\n', i + 1)) crlfs.push(i);
      if (crlfs.length === 0) return body;
      const at = crlfs[m.nth % crlfs.length];
      return Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
    }
    case 'hugeHeader': {
      // A header line of `bytes` bytes at the start of a part's header block.
      const offsets = delimiterOffsets(body, boundary);
      if (offsets.length === 0) return body;
      const lineEnd = body.indexOf('\r\n', offsets[m.nth % offsets.length]);
      if (lineEnd < 0) return body;
      const header = Buffer.from(`X-Huge: ${'h'.repeat(m.bytes)}\r\n`, 'latin1');
      return Buffer.concat([body.subarray(0, lineEnd + 2), header, body.subarray(lineEnd + 2)]);
    }
  }
}

/** A valid body to start from: a captured AVS body, or one built of example directives and attachments. */
const validBody: fc.Arbitrary<{ boundary: string; body: Buffer }> = fc.oneof(
  fc.constantFrom(...CAPTURES).map((body) => ({ boundary: AVS_BOUNDARY, body })),
  fc
    .record({
      boundary: fc.constantFrom(AVS_BOUNDARY, 'b', 'xq7', 'avs-boundary-0123456789', 'a b'),
      parts: fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...DIRECTIVES).map((d) => ({ headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: Buffer.from(d.text) })) },
          {
            weight: 2,
            arbitrary: fc
              .tuple(fc.constantFrom('a', 'b', 'tts', 'DeviceTTSRendererV4_1'), fc.uint8Array({ maxLength: 600 }))
              .map(([id, data]) => ({ headers: { 'Content-ID': `<${id}>`, 'Content-Type': 'application/octet-stream' }, body: Buffer.from(data) })),
          },
          { weight: 1, arbitrary: fc.constant({ headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('skip me') }) },
        ),
        { minLength: 1, maxLength: 5 },
      ),
      preamble: fc.constantFrom('', '\r\n', 'preamble\r\n'),
      close: fc.boolean(),
    })
    .map(({ boundary, parts, preamble, close }) => ({ boundary, body: buildBody(boundary, parts, { preamble, close }) })),
);

// ---------------------------------------------------------------------------------------------
// The reader: feeding a body, collecting what it made of it

interface ReaderSetup {
  readonly lenient: boolean;
  /** Open every attachment as it is announced and read it (with a tiny read-ahead: backpressure). */
  readonly openAttachments: boolean;
  readonly maxJsonPartBytes?: number;
  readonly maxHeaderBytes?: number;
  readonly maxPreambleBytes?: number;
}

const readerSetup: fc.Arbitrary<ReaderSetup> = fc.record(
  {
    lenient: fc.boolean(),
    openAttachments: fc.boolean(),
    maxJsonPartBytes: fc.constantFrom(16, 200, 4096),
    maxHeaderBytes: fc.constantFrom(64, 1024, 16 * 1024),
    maxPreambleBytes: fc.constantFrom(8, 1024),
  },
  { requiredKeys: ['lenient', 'openAttachments'] },
);

/** What the store of a long-lived connection holds at most for attachments nobody opened. */
const STORE_BUDGET = 64 * 1024;
/** One store for every body of a target, as one connection has (memory must stay bounded across bodies). */
let sharedStore: AttachmentStore | undefined;
const store = () => (sharedStore ??= new AttachmentStore({ maxUnclaimedBytes: 16 * 1024, maxUnclaimedTotalBytes: STORE_BUDGET, maxUnclaimedAttachments: 20 }));

/** A comparable account of one read: the parts in order and how the body ended. */
interface ReadResult {
  readonly parts: string[];
  readonly end: string;
  /** The bytes each opened attachment gave, when the body closed (a body that fails destroys them unread). */
  readonly attachments: string[];
}

/** Feeds `chunks` and `end()` to a fresh reader; checks the contract on the way. */
function readBody(boundary: string, chunks: readonly Buffer[], setup: ReaderSetup): ReadResult {
  const parts: string[] = [];
  let ends = 0;
  let end = '';
  const opened: { id: string; stream: Readable; bytes: Buffer[] }[] = [];
  const s = setup.openAttachments ? new AttachmentStore({ readAheadBytes: 16 }) : store();
  // The reader turns whatever its handlers throw into an ABORTED body, so problems seen inside them
  // are noted and raised after the read.
  const problems: string[] = [];
  const note = (f: () => void) => {
    try {
      f();
    } catch (e) {
      problems.push((e as Error).message);
    }
  };
  const onPart = (p: AvsPart) =>
    note(() => {
      check(ends === 0, `a ${p.kind} part after the body ended (${end})`);
      parts.push(describePart(p));
      if (p.kind === 'attachment' && setup.openAttachments) {
        const stream = p.open();
        stream.on('error', () => {}); // a body that breaks off fails its attachment: expected
        opened.push({ id: p.contentId, stream, bytes: [] });
      }
    });
  const reader = new AvsPartReader(
    boundary,
    {
      onPart,
      onClose: () => {
        ends++;
        end = 'closed';
      },
      onError: (e) =>
        note(() => {
          ends++;
          end = e instanceof MultipartError ? e.code : String(e);
          check(e instanceof MultipartError, `onError with something other than a MultipartError: ${String(e)}`);
          check(KNOWN_CODES.has(e.code), `an unknown error code ${e.code}`);
          check(e.code !== 'ABORTED', `the body was aborted: ${e.message}`);
          check(typeof e.message === 'string' && e.message.length > 0, 'an error without a message');
        }),
    },
    {
      lenient: setup.lenient,
      store: s,
      ...(setup.maxJsonPartBytes ? { maxJsonPartBytes: setup.maxJsonPartBytes } : {}),
      limits: {
        ...(setup.maxHeaderBytes ? { maxHeaderBytes: setup.maxHeaderBytes } : {}),
        ...(setup.maxPreambleBytes ? { maxPreambleBytes: setup.maxPreambleBytes } : {}),
      },
    },
  );
  const drain = () => {
    for (const o of opened) for (let c = o.stream.read() as Buffer | null; c !== null; c = o.stream.read() as Buffer | null) o.bytes.push(c);
  };
  for (const chunk of chunks) {
    // Each chunk is a copy: the reader keeps views of what it is given.
    const full = !reader.write(Buffer.from(chunk));
    // Backpressure: once the consumer has read what it was given, the reader must want more.
    let resumed = !full;
    if (full) reader.onDemand(() => (resumed = true));
    drain();
    check(resumed, 'the reader waits for a consumer that has read everything (a hang)');
  }
  reader.end();
  drain();
  check(problems.length === 0, problems.join('\n'));
  check(ends === 1, `the body ended ${ends} times after end() (expected exactly once)`);
  if (!setup.openAttachments) check(s.unclaimedBytes <= STORE_BUDGET, `unopened attachments hold ${s.unclaimedBytes} bytes, over the ${STORE_BUDGET} budget`);
  const attachments = end === 'closed' ? opened.map((o) => `${o.id} ${Buffer.concat(o.bytes).toString('base64')}`) : [];
  for (const o of opened) o.stream.destroy();
  if (setup.openAttachments) s.close();
  return { parts, end, attachments };
}

function describePart(p: AvsPart): string {
  switch (p.kind) {
    case 'directive':
    case 'exception':
      checkDecodeResult(p.result);
      return `${p.kind} ${p.result.kind} ${JSON.stringify(p.text)}`;
    case 'attachment':
      return `attachment ${p.contentId}`;
    case 'skipped':
      return `skipped ${p.bytes} ${p.error?.code ?? ''}`;
  }
}

function checkDecodeResult(r: DecodeResult<unknown>): void {
  check(r.kind === 'ok' || r.kind === 'invalid' || r.kind === 'unsupported', `a decode result of kind ${String((r as { kind: unknown }).kind)}`);
  if (r.kind === 'invalid') {
    check(typeof r.error.path === 'string' && r.error.path.startsWith('$'), `an invalid result without a $ path: ${JSON.stringify(r.error.path)}`);
    check(typeof r.error.message === 'string' && r.error.message.length > 0, 'an invalid result without a reason');
    check(formatDecodeError(r.error).startsWith(r.error.path), 'formatDecodeError does not start with the path');
  }
}

/** The reader's contract for one body, fed whole and cut at `cuts`. */
function checkBody(boundary: string, body: Buffer, cuts: readonly number[], setup: ReaderSetup): void {
  const whole = readBody(boundary, [body], setup);
  const split = readBody(boundary, splitAt(body, cuts.map((c) => c % (body.length + 1))), setup);
  check(
    JSON.stringify(split) === JSON.stringify(whole),
    `the result depends on where the body was cut:\n whole: ${JSON.stringify(whole).slice(0, 800)}\n split: ${JSON.stringify(split).slice(0, 800)}`,
  );
}

const cutsArb = fc.oneof({ weight: 9, arbitrary: fc.array(fc.nat(), { maxLength: 24 }) }, { weight: 1, arbitrary: fc.constant([-1]) });
/** `[-1]` stands for "one byte at a time". */
const cutsFor = (body: Buffer, cuts: readonly number[]): readonly number[] =>
  cuts.length === 1 && cuts[0] === -1 ? Array.from({ length: Math.min(body.length, 2000) }, (_, i) => i + 1) : cuts;

// ---------------------------------------------------------------------------------------------
// JSON-level mutations of directive documents

const nested = (depth: number, leaf: unknown, asArray: boolean): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  // fast-check prints a counterexample recursively: tell it how to print this one instead.
  Object.defineProperty(v, fc.toStringMethod, { value: () => `<${asArray ? 'array' : 'object'} nested ${depth} deep>`, enumerable: false });
  return v;
};

const strangeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined), // delete
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, '', -1, 0, 1e308, -0, 0.5, 2 ** 53, [], {}, 'cid:', 'cid:%zz', '2024-02-30T00:00:00Z', 'http://', '__proto__', 'constructor', 'toString', true),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1, max: 5000 }).map((n) => 'x'.repeat(n * 20)),
  // Deeply nested values: a stack-depth hazard for anything recursive.
  fc.tuple(fc.integer({ min: 10, max: 20_000 }), fc.boolean()).map(([d, arr]) => nested(d, 1, arr)),
);

/** Replaces, deletes or wraps the values at a few random places of a JSON document. */
function mutateDoc(doc: unknown): fc.Arbitrary<unknown> {
  const paths = jsonPaths(doc);
  const step = fc.tuple(fc.constantFrom(...paths), strangeValue, fc.constantFrom('replace', 'wrap', 'addKey'), fc.string({ maxLength: 12 }));
  return fc.array(step, { minLength: 1, maxLength: 4 }).map((steps) => {
    let copy = JSON.parse(JSON.stringify(doc)) as unknown;
    for (const [path, value, how, key] of steps) {
      if (path.length === 0) {
        copy = how === 'wrap' ? [copy] : value;
        continue;
      }
      let node = copy as Record<string | number, unknown>;
      let ok = true;
      for (const k of path.slice(0, -1)) {
        const next = node?.[k];
        if (typeof next !== 'object' || next === null) {
          ok = false;
          break;
        }
        node = next as Record<string | number, unknown>;
      }
      if (!ok || typeof node !== 'object' || node === null) continue;
      const last = path[path.length - 1];
      if (how === 'addKey' && !Array.isArray(node)) node[key] = value ?? null;
      else if (value === undefined) delete node[last];
      else node[last] = how === 'wrap' ? { value } : value;
    }
    return copy;
  });
}

/** Text-level edits of a JSON text: flipped, inserted, deleted characters. */
const mutateText = (text: string): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.constantFrom('insert', 'delete', 'replace', 'truncate'),
        fc.nat(),
        fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\\u', '\u0000', '\ud800', 'null', '1e999')),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((edits) => {
      let t = text;
      for (const [how, at, s] of edits) {
        const i = at % (t.length + 1);
        if (how === 'insert') t = t.slice(0, i) + s + t.slice(i);
        else if (how === 'delete') t = t.slice(0, i) + t.slice(i + 1 + (at % 8));
        else if (how === 'replace') t = t.slice(0, i) + s + t.slice(i + s.length);
        else t = t.slice(0, i);
      }
      return t;
    });

/** Documents shaped like directives whose header names real interfaces and whose payload is anything. */
const directiveShaped: fc.Arbitrary<unknown> = fc
  .record({
    ex: fc.constantFrom(...DIRECTIVES),
    payload: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.anything({ maxDepth: 3 }), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }))),
    extra: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), { nil: undefined }),
  })
  .map(({ ex, payload, extra }) => {
    const header = (ex.doc as { directive: { header: Record<string, unknown> } }).directive.header;
    return { directive: { header: { ...header, ...extra }, payload } };
  });

/** The JSON text of a generated document (one nested too deeply for JSON.stringify is written by hand). */
function jsonText(doc: unknown): string {
  try {
    return JSON.stringify(doc) ?? 'null';
  } catch {
    return '{"directive":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}';
  }
}

/** A decode of anything must be a value, never a throw; an ok result must decode again. */
function checkDecoding(doc: unknown, lenient: boolean, fromJson = true): void {
  const r = decodeDirective(doc, { lenient });
  checkDecodeResult(r);
  // (Values that JSON cannot carry — NaN, undefined — only come from `fc.anything`, never the wire.)
  if (r.kind === 'ok' && fromJson) {
    const again = decodeDirective(JSON.parse(JSON.stringify({ directive: r.value })), { lenient });
    check(again.kind === 'ok', `an ok directive does not decode again: ${again.kind === 'invalid' ? formatDecodeError(again.error) : again.kind}`);
  }
  const m = decodeMessage(doc, { lenient });
  checkDecodeResult(m);
}

function checkDecodingText(text: string, lenient: boolean): void {
  const r = decodeDirectiveText(text, { lenient });
  checkDecodeResult(r);
}

// ---------------------------------------------------------------------------------------------
// The pipeline's entry

const reports: ExceptionReport[] = [];
let pipeline: DirectivePipeline | undefined;
const NAMESPACES = ['System', 'Speaker', 'SpeechSynthesizer', 'SpeechRecognizer', 'Alerts', 'AudioPlayer', 'PlaybackController', 'Settings'];
/** Handlers that finish at once, except that DeleteAlert fails (a handler's failure must be answered too). */
const handlers: DirectiveHandler[] = NAMESPACES.map((namespace) => ({
  namespace,
  ...(namespace === 'System' ? { refuse: (d) => (d.header.name === 'ReportSoftwareInfo' ? 'no firmware version' : undefined) } : {}),
  handle: (d) => (d.header.name === 'DeleteAlert' ? throwError(() => new DirectiveError('INTERNAL_ERROR', 'the store is full')) : of(undefined)),
  rejected: () => {},
}));
/** One pipeline for every case of the target, as one device has. */
const thePipeline = () =>
  (pipeline ??= new DirectivePipeline({ handlers, reportException: (r) => reports.push(r), logger: silentLogger(), now: () => 0 }));

/** A body holding one JSON part with `text`, read by the reader, each part handed to the pipeline. */
function checkPipeline(text: string, lenient: boolean, dialog: string | undefined): void {
  const p = thePipeline();
  if (dialog !== undefined) p.startDialog(dialog);
  const body = buildBody(AVS_BOUNDARY, [{ headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: Buffer.from(text, 'utf8') }]);
  const parts: AvsPart[] = [];
  let failure: MultipartError | undefined;
  const reader = new AvsPartReader(AVS_BOUNDARY, { onPart: (x) => parts.push(x), onClose: () => {}, onError: (e) => (failure = e) }, { lenient, store: store() });
  reader.write(body);
  reader.end();
  // The framing is sound: whatever the text, the reader must not give up on the body.
  check(failure === undefined, `the reader failed a well-framed body: ${failure?.code}: ${failure?.message}`);
  check(parts.length === 1, `one JSON part made ${parts.length} parts`);
  const part = parts[0];
  check(part.kind === 'directive' || part.kind === 'exception' || part.kind === 'skipped', `a JSON part read as ${part.kind}`);
  const before = reports.length;
  p.accept(part);
  const answered = reports.slice(before);
  check(answered.length <= 1, `one directive was answered ${answered.length} times`);
  for (const r of answered) check(r.unparsedDirective === (part as { text?: string }).text, 'ExceptionEncountered does not carry the directive as received');
  if (part.kind !== 'directive') return;
  const r = part.result;
  const ofOldDialog = r.header?.dialogRequestId !== undefined && r.header.dialogRequestId !== p.dialogRequestId;
  if (r.kind === 'invalid' && !ofOldDialog) {
    check(answered.length === 1 && answered[0].errorType === 'UNEXPECTED_INFORMATION_RECEIVED', `a malformed directive was answered ${JSON.stringify(answered)}`);
  }
  if (r.kind === 'unsupported' && !ofOldDialog) {
    check(answered.length === 1 && answered[0].errorType === 'UNSUPPORTED_OPERATION', `an unsupported directive was answered ${JSON.stringify(answered)}`);
  }
  if (reports.length > 1000) reports.splice(0, reports.length);
}

// ---------------------------------------------------------------------------------------------
// The targets

export interface FuzzTarget {
  /** What it feeds to which boundary. */
  readonly title: string;
  /** Inputs generated in `npm test`. */
  readonly runs: number;
  /**
   * The property over one input. `beforeCase` may yield to the event loop: destroyed streams
   * close on a later tick, so a loop that never yields would pile them up and look like a leak.
   */
  readonly property: (beforeCase: () => Promise<void> | undefined) => fc.IAsyncProperty<[unknown]>;
}

const target = <T>(title: string, runs: number, arbitrary: fc.Arbitrary<T>, run: (input: T) => void): FuzzTarget => ({
  title,
  runs,
  property: (beforeCase) =>
    fc.asyncProperty(arbitrary as fc.Arbitrary<unknown>, async (input) => {
      await beforeCase();
      run(input as T);
    }),
});

export const TARGETS: Readonly<Record<string, FuzzTarget>> = {
  'reader-random-bytes': target(
    'multipart reader: random bytes, after a delimiter line or alone, cut at random points',
    25_000,
    fc.record({
      boundary: fc.constantFrom(...BOUNDARIES),
      opening: fc.constantFrom('', '--B\r\n', '\r\n--B\r\n', '--B\r\nContent-Type: application/json\r\n\r\n', '--B\r\nContent-ID: <a>\r\n\r\n'),
      bytes: fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.array(piece('B'), { maxLength: 12 }).map((xs) => Buffer.concat(xs))),
      cuts: cutsArb,
      setup: readerSetup,
    }),
    ({ boundary, opening, bytes, cuts, setup }) => {
      // Pieces and openings are written for the boundary "B": put the case's own boundary in.
      const body = Buffer.from(Buffer.concat([Buffer.from(opening, 'latin1'), Buffer.from(bytes)]).toString('latin1').split('B').join(boundary), 'latin1');
      checkBody(boundary, body, cutsFor(body, cuts), setup);
    },
  ),
  'reader-mutated-bodies': target(
    'multipart reader: valid bodies (captured and built from the examples) with flipped, inserted, deleted and duplicated bytes, broken delimiters, bare LFs, huge and many headers, truncation; cut at random points',
    25_000,
    validBody.chain(({ boundary, body }) =>
      fc.record({
        boundary: fc.constant(boundary),
        body: fc.array(mutation(boundary), { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce((b, m) => applyMutation(b, m, boundary), body)),
        cuts: cutsArb,
        setup: readerSetup,
      }),
    ),
    ({ boundary, body, cuts, setup }) => checkBody(boundary, body, cutsFor(body, cuts), setup),
  ),
  'decoder-random': target(
    'directive decoder: random JSON values, arbitrary JS values, directive-shaped documents with random payloads, random text and bytes as text',
    20_000,
    fc.record({
      input: fc.oneof(
        fc.jsonValue({ maxDepth: 5 }).map((v) => ({ doc: v as unknown })),
        fc.anything({ maxDepth: 4 }).map((v) => ({ doc: v, notJson: true })),
        directiveShaped.map((v) => ({ doc: v })),
        fc.string({ unit: 'binary', maxLength: 300 }).map((s) => ({ text: s })),
        fc.uint8Array({ maxLength: 300 }).map((a) => ({ text: Buffer.from(a).toString('utf8') })),
        fc.jsonValue({ maxDepth: 5 }).map((v) => ({ text: JSON.stringify(v) ?? 'null' })),
      ),
      lenient: fc.boolean(),
    }),
    ({ input, lenient }) => ('text' in input ? checkDecodingText(input.text, lenient) : checkDecoding(input.doc, lenient, !('notJson' in input))),
  ),
  'decoder-mutated': target(
    'directive decoder: every valid directive example with values replaced, deleted, wrapped, deeply nested, or its JSON text edited',
    20_000,
    fc.record({
      input: fc.constantFrom(...DIRECTIVES).chain((d) =>
        fc.oneof(mutateDoc(d.doc).map((doc) => ({ doc })), mutateText(d.text).map((text) => ({ text }))),
      ),
      lenient: fc.boolean(),
    }),
    ({ input, lenient }) => ('text' in input ? checkDecodingText(input.text, lenient) : checkDecoding(input.doc, lenient)),
  ),
  pipeline: target(
    'pipeline entry: a JSON part (mutated examples, edited text, random text) read by the reader and handed to the directive pipeline',
    15_000,
    fc.record({
      text: fc.oneof(
        fc.constantFrom(...DIRECTIVES).chain((d) =>
          fc.oneof(
            mutateDoc(d.doc).map(jsonText),
            mutateText(d.text),
            fc.constant(d.text),
            // A deeply nested extra field (JSON.parse takes any depth; what walks it afterwards may not).
            fc.tuple(fc.integer({ min: 10, max: 20_000 }), fc.boolean()).map(([n, arr]) => d.text.replace('"payload":', `"deep":${(arr ? '[' : '{"a":').repeat(n)}1${(arr ? ']' : '}').repeat(n)},"payload":`)),
          ),
        ),
        fc.string({ unit: 'binary', maxLength: 200 }),
        directiveShaped.map((doc) => JSON.stringify(doc)),
      ),
      lenient: fc.boolean(),
      dialog: fc.option(fc.constantFrom('dialog-1', 'dialog-2', ...DIRECTIVES.map((d) => String((d.doc as { directive: { header: { dialogRequestId?: string } } }).directive.header.dialogRequestId ?? 'none'))), { nil: undefined }),
    }),
    ({ text, lenient, dialog }) => checkPipeline(text, lenient, dialog),
  ),
};
