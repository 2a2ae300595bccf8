// Model-based tests of the spoken dialog: the attention aggregator, the SpeechRecognizer and the
// SpeechSynthesizer, with recording fakes for their drivers (microphone + Recognize upload, speech
// playback) and for the focus manager, checked against PROTOCOL.md §4–§6 after every step.
import { attentionMachine } from '../../machines/attention/machine';
import { speechRecognizerMachine } from '../../machines/speech-recognizer/machine';
import { speechSynthesizerMachine } from '../../machines/speech-synthesizer/machine';
import { directiveSample, expectComplete, runModel, type SampleEvent, type Step } from './harness';

const focus = (channel: string) => (['FOREGROUND', 'BACKGROUND', 'NONE'] as const).map((f) => ({ type: 'FOCUS.CHANGED', channel, focus: f }));
const reports = (step: Step) => step.emitted.filter((e) => e.type.startsWith('DIRECTIVE.'));
const focusRequests = (step: Step) => step.drivers.told('focus').map((e) => `${e.type.replace('FOCUS.', '')} ${String(e.channel)}`);
const entered = (step: Step, state: unknown) => step.after.matches(state as never) && (!step.before.matches(state as never) || step.index === 0);

describe('model-based: dialog machines', () => {
  it('attention (the SDK dialog UX aggregator): one value from the dialog, alerts and connection', async () => {
    const f = await runModel('attention', attentionMachine, {
      input: {},
      byValue: true,
      // Whether an alert rings and whether AVS is reachable decide where a dialog ends.
      summary: (s) => [s.context.alertActive, s.context.connected],
      events: [
        ...(['IDLE', 'RECOGNIZING', 'BUSY', 'EXPECTING_SPEECH'] as const).map((state) => ({ type: 'RECOGNIZER.CHANGED', state })),
        { type: 'SYNTHESIZER.CHANGED', state: 'PLAYING' },
        { type: 'SYNTHESIZER.CHANGED', state: 'FINISHED' },
        { type: 'DIALOG.RESPONSE_COMPLETE' },
        { type: 'ALERTS.CHANGED', active: true },
        { type: 'ALERTS.CHANGED', active: false },
        { type: 'CONNECTION.CHANGED', connected: true },
        { type: 'CONNECTION.CHANGED', connected: false },
      ],
      check: (step) => {
        const { alertActive, connected } = step.after.context as { alertActive: boolean; connected: boolean };
        // It decides nothing for AVS and drives nothing: only its value is read.
        expect(step.emitted).toEqual([]);
        // Resting, it shows whether an alert rings.
        if (step.after.matches('IDLE')) expect(alertActive).toBe(false);
        if (step.after.matches('ALERTING')) expect(alertActive).toBe(true);
        const e = step.event as SampleEvent & { state?: string; connected?: boolean };
        if (e.type === 'CONNECTION.CHANGED') expect(connected).toBe(e.connected);
        // The recognizer and the synthesizer take over from every state.
        if (e.type === 'RECOGNIZER.CHANGED' && e.state === 'RECOGNIZING') expect(step.after.value).toBe('LISTENING');
        if (e.type === 'RECOGNIZER.CHANGED' && e.state === 'EXPECTING_SPEECH') expect(step.after.value).toBe('EXPECTING');
        if (e.type === 'RECOGNIZER.CHANGED' && e.state === 'BUSY') expect(step.after.value).toEqual({ THINKING: 'AWAITING_RESPONSE' });
        if (e.type === 'SYNTHESIZER.CHANGED' && e.state === 'PLAYING') expect(step.after.value).toBe('SPEAKING');
        // Without AVS nobody listens or answers.
        if (e.type === 'CONNECTION.CHANGED' && !e.connected) expect(['IDLE', 'ALERTING', 'SPEAKING', 'FINISHED']).toContain(step.after.value);
      },
    });
    expectComplete(f);
  });

  it('speech recognizer (§5): one capture at a time, in the foreground, each a new dialog with the right profile', async () => {
    const dialogs = new Set<string>();
    const expectSpeech = directiveSample('SpeechRecognizer.ExpectSpeech');
    const f = await runModel('speechRecognizer', speechRecognizerMachine, {
      // A push-to-talk device waits for the user on ExpectSpeech; a tap or wake-word device listens by itself (§5.6).
      inputs: [{ listenOnExpectSpeech: false }, { listenOnExpectSpeech: true, wakeWord: true }],
      byValue: true,
      // A press-and-hold capture ends differently (§5.3), and a deferred StopCapture matters (§5.5).
      summary: (s) => [s.context.trigger === 'HOLD', s.context.stopRequested, s.context.expect !== undefined, s.context.listenOnExpectSpeech],
      drivers: ['recognize'],
      events: [
        { type: 'USER.TAP' },
        { type: 'USER.HOLD' },
        { type: 'USER.RELEASE' },
        { type: 'USER.WAKEWORD', indices: { startIndexInSamples: 8000, endIndexInSamples: 16000 } },
        { type: 'USER.CANCEL' },
        directiveSample('SpeechRecognizer.StopCapture'),
        expectSpeech,
        ...focus('Dialog'),
        { type: 'RECOGNIZE.CAPTURE_ENDED' },
        { type: 'RECOGNIZE.RESPONDED' },
        { type: 'RECOGNIZE.FAILED', message: 'no microphone' },
      ],
      check: (step) => {
        const ctx = step.after.context as { dialogRequestId?: string; trigger?: string; recognize?: { profile: string; initiator?: { type: string; payload: Record<string, unknown> } } };
        // The microphone and its Recognize run exactly while streaming or waiting for the answer, once.
        const capturing = step.after.matches({ RECOGNIZING: 'STREAMING' }) || step.after.matches('BUSY');
        expect(step.drivers.count('recognize')).toBe(capturing ? 1 : 0);
        // §4.4 step 1: each capture is a new dialog, announced before its Recognize starts.
        const started = step.emitted.filter((e) => e.type === 'DIALOG.STARTED');
        for (const d of started) {
          expect(dialogs.has(String(d.dialogRequestId))).toBe(false);
          dialogs.add(String(d.dialogRequestId));
        }
        if (step.index === 0) dialogs.clear();
        // §5.3: a Recognize starts only in the Dialog foreground, with this dialog's id and the trigger's profile.
        for (const input of step.drivers.startedWith('recognize') as { dialogRequestId: string; payload: { profile: string; initiator?: { type: string } } }[]) {
          expect(step.event.type === 'FOCUS.CHANGED' && step.event.focus === 'FOREGROUND').toBe(true);
          expect(input.dialogRequestId).toBe(ctx.dialogRequestId);
          const profile = ctx.trigger === 'HOLD' ? 'CLOSE_TALK' : ctx.trigger === 'WAKEWORD' ? 'FAR_FIELD' : 'NEAR_FIELD';
          expect(input.payload.profile).toBe(profile);
          if (ctx.trigger === 'WAKEWORD') expect(input.payload.initiator).toEqual({ type: 'WAKEWORD', payload: { wakeWordIndices: { startIndexInSamples: 8000, endIndexInSamples: 16000 } } });
          // §5.3: answering an ExpectSpeech echoes its initiator.
          if (ctx.trigger === 'EXPECT_SPEECH') expect(input.payload.initiator).toEqual((expectSpeech.payload as { initiator?: unknown }).initiator);
        }
        // Entering RECOGNIZING takes the Dialog channel; becoming IDLE gives it back (§4.1, §5.3).
        if (entered(step, 'RECOGNIZING') || (step.after.matches('RECOGNIZING') && started.length > 0)) expect(focusRequests(step)).toContain('ACQUIRE Dialog');
        if (step.after.matches('IDLE') && !step.before.matches('IDLE')) expect(focusRequests(step)).toContain('RELEASE Dialog');
        // §11.2: entering or leaving RECOGNIZING is user activity.
        if (step.after.matches('RECOGNIZING') !== step.before.matches('RECOGNIZING')) expect(step.emitted.some((e) => e.type === 'USER.ACTIVITY')).toBe(true);
        // §5.5: StopCapture while streaming closes the microphone (a STOP to the capture).
        if (step.event.type === 'DIRECTIVE.StopCapture' && step.before.matches({ RECOGNIZING: 'STREAMING' })) expect(step.drivers.told('recognize')).toEqual([{ type: 'STOP' }]);
        // §5.6: every ExpectSpeech is answered once: done in IDLE or BUSY, refused while the microphone is open.
        if (step.event.type === 'DIRECTIVE.ExpectSpeech') {
          const ok = step.before.matches('IDLE') || step.before.matches('BUSY');
          expect(reports(step).map((r) => r.type)).toEqual([ok ? 'DIRECTIVE.COMPLETED' : 'DIRECTIVE.FAILED']);
        }
        // §5.4: ExpectSpeechTimedOut only when an ExpectSpeech went unanswered.
        if (step.avs.length > 0) {
          expect(step.avs.map((e) => e.name)).toEqual(['ExpectSpeechTimedOut']);
          expect(step.before.matches('EXPECTING_SPEECH') || (step.before.context as { expect?: unknown }).expect !== undefined).toBe(true);
        }
      },
    });
    expectComplete(f);
  });

  it('speech synthesizer (§6): speaks only in the foreground, SpeechStarted/SpeechFinished in pairs, each Speak reported once', async () => {
    const speak = directiveSample('SpeechSynthesizer.Speak');
    const second = { ...speak, messageId: 'speak-2', payload: { ...(speak.payload as object), token: 'token-2', url: 'cid:speak-2' } };
    const f = await runModel('speechSynthesizer', speechSynthesizerMachine, {
      byValue: true,
      // A Speak that waits behind the one playing (§6.3) decides what DONE does.
      summary: (s) => Math.min(1, (s.context.queue as unknown[]).length),
      drivers: ['playSpeech'],
      events: [
        speak,
        second,
        { type: 'DIRECTIVE.CANCEL', messageId: speak.messageId },
        { type: 'DIRECTIVE.CANCEL', messageId: second.messageId },
        ...focus('Dialog'),
        { type: 'PLAYBACK.STARTED' },
        { type: 'PLAYBACK.PROGRESS', offsetMs: 500 },
        { type: 'PLAYBACK.FINISHED', offsetMs: 1000 },
        { type: 'PLAYBACK.FAILED', message: 'no attachment' },
      ],
      check: (step) => {
        const ctx = step.after.context as { token: string; current?: { messageId: string; token: string; url: string } };
        // The attachment plays exactly while in OUTPUT (§6.3: only in the foreground), the current Speak's.
        expect(step.drivers.count('playSpeech')).toBe(step.after.matches({ PLAYING: 'OUTPUT' }) ? 1 : 0);
        for (const input of step.drivers.startedWith('playSpeech')) expect(input).toEqual({ url: ctx.current?.url, token: ctx.current?.token });
        // §6.4: SpeechStarted then SpeechFinished for one token; never a Finished without its Started.
        const speech = step.allEmitted.filter((e) => e.type === 'AVS.EVENT');
        let open: string | undefined;
        for (const e of speech as unknown as { name: string; payload: { token: string } }[]) {
          if (e.name === 'SpeechStarted') {
            expect(open).toBeUndefined();
            open = e.payload.token;
          } else {
            expect(e.payload.token).toBe(open);
            open = undefined;
          }
        }
        for (const e of step.avs) expect((e.payload as { token: string }).token).toBe(step.before.context.current?.token ?? ctx.token);
        // §4.4: each Speak played is reported done once (COMPLETED, FAILED, or STOPPED by a focus loss).
        // (a Speak cancelled by a new dialog is the pipeline's to drop: no report).
        const rs = reports(step);
        expect(rs.length).toBeLessThanOrEqual(1);
        for (const r of rs) expect(r.messageId).toBe(step.before.context.current?.messageId);
        const ended = step.before.matches({ PLAYING: 'OUTPUT' }) && (!step.after.matches({ PLAYING: 'OUTPUT' }) || step.drivers.startedWith('playSpeech').length > 0);
        if (ended && step.event.type !== 'DIRECTIVE.CANCEL') expect(rs).toHaveLength(1);
        // Entering PLAYING asks for the Dialog channel; FINISHED gives it back.
        if (step.after.matches({ PLAYING: 'ACQUIRING_FOCUS' }) && !step.before.matches({ PLAYING: 'ACQUIRING_FOCUS' })) expect(focusRequests(step)).toEqual(['ACQUIRE Dialog']);
        if (step.after.matches('FINISHED') && !step.before.matches('FINISHED')) expect(focusRequests(step)).toEqual(['RELEASE Dialog']);
        // §4.4: a cancelled Speak that waits is dropped from the queue.
        if (step.event.type === 'DIRECTIVE.CANCEL') expect((step.after.context.queue as { messageId: string }[]).map((q) => q.messageId)).not.toContain(step.event.messageId);
        // §6.3: losing the foreground while speaking stops it without SpeechFinished.
        if (step.event.type === 'FOCUS.CHANGED' && step.event.focus !== 'FOREGROUND' && step.before.matches({ PLAYING: 'OUTPUT' })) {
          expect(step.avs).toEqual([]);
          expect(reports(step).map((r) => r.type)).toEqual(['DIRECTIVE.STOPPED']);
        }
      },
    });
    expectComplete(f);
  });
});
