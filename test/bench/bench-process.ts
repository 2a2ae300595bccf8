// The entry of every process the harness forks (ipc.ts forkBench): it waits for one `run` call
// naming a task and its options, runs it, and hands back the result. The process loads
// TypeScript as the product does (`require('tsx/cjs')`, runtime/cli/avs.js), not through
// tsx's ESM loader, whose worker thread alone adds some 30 MB of RSS; and each task's module is
// required only when asked for, so a process carries only what its measurement needs.
import { performance } from 'node:perf_hooks';
import type { DialogTask } from './dialog-device';
import type { DirectivesTask } from './directives-device';
import { parentRpc } from './ipc';
import type { LifecycleTask } from './lifecycle-device';
import type { MultipartTask } from './multipart-readers';

/** When this module started running, after Node's start and tsx's hook (ms since timeOrigin). */
const entryAt = performance.now();

export type BenchRequest =
  | { readonly task: 'directives'; readonly options: DirectivesTask }
  | { readonly task: 'dialog'; readonly options: DialogTask }
  | { readonly task: 'lifecycle'; readonly options: LifecycleTask }
  | { readonly task: 'multipart'; readonly options: MultipartTask };

const rpc = parentRpc();

rpc.handle('run', async (request: BenchRequest): Promise<unknown> => {
  switch (request.task) {
    case 'directives':
      return (require('./directives-device') as typeof import('./directives-device')).runDirectivesDevice(rpc, request.options);
    case 'dialog':
      return (require('./dialog-device') as typeof import('./dialog-device')).runDialogDevice(rpc, request.options);
    case 'lifecycle':
      return (require('./lifecycle-device') as typeof import('./lifecycle-device')).runLifecycleDevice(request.options, entryAt);
    case 'multipart':
      return (require('./multipart-readers') as typeof import('./multipart-readers')).runMultipartBench(request.options);
  }
});

// The harness closes the channel when it is done with this process.
process.on('disconnect', () => process.exit(0));
