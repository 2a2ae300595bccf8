// PROTOCOL.md §5: the SpeechRecognizer machine with a fake recognize actor, the real focus machine
// and a simulated clock.
import { SimulatedClock, createActor, fromCallback, setup, type ActorRefFrom } from 'xstate';
import { focusMachine } from '../../../machines/focus/machine';
import {
  speechRecognizerContext,
  speechRecognizerMachine,
  type RecognizeCommand,
  type RecognizeFeedback,
  type RecognizeInput,
  type SpeechRecognizerInput,
} from '../../../machines/speech-recognizer/machine';

function recognizer(input: SpeechRecognizerInput = {}) {
  const runs: { input: RecognizeInput; send: (e: RecognizeFeedback) => void; commands: string[]; stopped: boolean }[] = [];
  const machine = speechRecognizerMachine.provide({
    actors: {
      recognize: fromCallback<RecognizeCommand, RecognizeInput>(({ input, sendBack, receive }) => {
        const run = { input, send: sendBack, commands: [] as string[], stopped: false };
        runs.push(run);
        receive((c) => run.commands.push(c.type));
        return () => {
          run.stopped = true;
        };
      }),
    },
  });
  const clock = new SimulatedClock();
  const root = setup({ actors: { focus: focusMachine, subject: machine } }).createMachine({
    invoke: [
      { id: 'focus', systemId: 'focus', src: 'focus' },
      { id: 'speechRecognizer', systemId: 'speechRecognizer', src: 'subject', input: () => input },
    ],
  });
  const actor = createActor(root, { clock }).start();
  const subject = actor.getSnapshot().children.speechRecognizer as ActorRefFrom<typeof machine>;
  const focus = actor.getSnapshot().children.focus as ActorRefFrom<typeof focusMachine>;
  const emitted: { type: string; [k: string]: unknown }[] = [];
  subject.on('*', (e) => emitted.push(e as { type: string; [k: string]: unknown }));
  const state = () => {
    const v = subject.getSnapshot().value;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  const names = () => emitted.splice(0).map((e) => (e.type === 'AVS.EVENT' ? `${String(e.namespace)}.${String(e.name)}` : e.type));
  const expectSpeech = (timeoutInMilliseconds: number, initiator?: object) =>
    subject.send({ type: 'DIRECTIVE.ExpectSpeech', payload: { timeoutInMilliseconds, ...(initiator ? { initiator } : {}) }, messageId: 'es-1', dialogRequestId: 'd', receivedAt: 0 });
  return { subject, focus, runs, clock, emitted, names, state, expectSpeech };
}

const stopCapture = { type: 'DIRECTIVE.StopCapture' as const, payload: {}, messageId: 'sc', receivedAt: 0 };

describe('speech recognizer machine', () => {
  it('a tap starts a new dialog, takes the Dialog channel, then streams a NEAR_FIELD Recognize with a TAP initiator (§5.3)', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.TAP' });
    expect(r.state()).toBe('{"RECOGNIZING":"STREAMING"}');
    const [started] = r.emitted.filter((e) => e.type === 'DIALOG.STARTED');
    expect(started.dialogRequestId).toEqual(expect.any(String));
    expect(r.runs).toHaveLength(1);
    expect(r.runs[0].input).toEqual({
      dialogRequestId: started.dialogRequestId,
      payload: { profile: 'NEAR_FIELD', format: 'AUDIO_L16_RATE_16000_CHANNELS_1', initiator: { type: 'TAP', payload: {} } },
    });
    expect(r.focus.getSnapshot().context.owners.Dialog).toBe('speechRecognizer');
    expect(r.names()).toEqual(['DIALOG.STARTED', 'USER.ACTIVITY']);
  });

  it('StopCapture closes the microphone and waits for the answer in BUSY; the answer ends it (§5.5)', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.TAP' });
    r.subject.send(stopCapture);
    expect(r.runs[0].commands).toEqual(['STOP']);
    expect(r.state()).toBe('BUSY');
    r.runs[0].send({ type: 'RECOGNIZE.RESPONDED' });
    expect(r.state()).toBe('IDLE');
    expect(r.focus.getSnapshot().context.owners.Dialog).toBeUndefined();
  });

  it('ignores StopCapture outside RECOGNIZING, without a word (§5.5)', () => {
    const r = recognizer();
    r.subject.send(stopCapture);
    expect(r.state()).toBe('IDLE');
    expect(r.names()).toEqual([]);
  });

  it('press-and-hold is CLOSE_TALK with PRESS_AND_HOLD, ended by the release (§5.3)', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.HOLD' });
    expect(r.runs[0].input.payload).toMatchObject({ profile: 'CLOSE_TALK', initiator: { type: 'PRESS_AND_HOLD', payload: {} } });
    r.subject.send({ type: 'USER.RELEASE' });
    expect(r.runs[0].commands).toEqual(['STOP']);
    expect(r.state()).toBe('BUSY');
  });

  it('a wake word is FAR_FIELD with its indices; the device with a wake word reports RecognizerState (§5.2, §5.3)', () => {
    const r = recognizer({ wakeWord: true });
    expect(speechRecognizerContext(r.subject.getSnapshot())).toEqual({ header: { namespace: 'SpeechRecognizer', name: 'RecognizerState' }, payload: { wakeword: 'ALEXA' } });
    r.subject.send({ type: 'USER.WAKEWORD', indices: { startIndexInSamples: 8000, endIndexInSamples: 16640 } });
    expect(r.runs[0].input.payload).toEqual({
      profile: 'FAR_FIELD',
      format: 'AUDIO_L16_RATE_16000_CHANNELS_1',
      initiator: { type: 'WAKEWORD', payload: { wakeWordIndices: { startIndexInSamples: 8000, endIndexInSamples: 16640 } } },
    });
    expect(speechRecognizerContext(recognizer().subject.getSnapshot())).toBeUndefined();
  });

  it('the end of the audio (CLOSE_TALK end of speech) ends the capture', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.HOLD' });
    r.runs[0].send({ type: 'RECOGNIZE.CAPTURE_ENDED' });
    expect(r.state()).toBe('BUSY');
  });

  it('barge-in: a tap during a tap capture starts a new dialog; a hold capture cannot be interrupted; BUSY refuses (§4.5)', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.TAP' });
    r.subject.send({ type: 'USER.TAP' });
    expect(r.runs).toHaveLength(2);
    expect(r.runs[0].stopped).toBe(true);
    expect(r.runs[1].input.dialogRequestId).not.toBe(r.runs[0].input.dialogRequestId);
    expect(r.state()).toBe('{"RECOGNIZING":"STREAMING"}');

    const h = recognizer();
    h.subject.send({ type: 'USER.HOLD' });
    h.subject.send({ type: 'USER.TAP' });
    expect(h.runs).toHaveLength(1);

    h.subject.send({ type: 'USER.RELEASE' });
    h.subject.send({ type: 'USER.TAP' });
    expect(h.state()).toBe('BUSY');
    expect(h.runs).toHaveLength(1);
  });

  it('a Speak taking the Dialog channel ends BUSY; losing focus while capturing drops the capture (§4.2)', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.TAP' });
    r.subject.send(stopCapture);
    r.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechSynthesizer' });
    expect(r.state()).toBe('IDLE');

    const s = recognizer();
    s.subject.send({ type: 'USER.TAP' });
    s.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechSynthesizer' });
    expect(s.state()).toBe('IDLE');
    expect(s.runs[0].stopped).toBe(true);
  });

  it('ExpectSpeech opens the microphone at once with a new dialog, echoing its initiator (§5.6, §5.3)', () => {
    const r = recognizer();
    const initiator = { type: 'WAKEWORD', payload: { token: 'opaque' } };
    r.expectSpeech(8000, initiator);
    expect(r.emitted.find((e) => e.type === 'DIRECTIVE.COMPLETED')).toEqual({ type: 'DIRECTIVE.COMPLETED', messageId: 'es-1' });
    expect(r.state()).toBe('{"RECOGNIZING":"STREAMING"}');
    expect(r.runs[0].input.payload).toEqual({ profile: 'NEAR_FIELD', format: 'AUDIO_L16_RATE_16000_CHANNELS_1', initiator });
  });

  it('ExpectSpeech without an initiator: the Recognize answering it has none (§5.3)', () => {
    const r = recognizer();
    r.expectSpeech(8000);
    expect(r.runs[0].input.payload).toEqual({ profile: 'NEAR_FIELD', format: 'AUDIO_L16_RATE_16000_CHANNELS_1' });
  });

  it('on a push-to-talk device ExpectSpeech waits, and sends ExpectSpeechTimedOut at the timeout (§5.4, §5.6)', () => {
    const r = recognizer({ listenOnExpectSpeech: false });
    r.expectSpeech(8000);
    expect(r.state()).toBe('EXPECTING_SPEECH');
    r.names();
    r.clock.increment(7999);
    expect(r.state()).toBe('EXPECTING_SPEECH');
    r.clock.increment(1);
    expect(r.state()).toBe('IDLE');
    expect(r.names()).toEqual(['SpeechRecognizer.ExpectSpeechTimedOut']);
  });

  it('a press during EXPECTING_SPEECH answers it and stops the timer', () => {
    const r = recognizer({ listenOnExpectSpeech: false });
    r.expectSpeech(8000, { type: 'TAP', payload: { token: 't' } });
    r.subject.send({ type: 'USER.HOLD' });
    expect(r.runs[0].input.payload).toEqual({ profile: 'CLOSE_TALK', format: 'AUDIO_L16_RATE_16000_CHANNELS_1', initiator: { type: 'TAP', payload: { token: 't' } } });
    r.clock.increment(10_000);
    expect(r.names()).not.toContain('SpeechRecognizer.ExpectSpeechTimedOut');
  });

  it('refuses ExpectSpeech while the microphone is open (§5.6)', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.TAP' });
    r.names();
    r.expectSpeech(8000);
    expect(r.emitted).toEqual([{ type: 'DIRECTIVE.FAILED', messageId: 'es-1', message: 'ExpectSpeech while the microphone is already open' }]);
  });

  it('a failed Recognize (no microphone, not connected) returns to IDLE and frees the channel', () => {
    const r = recognizer();
    r.subject.send({ type: 'USER.TAP' });
    r.runs[0].send({ type: 'RECOGNIZE.FAILED', message: 'no microphone' });
    expect(r.state()).toBe('IDLE');
    expect(r.focus.getSnapshot().context.owners.Dialog).toBeUndefined();
  });

  it('AVS closing the stream without StopCapture ends the capture (§5.3)', () => {
    const r = recognizer({ wakeWord: true });
    r.subject.send({ type: 'USER.WAKEWORD', indices: { startIndexInSamples: 8000, endIndexInSamples: 16000 } });
    r.runs[0].send({ type: 'RECOGNIZE.RESPONDED' });
    expect(r.state()).toBe('IDLE');
    expect(r.runs[0].stopped).toBe(true);
    expect(r.focus.getSnapshot().context.owners.Dialog).toBeUndefined();
  });

  it('an ExpectSpeech whose microphone cannot open times out at once (§5.4, §5.6)', () => {
    const r = recognizer();
    r.expectSpeech(8000);
    r.names();
    r.runs[0].send({ type: 'RECOGNIZE.FAILED', message: 'microphone: no such device' });
    expect(r.state()).toBe('IDLE');
    expect(r.names()).toContain('SpeechRecognizer.ExpectSpeechTimedOut');
    // A failed tap is not an ExpectSpeech: nothing to time out.
    r.subject.send({ type: 'USER.TAP' });
    r.runs[1].send({ type: 'RECOGNIZE.FAILED', message: 'not connected' });
    expect(r.names()).not.toContain('SpeechRecognizer.ExpectSpeechTimedOut');
  });

  it('a second ExpectSpeech while expecting speech is refused, so its queue never hangs (§5.6)', () => {
    const r = recognizer({ listenOnExpectSpeech: false });
    r.expectSpeech(8000);
    r.emitted.splice(0);
    r.expectSpeech(8000);
    expect(r.emitted).toEqual([{ type: 'DIRECTIVE.FAILED', messageId: 'es-1', message: 'ExpectSpeech while the microphone is already open' }]);
  });

  it('a StopCapture before the capture streamed is applied as soon as it does (§5.5 deferred stop)', () => {
    const machine = speechRecognizerMachine.provide({
      actors: {
        recognize: fromCallback<RecognizeCommand, RecognizeInput>(({ receive }) => {
          receive((c) => commands.push(c.type));
        }),
      },
    });
    const commands: string[] = [];
    // Alone (no focus machine), the machine waits for a FOCUS.CHANGED the test sends.
    const a = createActor(machine, { input: {} }).start();
    a.send({ type: 'USER.TAP' });
    a.send(stopCapture);
    a.send({ type: 'FOCUS.CHANGED', channel: 'Dialog', focus: 'FOREGROUND' });
    expect(a.getSnapshot().value).toBe('BUSY');
    expect(commands).toEqual(['STOP']);
  });
});
