// End to end, a spoken dialog (PROTOCOL.md §4.4–§4.6, §5, §6): createDevice with the file
// microphone and the recording output against the simulator over real HTTP/2 on 127.0.0.1.
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { filter, firstValueFrom } from 'rxjs';
import { waitFor } from 'xstate';
import { RecordingOutput } from '../../../drivers/audio-output/recording-output';
import { PlaySoundOutput } from '../../../drivers/audio-output/play-sound-output';
import type { AudioOutput } from '../../../drivers/audio-output/output';
import { FileMicrophone } from '../../../drivers/microphone/file-microphone';
import { Lpcm16Microphone } from '../../../drivers/microphone/lpcm16-microphone';
import { StreamMicrophone } from '../../../drivers/microphone/stream-microphone';
import { MicrophoneError, type Microphone } from '../../../drivers/microphone/microphone';
import { createLogger, silentLogger } from '../../../services/log/logger';
import { StaticTokenSource } from '../../../services/transport';
import { createDevice, type Device, type DeviceConfig } from '../../../runtime/device/device';
import { parseScenario, startSimulator, type Simulator } from '../../avs-cloud';
import type { ReceivedEvent } from '../../avs-cloud/recorder';

const WAV = join(__dirname, '..', '..', 'fixtures', 'audio', 'what-time-is-it.wav');

const speak = (token: string, silenceMs: number) => ({
  directives: [{ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token } } }],
  attachments: { tts: { silenceMs } },
});

/** A question, a question with a follow-up (ExpectSpeech), and the answer to the follow-up. */
const SCENARIO = parseScenario({
  answers: {
    answer: speak('tts-answer-$uuid', 20_000),
    ask: {
      directives: [
        { directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 'tts-ask' } } },
        {
          directive: {
            header: { namespace: 'SpeechRecognizer', name: 'ExpectSpeech' },
            payload: { timeoutInMilliseconds: 400, initiator: { type: 'TAP', payload: { token: 'follow-up' } } },
          },
        },
      ],
      attachments: { tts: { silenceMs: 600 } },
    },
  },
  rules: [
    { on: 'SpeechRecognizer.Recognize', tag: 'ask', answer: 'ask' },
    { on: 'SpeechRecognizer.Recognize', answer: 'answer' },
  ],
});

let sim: Simulator;
const devices: Device[] = [];

beforeEach(async () => {
  sim = await startSimulator({ scenario: SCENARIO, stopCapture: { idleMs: 300, afterAudioMs: 600 } });
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.stop();
  await sim.stop();
});

function device(extra: Partial<DeviceConfig> = {}): Device {
  const d = createDevice({
    endpoint: sim.url,
    caFile: sim.caPath,
    tokens: new StaticTokenSource(sim.defaultToken),
    logger: process.env.AVS_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
    seed: 3,
    ...extra,
    drivers: { microphone: new FileMicrophone(WAV, { then: 'silence' }), output: new RecordingOutput(), ...extra.drivers },
  });
  devices.push(d);
  return d;
}

const names = (from = 0) => sim.receivedEvents().slice(from).map((e) => e.name);
const idle = (d: Device) => waitFor(d.actors.speechRecognizer, (s) => s.matches('IDLE'), { timeout: 10_000 });
const synthesizerDone = (d: Device) => waitFor(d.actors.speechSynthesizer, (s) => s.matches('FINISHED') && s.context.queue.length === 0, { timeout: 10_000 });

