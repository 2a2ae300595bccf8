// Scenarios: which directives (and MP3 attachments) answer which event, and what is pushed on the
// downchannel when. A scenario is JSON, checked by the io-ts codec `Scenario` (an unknown key is
// an error, so a typo is caught) and then by `checkScenario`: every answer named exists, every
// `cid:` names an attachment of its reply, and every directive it can produce passes the strict
// `decodeDirective` (PROTOCOL.md §2.2) — a scenario never makes the simulator send an invalid one.
// The format is described in test/avs-cloud/README.md.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as t from 'io-ts';
import { decodeDirective } from '../../machines/catalog';
import { JsonObject, NonEmptyString, type RuleViolation, withRule } from '../../machines/envelope/primitives';
import { formatDecodeError, toDecodeError } from '../../machines/envelope/report';
import { sampleDirectives } from './templates';

const integer = (name: string, min: number) =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min,
    (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= min ? t.success(u) : t.failure(u, c)),
    t.identity,
  );
const PositiveInt = integer('integer ≥ 1', 1);
const NonNegativeInt = integer('integer ≥ 0', 0);

/** `Namespace.Name` of an event, e.g. `SpeechRecognizer.Recognize`, `Alexa.Discovery.AddOrUpdateReport`. */
const EventName = new t.Type<string, string, unknown>(
  '"Namespace.Name"',
  (u): u is string => typeof u === 'string' && /^[A-Za-z][\w.]*\.[A-Za-z]\w*$/.test(u),
  (u, c) => (typeof u === 'string' && /^[A-Za-z][\w.]*\.[A-Za-z]\w*$/.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/**
 * An object codec that refuses keys it does not know, naming the first one, then checks `rule`.
 * (One RuleType around the object, not two: the error reporter looks through one level.)
 */
function closed<R extends t.Props, O extends t.Props>(
  name: string,
  required: R,
  optional: O,
  rule: (value: t.TypeOf<t.TypeC<R>> & Partial<t.TypeOf<t.PartialC<O>>>) => RuleViolation | undefined = () => undefined,
) {
  const allowed = [...Object.keys(required), ...Object.keys(optional)];
  return withRule(t.intersection([t.type(required), t.partial(optional)], name), (value) => {
    const unknown = Object.keys(value as object).find((k) => !allowed.includes(k));
    if (unknown !== undefined) return { path: [unknown], message: `unknown key (expected one of: ${allowed.join(', ')})` };
    return rule(value);
  });
}

/**
 * An MP3 attachment: `silenceMs` of generated silence (see mp3.ts), or a `file` (relative to the
 * scenario file). Exactly one of the two.
 */
export const Attachment = closed('Attachment', {}, { silenceMs: NonNegativeInt, file: NonEmptyString }, (a) =>
  (a.silenceMs === undefined) === (a.file === undefined) ? { path: [], message: 'give exactly one of silenceMs or file' } : undefined,
);
export type Attachment = t.TypeOf<typeof Attachment>;

/**
 * A directive as it goes on the wire (§2.2), `{"directive":{"header":…,"payload":…}}`, with
 * `messageId` optional (generated) and placeholders in its strings (README: templates). Checked
 * in full by decodeDirective, after rendering, in checkScenario.
 */
export const DirectiveTemplate = t.type(
  {
    directive: t.type({
      header: t.intersection([t.type({ namespace: NonEmptyString, name: NonEmptyString }), t.partial({ messageId: t.string, dialogRequestId: t.string })]),
      payload: JsonObject,
    }),
  },
  'DirectiveTemplate',
);
export type DirectiveTemplate = t.TypeOf<typeof DirectiveTemplate>;

/** The directives and attachments of one answer or push. */
export const Reply = closed('Reply', { directives: t.array(DirectiveTemplate) }, { attachments: t.record(t.string, Attachment), description: t.string });
export type Reply = t.TypeOf<typeof Reply>;

const replyFields = { answer: NonEmptyString, directives: t.array(DirectiveTemplate), attachments: t.record(t.string, Attachment) };
const oneReply = (r: { answer?: string; directives?: unknown; attachments?: unknown }): RuleViolation | undefined =>
  (r.answer === undefined) === (r.directives === undefined)
    ? { path: [], message: 'give either "answer" (the name of an answer) or "directives"' }
    : r.answer !== undefined && r.attachments !== undefined
      ? { path: ['attachments'], message: 'attachments belong to the named answer, not next to "answer"' }
      : undefined;

/**
 * Which reply answers an event: the first rule (in file order) whose `on` is the event's
 * `Namespace.Name` and whose `nth` (1-based count of events of that name since start) and `tag`
 * (README: tags) both match, where given. No rule: 204 (a Recognize: 200 with no parts).
 */
export const Rule = closed('Rule', { on: EventName }, { nth: PositiveInt, tag: NonEmptyString, description: t.string, ...replyFields }, oneReply);
export type Rule = t.TypeOf<typeof Rule>;

/**
 * A downchannel push: `afterMs` after the first downchannel opened, or `delayMs` (default 0)
 * after an event `afterEvent` was answered — every time, or only its `nth` time.
 */
export const Push = closed(
  'Push',
  {},
  { afterMs: NonNegativeInt, afterEvent: EventName, delayMs: NonNegativeInt, nth: PositiveInt, description: t.string, ...replyFields },
  (p) => {
    if ((p.afterMs === undefined) === (p.afterEvent === undefined)) return { path: [], message: 'give exactly one of afterMs or afterEvent' };
    if (p.afterMs !== undefined && (p.delayMs !== undefined || p.nth !== undefined)) {
      return { path: [p.delayMs !== undefined ? 'delayMs' : 'nth'], message: 'only with afterEvent' };
    }
    return oneReply(p);
  },
);
export type Push = t.TypeOf<typeof Push>;

/** A text tag: a non-empty string, or (track number, year) a number, written as its digits. */
const TagText = t.union([NonEmptyString, PositiveInt], 'non-empty string or integer ≥ 1');

/** ID3v2.3 TYER is always four digits. */
const Year = new t.Type<string | number, string | number, unknown>(
  'year (4 digits)',
  (u): u is string | number => (typeof u === 'string' && /^\d{4}$/.test(u)) || (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1000 && u <= 9999),
  (u, c) => ((typeof u === 'string' && /^\d{4}$/.test(u)) || (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1000 && u <= 9999) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/**
 * The ID3v2.3 tag put in front of a media file (§8.6 StreamMetadataExtracted), one text frame per
 * key (mp3.ts ID3_TEXT_FRAMES: title TIT2, artist TPE1, album TALB, albumArtist TPE2, trackNumber
 * TRCK, genre TCON, year TYER, composer TCOM; comment is a COMM frame).
 */
export const MediaTags = closed(
  'MediaTags',
  {},
  {
    title: NonEmptyString,
    artist: NonEmptyString,
    album: NonEmptyString,
    albumArtist: NonEmptyString,
    trackNumber: TagText,
    genre: NonEmptyString,
    year: Year,
    composer: NonEmptyString,
    comment: NonEmptyString,
  },
  (tags) => (Object.keys(tags).length === 0 ? { path: [], message: 'give at least one tag, or leave out "tags"' } : undefined),
);

/** An HTTP error status a media URL may answer (§8.6 PlaybackFailed tests). */
const ErrorStatus = new t.Type<number, number, unknown>(
  'HTTP status 400..599',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 400 && u <= 599,
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 400 && u <= 599 ? t.success(u) : t.failure(u, c)),
  t.identity,
);

const AUDIO_FIELDS = ['durationMs', 'stallAtMs', 'stallForMs', 'bytesPerSecond', 'failAfterMs', 'tags'] as const;

/**
 * Audio served at `GET /media/<name>.mp3` for AudioPlayer URLs (§8.3): `durationMs` of silence,
 * optionally behind an ID3 tag (`tags`), sent at `bytesPerSecond`, stalling at `stallAtMs` for
 * `stallForMs` (§8.6 PlaybackStutterStarted/Finished), or broken off after `failAfterMs`
 * (PlaybackFailed in the middle); or no audio at all, an error `status` (PlaybackFailed at start).
 */
export const Media = closed(
  'Media',
  {},
  {
    durationMs: PositiveInt,
    stallAtMs: PositiveInt,
    stallForMs: PositiveInt,
    bytesPerSecond: PositiveInt,
    failAfterMs: PositiveInt,
    tags: MediaTags,
    status: ErrorStatus,
    description: t.string,
  },
  (m) => {
    if (m.status !== undefined) {
      const audio = AUDIO_FIELDS.find((k) => m[k] !== undefined);
      return audio === undefined ? undefined : { path: [audio], message: 'not with "status" (an error answer has no audio)' };
    }
    if (m.durationMs === undefined) return { path: [], message: 'give "durationMs" (the audio) or "status" (an error answer)' };
    if ((m.stallAtMs === undefined) !== (m.stallForMs === undefined)) {
      return m.stallAtMs === undefined ? { path: ['stallForMs'], message: 'only with "stallAtMs"' } : { path: ['stallAtMs'], message: 'only with "stallForMs"' };
    }
    for (const k of ['stallAtMs', 'failAfterMs'] as const) {
      const at = m[k];
      if (at !== undefined && at >= m.durationMs) return { path: [k], message: `must be less than durationMs (${m.durationMs})` };
    }
    if (m.stallAtMs !== undefined && m.failAfterMs !== undefined && m.stallAtMs >= m.failAfterMs) {
      return { path: ['stallAtMs'], message: `must be less than failAfterMs (${m.failAfterMs}): the stream fails before it would stall` };
    }
    return undefined;
  },
);
export type Media = t.TypeOf<typeof Media>;

export const Scenario = closed(
  'Scenario',
  {},
  {
    name: t.string,
    description: t.string,
    answers: t.record(t.string, Reply),
    rules: t.array(Rule),
    pushes: t.array(Push),
    media: t.record(t.string, Media),
  },
);
export type Scenario = t.TypeOf<typeof Scenario>;

/** A scenario that cannot be used; the message names the file, the JSON path and the reason. */
export class ScenarioError extends Error {
  readonly code = 'INVALID_SCENARIO' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** The default scenario: a realistic session (README: the default scenario). */
export const DEFAULT_SCENARIO_FILE = join(__dirname, '..', 'fixtures', 'avs-cloud', 'default.json');

/** Checks a scenario document; `baseDir` resolves attachment files. Throws ScenarioError. */
export function parseScenario(doc: unknown, source = 'scenario', baseDir?: string): Scenario {
  const r = Scenario.validate(doc, [{ key: '', type: Scenario, actual: doc }]);
  if (r._tag === 'Left') throw new ScenarioError(`${source}: ${formatDecodeError(toDecodeError(r.left))}`);
  const scenario = baseDir === undefined ? r.right : withFilesUnder(r.right, baseDir);
  checkScenario(scenario, source);
  return scenario;
}

/** Reads and checks a scenario file. Throws ScenarioError naming the file and the bad key. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(`${file}: cannot read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`${file}: not JSON: ${(e as Error).message}`);
  }
  return parseScenario(doc, file, dirname(resolve(file)));
}

export const loadDefaultScenario = (): Scenario => loadScenario(DEFAULT_SCENARIO_FILE);

/** A reply with its directives and attachments, the named answer resolved. */
export interface ResolvedReply {
  readonly directives: readonly DirectiveTemplate[];
  readonly attachments: Readonly<Record<string, Attachment>>;
}

export function resolveReply(scenario: Scenario, r: { answer?: string; directives?: DirectiveTemplate[]; attachments?: Record<string, Attachment> }): ResolvedReply {
  if (r.answer !== undefined) {
    const answer = scenario.answers?.[r.answer];
    if (!answer) throw new ScenarioError(`no answer named ${JSON.stringify(r.answer)}`);
    return { directives: answer.directives, attachments: answer.attachments ?? {} };
  }
  return { directives: r.directives ?? [], attachments: r.attachments ?? {} };
}

/**
 * The checks the codec cannot make: named answers exist, `cid:` URLs name attachments of their
 * reply, attachment files exist, and every directive decodes strictly after rendering.
 */
export function checkScenario(scenario: Scenario, source = 'scenario'): void {
  const fail = (path: string, message: string): never => {
    throw new ScenarioError(`${source}: ${path}: ${message}`);
  };
  const checkReply = (path: string, r: { answer?: string; directives?: DirectiveTemplate[]; attachments?: Record<string, Attachment> }) => {
    if (r.answer !== undefined && !scenario.answers?.[r.answer]) {
      fail(`${path}.answer`, `no answer named ${JSON.stringify(r.answer)} (answers: ${Object.keys(scenario.answers ?? {}).join(', ') || 'none'})`);
    }
    if (r.answer !== undefined) return; // checked where the answer is defined
    checkDirectives(path, resolveReply(scenario, r));
  };
  const checkDirectives = (path: string, reply: ResolvedReply) => {
    for (const [name, a] of Object.entries(reply.attachments)) {
      if (a.file !== undefined && !existsSync(a.file)) fail(`${path}.attachments.${name}.file`, `no such file ${a.file}`);
    }
    reply.directives.forEach((template, i) => {
      for (const url of cidUrls(template)) {
        if (!(url.slice(4) in reply.attachments)) fail(`${path}.directives[${i}]`, `${url} names no attachment of this reply`);
      }
    });
    sampleDirectives(reply).forEach((doc, i) => {
      const decoded = decodeDirective(doc);
      if (decoded.kind === 'invalid') fail(`${path}.directives[${i}]`, formatDecodeError(decoded.error));
      if (decoded.kind === 'unsupported') {
        fail(`${path}.directives[${i}]`, `${decoded.header.namespace}.${decoded.header.name} is not a directive of the eight interfaces`);
      }
    });
  };
  for (const [name, answer] of Object.entries(scenario.answers ?? {})) checkDirectives(`$.answers.${name}`, resolveReply(scenario, answer));
  for (const name of Object.keys(scenario.media ?? {})) {
    // The name is a path segment of `$url/media/<name>.mp3`, written into templates as it is.
    if (!MEDIA_NAME.test(name)) fail(`$.media[${JSON.stringify(name)}]`, 'a media name takes letters, digits, ".", "_", "-" and "~" only');
  }
  (scenario.rules ?? []).forEach((r, i) => checkReply(`$.rules[${i}]`, r));
  (scenario.pushes ?? []).forEach((p, i) => checkReply(`$.pushes[${i}]`, p));
}

/** URL-safe without escaping (RFC 3986 unreserved characters). */
const MEDIA_NAME = /^[A-Za-z0-9._~-]+$/;

/** Every string `cid:…` in a template. */
function cidUrls(value: unknown): string[] {
  if (typeof value === 'string') return /^cid:/i.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(cidUrls);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(cidUrls);
  return [];
}

/** Attachment files made absolute, relative to the scenario file's folder. */
function withFilesUnder(scenario: Scenario, baseDir: string): Scenario {
  const fix = (attachments: Record<string, Attachment> | undefined) =>
    attachments &&
    Object.fromEntries(Object.entries(attachments).map(([k, a]) => [k, a.file !== undefined && !isAbsolute(a.file) ? { ...a, file: join(baseDir, a.file) } : a]));
  return {
    ...scenario,
    ...(scenario.answers && { answers: Object.fromEntries(Object.entries(scenario.answers).map(([k, a]) => [k, { ...a, attachments: fix(a.attachments) }])) }),
    ...(scenario.rules && { rules: scenario.rules.map((r) => ({ ...r, ...(r.attachments && { attachments: fix(r.attachments) }) })) }),
    ...(scenario.pushes && { pushes: scenario.pushes.map((p) => ({ ...p, ...(p.attachments && { attachments: fix(p.attachments) }) })) }),
  };
}

/**
 * Picks replies as a scenario says, counting events by name as they arrive (`nth`). One per
 * simulator run.
 */
export class ScenarioPlayer {
  private readonly counts = new Map<string, number>();

  constructor(readonly scenario: Scenario) {}

  /** Counts the event and returns its rule, if any. Call once per event, in arrival order. */
  arrived(eventName: string, tag: string | undefined): { rule?: Rule; count: number } {
    const count = (this.counts.get(eventName) ?? 0) + 1;
    this.counts.set(eventName, count);
    const rule = (this.scenario.rules ?? []).find(
      (r) => r.on === eventName && (r.nth === undefined || r.nth === count) && (r.tag === undefined || r.tag === tag),
    );
    return { rule, count };
  }

  /** The pushes due after the `count`-th event of that name. */
  pushesAfter(eventName: string, count: number): Push[] {
    return (this.scenario.pushes ?? []).filter((p) => p.afterEvent === eventName && (p.nth === undefined || p.nth === count));
  }

  /** The pushes timed from the first downchannel. */
  timedPushes(): Push[] {
    return (this.scenario.pushes ?? []).filter((p) => p.afterMs !== undefined);
  }

  resolve(r: Rule | Push): ResolvedReply {
    return resolveReply(this.scenario, r);
  }
}
