// Figure group 2 (issue 11 item 2), the harness side: the readers run side by side in one fresh
// process (multipart-readers.ts). Targets: ours ≥ 1 GB/s (1,000 MB/s) and not slower than dicer.
import type { Figure, GroupOptions, Mode } from './figures';
import { forkBench } from './ipc';
import type { MultipartResult, MultipartTask } from './multipart-readers';
import { round } from './stats';

const PLAN: Record<Mode, MultipartTask> = {
  full: { bodyBytes: 200_000_000, partBytes: 500_000, chunkBytes: 16 * 1024, rounds: 5 },
  quick: { bodyBytes: 50_000_000, partBytes: 500_000, chunkBytes: 16 * 1024, rounds: 3 },
  test: { bodyBytes: 2_000_000, partBytes: 500_000, chunkBytes: 16 * 1024, rounds: 1 },
};

export async function multipartFigures(options: GroupOptions): Promise<Figure[]> {
  const plan = { ...PLAN[options.mode], ...(options.runs ? { rounds: options.runs } : {}) };
  const child = forkBench();
  let r: MultipartResult;
  try {
    r = await child.rpc.call<MultipartResult>('run', { task: 'multipart', options: plan });
  } finally {
    await child.close();
  }
  const m = r.mbPerS;
  options.progress(
    `multipart: ${(r.bodyBytes / 1e6).toFixed(0)} MB, ${r.binaryParts} binary parts, ${r.chunks} chunks; MB/s per round — ` +
      (Object.keys(m) as (keyof typeof m)[]).map((k) => `${k} ${m[k].map((x) => x.toFixed(0)).join('/')}`).join(', '),
  );
  const body = { body_mb: round(r.bodyBytes / 1e6, 1), binary_parts: r.binaryParts, chunk_bytes: plan.chunkBytes };
  return [
    {
      key: 'multipart_mb_per_s',
      label: 'multipart reader (readMultipart)',
      unit: 'MB/s',
      values: m.ours,
      target: { op: '>=', value: 1000 },
      details: { ...body, reader: 'readMultipart: Readable in, parts out, every attachment read as a stream' },
    },
    {
      key: 'multipart_vs_dicer',
      label: 'multipart: ours / dicer',
      unit: '×',
      values: m.ours.map((x, i) => x / m.dicer[i]),
      target: { op: '>=', value: 1 },
    },
    { key: 'multipart_parser_mb_per_s', label: 'multipart: MultipartParser alone', unit: 'MB/s', values: m.parser },
    { key: 'multipart_dicer_mb_per_s', label: 'multipart: dicer 0.3.1', unit: 'MB/s', values: m.dicer },
    { key: 'multipart_indexof_mb_per_s', label: 'multipart: Buffer.indexOf splitter', unit: 'MB/s', values: m.indexOf },
  ];
}
