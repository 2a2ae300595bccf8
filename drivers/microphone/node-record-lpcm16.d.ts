// node-record-lpcm16 1.0.1 ships no types. Only what this folder uses, as the library behaves
// (node_modules/node-record-lpcm16/index.js), not as its README hopes.
declare module 'node-record-lpcm16' {
  import type { ChildProcess, SpawnOptions } from 'node:child_process';
  import type { Readable } from 'node:stream';

  export interface RecordOptions {
    sampleRate?: number;
    channels?: number;
    threshold?: number;
    /** Seconds; the library pastes it into sox's silence effect as given. */
    silence?: string | number;
    endOnSilence?: boolean;
    audioType?: string;
    device?: string;
    /** A recorder name in the library's recorders/ folder, or an absolute path to a module of our own. */
    recorder?: string;
    /** Every option, ours included, reaches the recorder module's function unchanged. */
    [option: string]: unknown;
  }

  /** What a recorder module's function returns: the library spawns it with stdio piped. */
  export interface RecorderCommand {
    cmd: string;
    args: string[];
    spawnOptions?: SpawnOptions;
  }

  export interface Recording {
    /**
     * The recorder's stdout. A non-zero (or signal) exit is emitted on it as an 'error' whose
     * value is a string, not an Error, after the stream has ended.
     */
    stream(): Readable;
    /** Sends SIGTERM. */
    stop(): void;
    pause(): void;
    resume(): void;
    isPaused(): boolean;
    readonly process: ChildProcess;
  }

  /** Spawns the recorder at once. */
  export function record(options?: RecordOptions): Recording;
}
