// The bench's processes talk over Node's IPC channel: the harness (which also runs the simulator)
// forks a fresh process per measurement, and each side can call the other's named handlers
// (`call('push', …)` from the device process, `call('run', …)` from the harness).
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

type Handler = (arg: never) => unknown;

type Message =
  | { readonly bench: 'call'; readonly id: number; readonly method: string; readonly arg: unknown }
  | { readonly bench: 'reply'; readonly id: number; readonly ok: boolean; readonly value?: unknown; readonly error?: string };

interface Port {
  send(message: Message): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && 'bench' in m;

export class Rpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly port: Port) {
    port.on('message', (m) => {
      if (isMessage(m)) void this.receive(m);
    });
  }

  /** Calls the other side's handler; resolves with what it returned. */
  call<R>(method: string, arg?: unknown): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.send({ bench: 'call', id, method, arg });
    });
  }

  handle<A, R>(method: string, fn: (arg: A) => R | Promise<R>): void {
    this.handlers.set(method, fn as Handler);
  }

  /** Every call still waiting fails (the other side went away). */
  failAll(reason: string): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }

  private async receive(m: Message): Promise<void> {
    if (m.bench === 'reply') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
      return;
    }
    const handler = this.handlers.get(m.method);
    try {
      if (!handler) throw new Error(`no handler for ${m.method}`);
      const value = await (handler as (arg: unknown) => unknown)(m.arg);
      this.port.send({ bench: 'reply', id: m.id, ok: true, value });
    } catch (e) {
      this.port.send({ bench: 'reply', id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }
}

export interface BenchChild {
  readonly process: ChildProcess;
  readonly rpc: Rpc;
  /** Resolves with the exit code once the process has gone. */
  readonly exited: Promise<number | null>;
  /** Ends the process (after its work is done: its handles need not be closed). */
  close(): Promise<void>;
}

/** Extra node flags for every bench process (e.g. `--cpu-prof --cpu-prof-dir=D` from BENCH_NODE_FLAGS). */
const extraFlags = (): string[] => (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

/**
 * Forks `test/bench/bench-process.ts` in a fresh Node (run by tsx, with `--expose-gc` so memory is
 * read after a collection). Its stdout and stderr go to this process's stderr, so `--json` output
 * stays one JSON document.
 */
export function forkBench(): BenchChild {
  const child = fork(join(__dirname, 'bench-process.ts'), [], {
    cwd: join(__dirname, '..', '..'),
    execArgv: ['--require', 'tsx/cjs', '--expose-gc', ...extraFlags()],
    stdio: ['ignore', 2, 2, 'ipc'],
    env: { ...process.env, BENCH_CHILD: '1' },
  });
  const rpc = new Rpc({ send: (m) => child.send(m), on: (e, l) => child.on(e, l) });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => rpc.failAll(`the bench process exited (code ${code})`));
  return {
    process: child,
    rpc,
    exited,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** In a forked bench process: the channel to the harness. */
export function parentRpc(): Rpc {
  if (!process.send) throw new Error('bench: not started with an IPC channel (run through test/bench/main.ts)');
  const send = process.send.bind(process);
  return new Rpc({ send: (m) => void send(m), on: (e, l) => process.on(e, l) });
}