describe('a spoken dialog against the simulator', () => {
  it('tap → Recognize streamed as captured → StopCapture → Speak played as it arrives → SpeechStarted, SpeechFinished (§4.6)', async () => {
    const output = new RecordingOutput();
    const d = device({ drivers: { output } });
    const attention: string[] = [];
    d.attention$.subscribe((a) => attention.push(a));
    await d.whenConnected();
    d.tap();
    const recognize = await sim.waitForEvent('SpeechRecognizer.Recognize');
    expect(recognize.document.event.payload).toEqual({ profile: 'NEAR_FIELD', format: 'AUDIO_L16_RATE_16000_CHANNELS_1', initiator: { type: 'TAP', payload: {} } });
    expect(recognize.document.context).toEqual(expect.arrayContaining([expect.objectContaining({ header: { namespace: 'SpeechSynthesizer', name: 'SpeechState' } })]));
    const record = await recognize.completed;
    // The audio went as it was captured, in 10 ms frames, over many DATA frames, until StopCapture.
    expect(record.audio?.chunks).toBeGreaterThan(10);
    expect((record.audio?.bytes ?? 0) % 320).toBe(0);
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 10_000);
    const turn = names().filter((n) => n.startsWith('Speech'));
    expect(turn).toEqual(['SpeechRecognizer.Recognize', 'SpeechSynthesizer.SpeechStarted', 'SpeechSynthesizer.SpeechFinished']);
    const started = eventNamed('SpeechSynthesizer.SpeechStarted');
    expect(started.document.event.payload.token).toMatch(/^tts-answer-/);
    // The speech began with its first bytes, before the last of the attachment had arrived.
    const played = await output.waitForRecording(0);
    expect(played.chunks.length).toBeGreaterThan(1);
    expect(played.startedAt).toBeLessThanOrEqual(played.chunks.at(-1)?.at ?? 0);
    expect(played.outcome).toBe('finished');
    await idle(d);
    expect(attention).toEqual(expect.arrayContaining(['IDLE', 'LISTENING', 'THINKING', 'SPEAKING']));
    expect(attention.indexOf('LISTENING')).toBeLessThan(attention.indexOf('THINKING'));
    expect(attention.indexOf('THINKING')).toBeLessThan(attention.indexOf('SPEAKING'));
    // The synthesizer gives the channel back one turn after its Speak (its HANDOVER): wait for it.
    await waitFor(d.actors.focus, (s) => Object.keys(s.context.owners).length === 0, { timeout: 5000 });
  });

  it('ExpectSpeech after the Speak opens the microphone for a second turn, echoing its initiator (§5.6, §4.4)', async () => {
    const d = device();
    await d.whenConnected();
    sim.tagNext('ask');
    d.tap();
    const first = await sim.waitForEvent('SpeechRecognizer.Recognize');
    const second = await sim.waitForEvent((e) => e.name === 'SpeechRecognizer.Recognize' && e.index > first.index, 10_000);
    expect(second.document.event.header.dialogRequestId).not.toBe(first.document.event.header.dialogRequestId);
    expect(second.document.event.payload.initiator).toEqual({ type: 'TAP', payload: { token: 'follow-up' } });
    // The microphone opened only after Alexa finished the question (§4.4 step 3).
    const order = names().filter((n) => n.startsWith('Speech'));
    expect(order.slice(0, 4)).toEqual(['SpeechRecognizer.Recognize', 'SpeechSynthesizer.SpeechStarted', 'SpeechSynthesizer.SpeechFinished', 'SpeechRecognizer.Recognize']);
    await sim.waitForEvent((e) => e.name === 'SpeechSynthesizer.SpeechFinished' && e.index > second.index, 10_000);
  });

  it('on a push-to-talk device a silent ExpectSpeech ends with ExpectSpeechTimedOut (§5.4)', async () => {
    const d = device({ recognizer: { listenOnExpectSpeech: false } });
    await d.whenConnected();
    sim.tagNext('ask');
    d.tap();
    await sim.waitForEvent('SpeechRecognizer.ExpectSpeechTimedOut', 10_000);
    await idle(d);
    expect(names().filter((n) => n === 'SpeechRecognizer.Recognize')).toHaveLength(1);
  });

  it('barge-in: a tap while Alexa speaks stops the speech without SpeechFinished and starts a new dialog (§4.5)', async () => {
    const output = new RecordingOutput({ paced: true });
    const d = device({ drivers: { output } });
    await d.whenConnected();
    d.tap();
    await sim.waitForEvent('SpeechSynthesizer.SpeechStarted', 10_000);
    const from = sim.receivedEvents().length;
    d.tap();
    const again = await sim.waitForEvent('SpeechRecognizer.Recognize', 10_000, from);
    expect(again.document.event.header.dialogRequestId).toBe(d.pipeline.dialogRequestId);
    expect((await output.waitForRecording(0)).playback).toBeDefined();
    await waitFor(d.actors.speechSynthesizer, (s) => s.matches('PLAYING'), { timeout: 10_000 });
    expect(output.recordings[0].outcome).toBe('stopped');
    expect(names().slice(0, from)).not.toContain('SpeechSynthesizer.SpeechFinished');
  });

  it('press-and-hold is CLOSE_TALK: the capture ends at the release (or the end of speech) without StopCapture (§5.3)', async () => {
    const d = device({ drivers: { microphone: new FileMicrophone(WAV, { then: 'end', realtime: false }) } });
    await d.whenConnected();
    d.hold();
    const recognize = await sim.waitForEvent('SpeechRecognizer.Recognize');
    expect(recognize.document.event.payload).toMatchObject({ profile: 'CLOSE_TALK', initiator: { type: 'PRESS_AND_HOLD', payload: {} } });
    const record = await recognize.completed;
    // The whole file, then the part closed: end of speech on the device's side.
    expect(record.audio?.bytes).toBeGreaterThan(90_000);
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 10_000);
    d.hold();
    await waitFor(d.actors.speechRecognizer, (s) => s.matches('RECOGNIZING'), { timeout: 5000 });
    d.release();
    await waitFor(d.actors.speechRecognizer, (s) => !s.matches('RECOGNIZING'), { timeout: 5000 });
  });

  it('a Speak whose attachment never arrives fails with ExceptionEncountered, and the device goes on (§6.3)', async () => {
    const d = device({ attachmentTimeoutMs: 300 });
    await d.whenConnected();
    sim.pushDirective({ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak', messageId: 'lost' }, payload: { url: 'cid:never', format: 'AUDIO_MPEG', token: 'lost' } } });
    const exception = await sim.waitForEvent('System.ExceptionEncountered', 10_000);
    expect(exception.document.event.payload).toMatchObject({ error: { type: 'INTERNAL_ERROR' } });
    expect(String(exception.document.event.payload.unparsedDirective)).toContain('"lost"');
    await synthesizerDone(d);
    d.tap();
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 10_000);
  });

  it('a microphone that cannot open: no Recognize, the device stays usable', async () => {
    const broken: Microphone = {
      open: () => {
        throw new MicrophoneError('CAPTURE_FAILED', 'no such device');
      },
    };
    const d = device({ drivers: { microphone: broken } });
    await d.whenConnected();
    d.tap();
    await idle(d);
    d.setVolume(20);
    await sim.waitForEvent('Speaker.VolumeChanged');
    expect(names()).not.toContain('SpeechRecognizer.Recognize');
    // The synthesizer gives the channel back one turn after its Speak (its HANDOVER): wait for it.
    await waitFor(d.actors.focus, (s) => Object.keys(s.context.owners).length === 0, { timeout: 5000 });
  });

  it('a microphone that fails mid-capture closes the audio part; AVS answers what it heard', async () => {
    let source: PassThrough | undefined;
    const failing = new StreamMicrophone(() => {
      source = new PassThrough();
      return source;
    });
    const d = device({ drivers: { microphone: failing } });
    await d.whenConnected();
    d.tap();
    await sim.waitForEvent('SpeechRecognizer.Recognize');
    source?.write(Buffer.alloc(3200));
    source?.destroy(new Error('ALSA: device unplugged'));
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 10_000);
    await idle(d);
  });

  it('a microphone that fails before its audio is read (the Recognize waits its turn) does not crash the device', async () => {
    const failing = new StreamMicrophone(() => {
      const source = new PassThrough();
      setImmediate(() => source.destroy(new Error('sox FAIL: cannot open audio device')));
      return source;
    });
    const d = device({ drivers: { microphone: failing } });
    await d.whenConnected();
    // Events queued ahead of the Recognize make it wait (§1.7 one FIFO) while the microphone fails.
    d.setVolume(15);
    d.setVolume(16);
    d.tap();
    await idle(d);
    d.setVolume(17);
    await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === 17);
  });

  it('an output that throws on a volume change is logged; the device goes on (§10)', async () => {
    const output = new RecordingOutput();
    output.setVolume = () => {
      throw new Error('amplifier on fire');
    };
    const d = device({ drivers: { output } });
    await d.whenConnected();
    d.setVolume(22);
    await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === 22);
  });

  it('a player that is not installed: the Speak fails with ExceptionEncountered, the dialog ends cleanly', async () => {
    const output: AudioOutput = new PlaySoundOutput({ player: 'no-such-player-xyz' });
    const d = device({ drivers: { output } });
    await d.whenConnected();
    d.tap();
    const exception = await sim.waitForEvent('System.ExceptionEncountered', 10_000);
    expect(exception.document.event.payload).toMatchObject({ error: { type: 'INTERNAL_ERROR', message: expect.stringContaining('no-such-player-xyz') } });
    await idle(d);
    await synthesizerDone(d);
    // The synthesizer gives the channel back one turn after its Speak (its HANDOVER): wait for it.
    await waitFor(d.actors.focus, (s) => Object.keys(s.context.owners).length === 0, { timeout: 5000 });
  });

  it('with the real drivers: sox records (ALSA null device), mpg123 plays the speech (-o dummy)', async () => {
    const microphone = new Lpcm16Microphone({ recorder: 'sox', device: 'null', env: { AUDIODRIVER: 'alsa' } });
    const output = new PlaySoundOutput({ player: 'mpg123', noSoundCard: true });
    const d = device({ drivers: { microphone, output } });
    await d.whenConnected();
    d.tap();
    const recognize = await sim.waitForEvent('SpeechRecognizer.Recognize');
    expect(((await recognize.completed).audio?.bytes ?? 0) > 0).toBe(true);
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 15_000);
    await idle(d);
  });
});

function eventNamed(name: string): ReceivedEvent {
  const e = sim.receivedEvents().find((r) => r.name === name);
  if (!e) throw new Error(`no ${name}`);
  return e;
}

// Keep rxjs helpers referenced for readers extending these tests.
void filter;
void firstValueFrom;
