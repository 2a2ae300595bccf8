// Figure groups 3 and 4 (issue 11 items 3 and 4), the harness side: spoken turns against a
// simulator that answers at once (StopCapture after 300 ms of audio, then a Speak with its
// attachment as soon as the Recognize body ends).
//   capture → wire: a frame leaving the microphone driver (device clock) → its last byte arriving
//     at the simulator (harness clock, the simulator's waitForAudio hook). Target p99 ≤ 5 ms.
//   attachment → output: the Speak attachment's first bytes reaching the device → the output
//     driver handed them (device clock). Target ≤ 20 ms.
//   end of speech → SpeechStarted: the simulator sending StopCapture → SpeechStarted arriving at
//     the simulator (both on the harness clock): the client's share of user-perceived latency
//     with a cloud that answers at once. Target ≤ 50 ms. Its stages are named as the SDK's.
import { BenchSim } from './bench-sim';
import { epochMs } from './clock';
import type { DialogResult, DialogTask, TurnRecord } from './dialog-device';
import type { Figure, GroupOptions, Mode } from './figures';
import { forkBench } from './ipc';
import { distribution, overRuns, round, type Distribution } from './stats';

const PLAN: Record<Mode, { runs: number; turns: number; warmupTurns: number }> = {
  full: { runs: 5, turns: 30, warmupTurns: 3 },
  quick: { runs: 2, turns: 8, warmupTurns: 2 },
  test: { runs: 1, turns: 2, warmupTurns: 1 },
};

const STOP_CAPTURE_AFTER_MS = 300;
/** 16 kHz 16-bit mono: bytes per ms. */
const BYTES_PER_MS = 32;
const FRAME_BYTES = 320;

/** The SDK's stage names (TtsUplCalculator), plus the two ends on the simulator's side. */
const STAGES = [
  'UTTERANCE_END_TO_STOP_CAPTURE',
  'STOP_CAPTURE_TO_CAPTURE_STOPPED',
  'STOP_CAPTURE_TO_PARSE_COMPLETE',
  'PARSE_COMPLETE_TO_DISPATCH',
  'DISPATCH_TO_FIRST_BYTE_AUDIO',
  'FIRST_BYTE_AUDIO_TO_TTS_STARTED',
  'TTS_STARTED_TO_SPEECH_STARTED_SENT',
  'SPEECH_STARTED_SENT_TO_CLOUD',
] as const;
type Stage = (typeof STAGES)[number];

interface RunFigures {
  readonly captureToWire: Distribution;
  readonly attachmentToOutput: Distribution;
  readonly endOfSpeech: Distribution;
  readonly stages: Record<Stage, number>;
  readonly turns: number;
  readonly clockOffsetMs: number;
  readonly clockRttMs: number;
}

const diff = (a: number | undefined, b: number | undefined): number => (a === undefined || b === undefined ? NaN : a - b);

/** Joins the device's time points with what the simulator saw (after the warm-up turns). */
function analyse(result: DialogResult, sim: BenchSim, warmupTurns: number): RunFigures {
  const off = result.clock.offsetMs;
  const spoken = sim.events.filter((e) => e.name === 'SpeechSynthesizer.SpeechStarted');
  const threshold = STOP_CAPTURE_AFTER_MS * BYTES_PER_MS;
  const wire: number[] = [];
  const toOutput: number[] = [];
  const eos: number[] = [];
  const stages: Record<Stage, number[]> = Object.fromEntries(STAGES.map((s) => [s, []])) as unknown as Record<Stage, number[]>;
  result.turns.forEach((turn: TurnRecord, i) => {
    if (i < warmupTurns) return;
    const audio = sim.audio[i];
    if (!audio) return;
    // Frame k is on the wire once (k+1)·320 bytes of this Recognize have arrived.
    let a = 0;
    turn.frames.forEach((sentAt, k) => {
      const need = (k + 1) * FRAME_BYTES;
      while (a < audio.bytes.length && audio.bytes[a] < need) a++;
      if (a < audio.bytes.length) wire.push(audio.at[a] - (sentAt + off));
    });
    const stopIndex = audio.bytes.findIndex((b) => b >= threshold);
    const stopSentAt = stopIndex >= 0 ? audio.at[stopIndex] : undefined;
    const startedAtCloud = spoken[i]?.at;
    eos.push(diff(startedAtCloud, stopSentAt));
    toOutput.push(diff(turn.outputAudioAt, turn.attachmentArrivedAt));
    const dev = (t: number | undefined) => (t === undefined ? undefined : t + off);
    const add = (s: Stage, v: number) => stages[s].push(v);
    add('UTTERANCE_END_TO_STOP_CAPTURE', diff(dev(turn.stopCaptureAt), stopSentAt));
    add('STOP_CAPTURE_TO_CAPTURE_STOPPED', diff(turn.captureStoppedAt, turn.stopCaptureAt));
    add('STOP_CAPTURE_TO_PARSE_COMPLETE', diff(turn.speakParsedAt, turn.stopCaptureAt));
    add('PARSE_COMPLETE_TO_DISPATCH', diff(turn.speakDispatchedAt, turn.speakParsedAt));
    add('DISPATCH_TO_FIRST_BYTE_AUDIO', diff(turn.outputAudioAt, turn.speakDispatchedAt));
    add('FIRST_BYTE_AUDIO_TO_TTS_STARTED', diff(turn.ttsStartedAt, turn.outputAudioAt));
    add('TTS_STARTED_TO_SPEECH_STARTED_SENT', diff(turn.speechStartedSentAt, turn.ttsStartedAt));
    add('SPEECH_STARTED_SENT_TO_CLOUD', diff(startedAtCloud, dev(turn.speechStartedSentAt)));
  });
  const finite = (xs: number[]) => xs.filter(Number.isFinite);
  return {
    captureToWire: distribution(wire),
    attachmentToOutput: distribution(finite(toOutput)),
    endOfSpeech: distribution(finite(eos)),
    stages: Object.fromEntries(STAGES.map((s) => [s, distribution(finite(stages[s])).p50])) as Record<Stage, number>,
    turns: result.turns.length - warmupTurns,
    clockOffsetMs: off,
    clockRttMs: result.clock.rttMs,
  };
}

