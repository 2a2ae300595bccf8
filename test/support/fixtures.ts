// The bundled example messages (test/fixtures/messages/valid), by file name.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, '..', 'fixtures');
export const VALID_DIR = join(FIXTURES, 'messages', 'valid');

export interface Example {
  /** File name without `.json`, e.g. `Speaker.SetVolume` or `AudioPlayer.Play.attachment`. */
  readonly file: string;
  /** `Namespace.Name` of the message. */
  readonly name: string;
  readonly doc: unknown;
}

export function loadExamples(): Example[] {
  return readdirSync(VALID_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = f.replace(/\.json$/, '');
      const [ns, name] = file.split('.');
      return { file, name: `${ns}.${name}`, doc: JSON.parse(readFileSync(join(VALID_DIR, f), 'utf8')) as unknown };
    });
}

/** A deep copy of an example. */
export const copyOf = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Sets (or, with `undefined`, deletes) the value at a dotted path such as `directive.payload.volume`. */
export function mutate(doc: unknown, path: string, value: unknown): unknown {
  const out = copyOf(doc) as Record<string, unknown>;
  const keys = path.split('.');
  let node: Record<string, unknown> = out;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return out;
}
