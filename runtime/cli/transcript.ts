// The running transcript of `avs demo` and `avs run`: the attention state, each directive
// received (`← Namespace.Name`) and each event sent (`→ Namespace.Name`), as they happen.
import type { Device } from '../device/device';
import type { CliIo } from './io';

export interface Transcript {
  readonly directives: number;
  readonly events: number;
  /** Prints a line with the running time. */
  line(text: string): void;
}

export function attachTranscript(device: Device, io: CliIo, started = Date.now()): Transcript {
  const t = () => `${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s`;
  let directives = 0;
  let events = 0;
  device.attention$.subscribe((a) => io.out(`${t()}  attention  ${a}`));
  device.directives$.subscribe((d) => {
    directives++;
    io.out(`${t()}  ← ${d.namespace}.${d.name}${d.dialogRequestId ? `  (dialog ${d.dialogRequestId.slice(0, 8)})` : ''}`);
  });
  device.events$.subscribe((e) => {
    events++;
    io.out(`${t()}  → ${e.name}${e.queued ? '' : '  (not sent: offline)'}`);
  });
  device.exceptions$.subscribe((e) => io.out(`${t()}  !! AVS: ${e.code}${e.description ? ` ${e.description}` : ''}`));
  return {
    get directives() {
      return directives;
    },
    get events() {
      return events;
    },
    line: (text) => io.out(`${t()}  ${text}`),
  };
}
