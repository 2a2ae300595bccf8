// Turning a scenario reply into the parts the simulator sends: placeholders filled, a messageId
// for every directive, `cid:` URLs pointed at attachments with fresh Content-IDs (PROTOCOL.md
// §1.5.1), and the attachments' MP3 bytes made.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { silentMp3 } from './mp3';
import type { ResponsePart } from './multipart-body';
import type { Attachment, ResolvedReply } from './scenario';

export interface RenderContext {
  /** Milliseconds since the epoch for `$now` (the simulator's clock). */
  readonly now: number;
  /** The simulator's base URL, for `$url`. */
  readonly url: string;
  /** The dialogRequestId of the Recognize that triggered the reply, for `$dialogRequestId`. */
  readonly dialogRequestId?: string;
  /**
   * The reply answers a Recognize: directives whose header has no dialogRequestId get the
   * Recognize's (§2.2, §4.4: the answer to a Recognize belongs to its dialog).
   */
  readonly answersRecognize?: boolean;
}

// `$now`, `$now+5s`, `$now-90m`, `$now+250ms`, `$dialogRequestId`, `$uuid`, `$url`.
const PLACEHOLDER = /\$(dialogRequestId|uuid|url|now(?:[+-]\d+(?:ms|s|m|h))?)/g;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** §2.4: an ISO 8601 time as AVS writes it, `2024-03-02T06:45:00+0000` (rounded up to the second). */
export function formatAvsTime(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

function placeholderValue(name: string, ctx: RenderContext): string {
  if (name === 'dialogRequestId') return ctx.dialogRequestId ?? '';
  if (name === 'uuid') return randomUUID();
  if (name === 'url') return ctx.url;
  const m = /^now(?:([+-])(\d+)(ms|s|m|h))?$/.exec(name);
  const offset = m?.[1] ? (m[1] === '-' ? -1 : 1) * Number(m[2]) * UNIT_MS[m[3]] : 0;
  return formatAvsTime(ctx.now + offset);
}

/** A string with its placeholders filled. */
export const fillPlaceholders = (s: string, ctx: RenderContext): string => s.replace(PLACEHOLDER, (_all, name: string) => placeholderValue(name, ctx));

/** A copy of a JSON value with placeholders and `cid:` names filled in every string. */
function fill(value: unknown, ctx: RenderContext, contentIds: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    if (/^cid:/i.test(value) && contentIds.has(value.slice(4))) return `cid:${contentIds.get(value.slice(4))}`;
    return fillPlaceholders(value, ctx);
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, ctx, contentIds));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // `"$dialogRequestId"` alone, with no Recognize behind the reply: leave the field out.
      if (v === '$dialogRequestId' && ctx.dialogRequestId === undefined) continue;
      out[k] = fill(v, ctx, contentIds);
    }
    return out;
  }
  return value;
}

/** An attachment's bytes. */
export function attachmentData(a: Attachment): Buffer {
  return a.file !== undefined ? readFileSync(a.file) : silentMp3(a.silenceMs ?? 0);
}

/** The directive documents of a reply, in order, and the Content-IDs its attachments got. */
export function renderDirectives(reply: ResolvedReply, ctx: RenderContext): { directives: object[]; contentIds: Map<string, string> } {
  // AVS-like ids (`DeviceTTSRendererV4_…_1934409815`): unique per use, so two answers never share one.
  const contentIds = new Map(Object.keys(reply.attachments).map((name) => [name, `${name}_${randomBytes(8).toString('hex')}`]));
  const directives = reply.directives.map((template) => {
    const doc = fill(template, ctx, contentIds) as { directive: { header: Record<string, unknown>; payload: unknown } };
    const header = doc.directive.header;
    if (header.messageId === undefined || header.messageId === '') header.messageId = randomUUID();
    if (ctx.answersRecognize && ctx.dialogRequestId !== undefined && header.dialogRequestId === undefined) {
      header.dialogRequestId = ctx.dialogRequestId;
    }
    // Header fields first, as AVS writes them.
    doc.directive.header = { namespace: header.namespace, name: header.name, messageId: header.messageId, ...header };
    return doc;
  });
  return { directives, contentIds };
}

/** The parts of a reply: its directives in order, then its attachments (as AVS sends a Speak). */
export function renderReply(reply: ResolvedReply, ctx: RenderContext): ResponsePart[] {
  const { directives, contentIds } = renderDirectives(reply, ctx);
  return [
    ...directives.map((body): ResponsePart => ({ kind: 'json', body })),
    ...Object.entries(reply.attachments).map(
      ([name, a]): ResponsePart => ({ kind: 'attachment', contentId: contentIds.get(name) ?? name, data: attachmentData(a) }),
    ),
  ];
}

/** A reply's directives with sample placeholder values, as answers to a Recognize (for checks). */
export const sampleDirectives = (reply: ResolvedReply): object[] =>
  renderDirectives(reply, { now: Date.now(), url: 'http://127.0.0.1:1', dialogRequestId: 'sample-dialog-request-id', answersRecognize: true }).directives;
