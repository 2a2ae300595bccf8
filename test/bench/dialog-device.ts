// Figure groups 3 and 4, the device's side (runs in its own process): spoken turns with a
// microphone that produces a 10 ms frame every 10 ms. For each turn it notes, on this process's
// clock, when each frame left the microphone driver and the time points of the AVS SDK's
// user-perceived-latency stages (alexa/avs-device-sdk metrics/UplCalculator, TtsUplCalculator):
// STOP_CAPTURE arriving, the capture stopped, the Speak's PARSE_COMPLETE and DIRECTIVE_DISPATCHED,
// the attachment's first bytes arriving and being handed to the output, TTS_STARTED, and
// SpeechStarted being sent. The harness adds what the simulator saw and puts both on one time line.
import type { AvsPart } from '../../services/multipart';
import { startBenchDevice, type DeviceTarget } from './bench-device';
import { dialogTurn } from './turn';
import { calibrate, epochMs, type ClockOffset } from './clock';
import type { Rpc } from './ipc';
import { BenchMicrophone, TimedOutput } from './timed-drivers';
import { WireTap } from './wire-tap';

export interface DialogTask {
  readonly target: DeviceTarget;
  /** Turns measured, after `warmupTurns` that are not. */
  readonly turns: number;
  readonly warmupTurns: number;
}

/** One turn's time points (epochMs on the device's clock). */
export interface TurnRecord {
  /** When each 10 ms frame left the microphone driver. */
  frames: number[];
  /** The chunk that completed StopCapture reached JavaScript (the SDK's STOP_CAPTURE). */
  stopCaptureAt?: number;
  /** The runtime stopped the microphone. */
  captureStoppedAt?: number;
  /** The Speak was parsed and decoded (PARSE_COMPLETE). */
  speakParsedAt?: number;
  /** The Speak left the sequencer for the synthesizer (DIRECTIVE_DISPATCHED). */
  speakDispatchedAt?: number;
  /** The chunk holding the Speak attachment's first bytes reached JavaScript. */
  attachmentArrivedAt?: number;
  /** The output driver was handed the first audio bytes (FIRST_BYTES_AUDIO). */
  outputAudioAt?: number;
  /** The playback reported started (TTS_STARTED). */
  ttsStartedAt?: number;
  /** SpeechStarted left the synthesizer for the event sender. */
  speechStartedSentAt?: number;
}

export interface DialogResult {
  readonly clock: ClockOffset;
  /** Every turn, warm-up turns first. */
  readonly turns: readonly TurnRecord[];
}

export async function runDialogDevice(rpc: Rpc, task: DialogTask): Promise<DialogResult> {
  const tap = new WireTap().install();
  const output = new TimedOutput();
  const microphone = new BenchMicrophone({ paced: true });
  const bench = startBenchDevice(task.target, { output, microphone });
  const { device } = bench;
  const turns: TurnRecord[] = [];
  let turn: TurnRecord = { frames: [] };
  // PARSE_COMPLETE is the moment the reader hands a part to the directive pipeline: the device
  // subscribed its pipeline before anyone else could, so the pipeline's entry is wrapped (on this
  // instance only) to note it before the part is carried out.
  const pipeline = device.pipeline;
  const accept = pipeline.accept.bind(pipeline);
  pipeline.accept = (part: AvsPart) => {
    if (part.kind === 'attachment') {
      turn.attachmentArrivedAt ??= tap.lastChunkAt;
    } else if (part.kind === 'directive' && part.result.kind === 'ok') {
      const name = part.result.header.name;
      if (name === 'StopCapture') turn.stopCaptureAt ??= tap.lastChunkAt;
      if (name === 'Speak') turn.speakParsedAt ??= epochMs();
    }
    accept(part);
  };
  const subs = [
    device.directives$.subscribe((item) => {
      if (item.name === 'Speak') turn.speakDispatchedAt ??= epochMs();
    }),
    device.events$.subscribe((e) => {
      if (e.name === 'SpeechSynthesizer.SpeechStarted') turn.speechStartedSentAt ??= epochMs();
    }),
  ];
  try {
    await device.whenConnected();
    const clock = await calibrate(() => rpc.call<number>('now'));
    for (let i = 0; i < task.warmupTurns + task.turns; i++) {
      turn = { frames: [] };
      await dialogTurn(device);
      const capture = microphone.captures.at(-1);
      const play = output.plays.at(-1);
      turn.frames = capture?.frames ?? [];
      turn.captureStoppedAt = capture?.stoppedAt;
      turn.outputAudioAt = play?.firstChunkAt;
      turn.ttsStartedAt = play?.startedAt;
      turns.push(turn);
    }
    return { clock, turns };
  } finally {
    for (const s of subs) s.unsubscribe();
    tap.uninstall();
    await bench.dispose();
  }
}
