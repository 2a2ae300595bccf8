// A named pipe to hand a stream to a player that only takes paths (play-sound passes a path and
// ignores stdin). The writer opens non-blocking, polling until the player has opened its end: a
// blocking open would hold one of libuv's few threadpool threads for as long as the player takes,
// forever if it dies first.
import { spawnSync } from 'node:child_process';
import { constants, mkdtempSync, open, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Fifo {
  private constructor(
    private readonly dir: string,
    readonly path: string,
  ) {}

  /** Makes the pipe in a fresh temp dir; throws when mkfifo fails. */
  static create(name = 'audio'): Fifo {
    const dir = mkdtempSync(join(tmpdir(), 'avs-audio-'));
    const path = join(dir, name);
    const made = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8' });
    if (made.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mkfifo failed: ${made.error?.message ?? made.stderr.trim()}`);
    }
    return new Fifo(dir, path);
  }

  /**
   * The write end as a socket (non-blocking writes; EPIPE as an 'error' when the reader goes),
   * once a reader has the pipe open. Rejects when `signal` aborts first.
   */
  openWriter(signal: AbortSignal, pollMs = 5): Promise<Socket> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        reject(new Error('aborted'));
      };
      const attempt = (): void => {
        timer = undefined;
        open(this.path, constants.O_WRONLY | constants.O_NONBLOCK, (error, fd) => {
          if (signal.aborted) {
            if (error === null) new Socket({ fd, readable: false, writable: true }).destroy();
            return;
          }
          // ENXIO: no reader yet.
          if (error?.code === 'ENXIO') {
            timer = setTimeout(attempt, pollMs);
            return;
          }
          signal.removeEventListener('abort', onAbort);
          if (error !== null) return reject(error);
          resolve(new Socket({ fd, readable: false, writable: true }));
        });
      };
      if (signal.aborted) return reject(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      attempt();
    });
  }

  /** Removes the pipe and its dir (safe to call more than once, and while a reader still has it open). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
