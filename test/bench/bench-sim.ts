// The simulator as the bench runs it, in the harness process (the device runs in its own): it
// answers every Recognize at once with a Speak and its MP3 attachment, ends a capture with
// StopCapture as soon as `stopCaptureAfterMs` of audio arrived, answers every other event 204,
// and pushes SetVolume directives at a steady rate on demand. Through the simulator's own hooks
// (waitForAudio / waitForEvent predicates, called as audio and events arrive) it notes when
// things reached it, in epochMs.
import { epochMs } from './clock';
import type { DeviceTarget } from './bench-device';
import { parseScenario, startSimulator, type Simulator } from '../avs-cloud';
import type { AudioStats } from '../avs-cloud/recorder';

export interface BenchSimOptions {
  /** The Speak attachment's length (generated MP3 silence). */
  readonly speakSilenceMs: number;
  /** StopCapture once this much audio (ms of 16 kHz PCM) has arrived. */
  readonly stopCaptureAfterMs: number;
}

/** One Recognize's audio as it arrived: cumulative bytes at each arrival. */
export interface AudioArrivals {
  readonly at: number[];
  readonly bytes: number[];
}

export interface EventArrival {
  readonly name: string;
  readonly at: number;
}

/** The volume a pushed SetVolume carries: consecutive ones always differ, so each moves the output. */
export const volumeOf = (seq: number): number => 1 + (seq % 100);

export class BenchSim {
  /** Recognize audio in arrival order of the Recognize events. */
  readonly audio: AudioArrivals[] = [];
  readonly events: EventArrival[] = [];
  private readonly byStats = new Map<AudioStats, AudioArrivals>();

  private constructor(readonly sim: Simulator) {
    const forever = 2 ** 31 - 1;
    // Predicates that never match: called on every arrival until the simulator stops.
    sim
      .waitForAudio((stats) => {
        this.audioArrived(stats);
        return false;
      }, { timeoutMs: forever })
      .catch(() => undefined);
    sim
      .waitForEvent((e) => {
        this.events.push({ name: e.name, at: epochMs() });
        return false;
      }, forever)
      .catch(() => undefined);
  }

  static async start(options: BenchSimOptions): Promise<BenchSim> {
    const scenario = parseScenario({
      answers: {
        answer: {
          directives: [
            {
              directive: {
                header: { namespace: 'SpeechSynthesizer', name: 'Speak' },
                payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 'bench-$uuid' },
              },
            },
          ],
          attachments: { tts: { silenceMs: options.speakSilenceMs } },
        },
      },
      rules: [{ on: 'SpeechRecognizer.Recognize', answer: 'answer' }],
    });
    // idleMs: a paced capture never pauses that long; afterAudioMs decides when StopCapture goes.
    const sim = await startSimulator({ scenario, stopCapture: { idleMs: 2000, afterAudioMs: options.stopCaptureAfterMs } });
    return new BenchSim(sim);
  }

  target(): DeviceTarget {
    if (!this.sim.caPath) throw new Error('bench: the simulator runs without TLS');
    return { url: this.sim.url, caPath: this.sim.caPath, token: this.sim.defaultToken };
  }

  /**
   * Pushes `count` Speaker.SetVolume directives (sequence numbers from `first`, messageId
   * `bench-<seq>`) at `rate` per second on the downchannel, on a schedule that does not drift
   * (Node's timers are ~1 ms, so at high rates several go in one turn of the event loop).
   * Resolves with the time each had been written (epochMs) once all have.
   */
  pushAtRate(count: number, rate: number, first: number): Promise<number[]> {
    const sentAt: number[] = new Array<number>(count);
    const t0 = performance.now();
    let i = 0;
    return new Promise<number[]>((resolve) => {
      const tick = () => {
        const due = Math.min(count, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
        for (; i < due; i++) {
          const seq = first + i;
          this.sim.pushDirective({
            directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: `bench-${seq}` }, payload: { volume: volumeOf(seq) } },
          });
          sentAt[i] = epochMs();
        }
        if (i >= count) resolve(sentAt);
        else setTimeout(tick, Math.max(0, t0 + (i * 1000) / rate - performance.now()));
      };
      tick();
    });
  }

  stop(): Promise<void> {
    return this.sim.stop();
  }

  private audioArrived(stats: AudioStats): void {
    let arrivals = this.byStats.get(stats);
    if (!arrivals) {
      arrivals = { at: [], bytes: [] };
      this.byStats.set(stats, arrivals);
      this.audio.push(arrivals);
    }
    if (arrivals.bytes.at(-1) === stats.bytes) return;
    arrivals.at.push(epochMs());
    arrivals.bytes.push(stats.bytes);
  }
}