async function oneRun(plan: { turns: number; warmupTurns: number }): Promise<RunFigures> {
  const sim = await BenchSim.start({ speakSilenceMs: 500, stopCaptureAfterMs: STOP_CAPTURE_AFTER_MS });
  const child = forkBench();
  child.rpc.handle('now', () => epochMs());
  try {
    const task: DialogTask = { target: sim.target(), turns: plan.turns, warmupTurns: plan.warmupTurns };
    const result = await child.rpc.call<DialogResult>('run', { task: 'dialog', options: task });
    return analyse(result, sim, plan.warmupTurns);
  } finally {
    await child.close();
    await sim.stop();
  }
}

export async function dialogFigures(options: GroupOptions): Promise<Figure[]> {
  const plan = PLAN[options.mode];
  const runs: RunFigures[] = [];
  for (let i = 0; i < (options.runs ?? plan.runs); i++) {
    const r = await oneRun(plan);
    runs.push(r);
    options.progress(
      `dialog run ${i + 1}: capture→wire p50 ${r.captureToWire.p50.toFixed(2)} p99 ${r.captureToWire.p99.toFixed(2)} ms (${r.captureToWire.n} frames); ` +
        `attachment→output p50 ${r.attachmentToOutput.p50.toFixed(2)} ms; end of speech→SpeechStarted p50 ${r.endOfSpeech.p50.toFixed(1)} ms`,
    );
  }
  const stageMedians = Object.fromEntries(STAGES.map((s) => [s, round(overRuns(runs.map((r) => r.stages[s])).median)]));
  return [
    {
      key: 'capture_to_wire_p99_ms',
      label: 'capture → wire p99',
      unit: 'ms',
      values: runs.map((r) => r.captureToWire.p99),
      target: { op: '<=', value: 5 },
      details: {
        frames_per_run: runs.map((r) => r.captureToWire.n),
        p50_ms: runs.map((r) => round(r.captureToWire.p50)),
        max_ms: runs.map((r) => round(r.captureToWire.max)),
        clock_offset_ms: runs.map((r) => round(r.clockOffsetMs)),
        clock_rtt_ms: runs.map((r) => round(r.clockRttMs)),
      },
    },
    { key: 'capture_to_wire_p50_ms', label: 'capture → wire p50', unit: 'ms', values: runs.map((r) => r.captureToWire.p50) },
    {
      key: 'attachment_to_output_ms',
      label: 'Speak attachment → output (p50)',
      unit: 'ms',
      values: runs.map((r) => r.attachmentToOutput.p50),
      target: { op: '<=', value: 20 },
      details: { turns_per_run: runs.map((r) => r.turns), p99_ms: runs.map((r) => round(r.attachmentToOutput.p99)), max_ms: runs.map((r) => round(r.attachmentToOutput.max)) },
    },
    {
      key: 'end_of_speech_to_speech_started_ms',
      label: 'end of speech → SpeechStarted (p50)',
      unit: 'ms',
      values: runs.map((r) => r.endOfSpeech.p50),
      target: { op: '<=', value: 50 },
      details: {
        turns_per_run: runs.map((r) => r.turns),
        p99_ms: runs.map((r) => round(r.endOfSpeech.p99)),
        max_ms: runs.map((r) => round(r.endOfSpeech.max)),
        stages_p50_ms: stageMedians,
      },
    },
  ];
}
