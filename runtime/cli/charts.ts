// `avs charts`: the statecharts of the device's machines as files (runtime/inspector/chart.ts),
// drawn from the machine definitions, offline.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnyStateMachine } from 'xstate';
import { chartDot, chartJson, chartMermaid, chartSvg, DEVICE_MACHINES } from '../inspector/chart';
import { type CliIo, EXIT_FAILED, EXIT_OK, UsageError } from './io';

const FORMATS = {
  svg: { ext: 'svg', render: chartSvg },
  mermaid: { ext: 'mmd', render: (m: AnyStateMachine) => Promise.resolve(chartMermaid(m)) },
  json: { ext: 'json', render: (m: AnyStateMachine) => Promise.resolve(`${JSON.stringify(chartJson(m), null, 2)}\n`) },
  dot: { ext: 'dot', render: (m: AnyStateMachine) => Promise.resolve(chartDot(m)) },
} as const;
type Format = keyof typeof FORMATS;
const isFormat = (f: string): f is Format => Object.hasOwn(FORMATS, f);

export const chartsHelp = `usage: avs charts [--format svg|mermaid|json|dot] --out DIR [--machine NAME]...

Writes the statechart of each machine of the device to DIR (created if missing), one file per
machine: NAME.svg (Graphviz, rendered offline), NAME.mmd (Mermaid stateDiagram-v2), NAME.json
(states and transitions) or NAME.dot. Prints each file written.

  --format F      svg (default), mermaid, json or dot
  --out DIR       where the files go
  --machine NAME  only this machine (repeatable); one of:
                  ${Object.keys(DEVICE_MACHINES).join(', ')}

Exit status: 0 written, 1 a file could not be written, 2 bad usage.`;

export async function chartsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      format: { type: 'string', default: 'svg' },
      out: { type: 'string' },
      machine: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    io.out(chartsHelp);
    return EXIT_OK;
  }
  const format = values.format;
  if (!isFormat(format)) throw new UsageError(`unknown format "${format}" (allowed: ${Object.keys(FORMATS).join(', ')})`);
  if (!values.out) throw new UsageError('no --out DIR given (see avs charts --help)');
  const names = values.machine ?? Object.keys(DEVICE_MACHINES);
  const unknown = names.filter((n) => !Object.hasOwn(DEVICE_MACHINES, n));
  if (unknown.length > 0) throw new UsageError(`unknown machine "${unknown.join('", "')}" (machines: ${Object.keys(DEVICE_MACHINES).join(', ')})`);
  const { ext, render } = FORMATS[format];
  const out = values.out;
  try {
    await mkdir(out, { recursive: true });
  } catch (e) {
    io.err(`avs charts: cannot create ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return EXIT_FAILED;
  }
  for (const name of names) {
    const file = join(out, `${name}.${ext}`);
    try {
      await writeFile(file, await render(DEVICE_MACHINES[name] as AnyStateMachine));
    } catch (e) {
      io.err(`avs charts: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return EXIT_FAILED;
    }
    io.out(file);
  }
  return EXIT_OK;
}
