// Model-based tests of the attention aggregator and the dialog, music and alert machines, with
// fake actors (they are invoked or spawned; the traversal runs the machines' own logic).
import { fromCallback, fromPromise } from 'xstate';
import { attentionMachine } from '../../machines/attention/machine';
import { speechRecognizerMachine } from '../../machines/speech-recognizer/machine';
import { speechSynthesizerMachine } from '../../machines/speech-synthesizer/machine';
import { audioPlayerMachine } from '../../machines/audio-player/machine';
import { alertMachine } from '../../machines/alerts/alert';
import { alertsMachine } from '../../machines/alerts/machine';
import { authorizationMachine, type CodePair, type PollResult, type Tokens } from '../../machines/authorization/machine';
import { directiveSample, runModel } from './harness';

const focus = (channel: string) => (['FOREGROUND', 'BACKGROUND', 'NONE'] as const).map((f) => ({ type: 'FOCUS.CHANGED', channel, focus: f }));

describe('model-based: interface machines', () => {
  it('attention (the SDK dialog UX aggregator)', async () => {
    const f = await runModel('attention', attentionMachine, {
      input: {},
      byValue: true,
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
    });
    expect(f.states[0]).toBeGreaterThan(0);
  });

  it('speech recognizer (§5)', async () => {
    const machine = speechRecognizerMachine.provide({ actors: { recognize: fromCallback(() => undefined) } });
    const f = await runModel('speechRecognizer', machine, {
      input: { listenOnExpectSpeech: false },
      byValue: true,
      events: [
        { type: 'USER.TAP' },
        { type: 'USER.HOLD' },
        { type: 'USER.RELEASE' },
        { type: 'USER.WAKEWORD', indices: { startIndexInSamples: 8000, endIndexInSamples: 16000 } },
        { type: 'USER.CANCEL' },
        directiveSample('SpeechRecognizer.StopCapture'),
        directiveSample('SpeechRecognizer.ExpectSpeech'),
        ...focus('Dialog'),
        { type: 'RECOGNIZE.CAPTURE_ENDED' },
        { type: 'RECOGNIZE.RESPONDED' },
        { type: 'RECOGNIZE.FAILED', message: 'no microphone' },
      ],
    });
    expect(f.states[0]).toBeGreaterThan(0);
  });

  it('speech synthesizer (§6)', async () => {
    const machine = speechSynthesizerMachine.provide({ actors: { playSpeech: fromCallback(() => undefined) } });
    const speak = directiveSample('SpeechSynthesizer.Speak');
    const f = await runModel('speechSynthesizer', machine, {
      byValue: true,
      events: [
        speak,
        { type: 'DIRECTIVE.CANCEL', messageId: speak.messageId },
        ...focus('Dialog'),
        { type: 'PLAYBACK.STARTED' },
        { type: 'PLAYBACK.PROGRESS', offsetMs: 500 },
        { type: 'PLAYBACK.FINISHED', offsetMs: 1000 },
        { type: 'PLAYBACK.FAILED', message: 'no attachment' },
      ],
    });
    expect(f.states[0]).toBeGreaterThan(0);
  });

  it('audio player (§8)', async () => {
    const machine = audioPlayerMachine.provide({ actors: { playStream: fromCallback(() => undefined) } });
    const play = directiveSample('AudioPlayer.Play');
    const f = await runModel('audioPlayer', machine, {
      input: { interruptedBehavior: 'PAUSE' },
      byValue: true,
      events: [
        play,
        { ...play, payload: { ...(play.payload as object), playBehavior: 'ENQUEUE' } },
        { ...play, payload: { ...(play.payload as object), playBehavior: 'REPLACE_ENQUEUED' } },
        directiveSample('AudioPlayer.Stop'),
        directiveSample('AudioPlayer.ClearQueue'),
        { ...directiveSample('AudioPlayer.ClearQueue'), payload: { clearBehavior: 'CLEAR_ALL' } },
        ...focus('Content'),
        { type: 'PLAYBACK.STARTED' },
        { type: 'PLAYBACK.PROGRESS', offsetMs: 1500 },
        { type: 'PLAYBACK.BUFFERED' },
        { type: 'PLAYBACK.UNDERRUN' },
        { type: 'PLAYBACK.RECOVERED', durationMs: 300 },
        { type: 'PLAYBACK.METADATA', metadata: { title: 'Song' } },
        { type: 'PLAYBACK.FINISHED', offsetMs: 3000 },
        { type: 'PLAYBACK.FAILED', errorType: 'MEDIA_ERROR_INVALID_REQUEST', message: 'HTTP 404' },
      ],
    });
    expect(f.states[0]).toBeGreaterThan(0);
  });

  // The alert child (machines/alerts/alert.ts) reports to its parent with sendParent, which the
  // graph traversal cannot follow alone: it is covered through the Alerts machine's tests
  // (test/machines/alerts) for now; a model of the pair is still to come.

  it('alerts (§7)', async () => {
    const alert = alertMachine.provide({ actors: { waitUntil: fromCallback(() => undefined), render: fromCallback(() => undefined) } });
    const machine = alertsMachine.provide({ actors: { alert } });
    const set = directiveSample('Alerts.SetAlert');
    const token = (set.payload as { token: string }).token;
    const f = await runModel('alerts', machine, {
      byValue: true,
      events: [
        { ...set, receivedAt: Date.parse((set.payload as { scheduledTime: string }).scheduledTime) },
        { ...directiveSample('Alerts.DeleteAlert'), payload: { token } },
        { type: 'USER.STOP' },
        { type: 'ALERT.BECAME_DUE', token },
        { type: 'ALERT.ENDED', token, reason: 'loops done' },
        { type: 'SETALERT.INVALID', token: 'bad' },
        { type: 'ALERTS.LOAD', alerts: [], now: 0 },
        ...focus('Alerts'),
      ],
    });
    expect(f.states[0]).toBeGreaterThan(0);
  });

  it('authorization (§12)', async () => {
    const tokens = { accessToken: 'Atza|model', refreshToken: 'Atzr|model', expiresIn: 3600 };
    const machine = authorizationMachine.provide({
      actors: {
        requestCodePair: fromPromise(async () => ({ userCode: 'ABC', deviceCode: 'd', verificationUri: 'https://x', expiresIn: 600, interval: 5 })),
        pollToken: fromPromise<PollResult, { codePair: CodePair }>(async () => ({ kind: 'pending' })),
        exchangeCode: fromPromise<Tokens, { code: string; redirectUri: string; clientId: string }>(async () => tokens),
        refresh: fromPromise<Tokens, { refreshToken: string }>(async () => tokens),
      },
    });
    const f = await runModel('authorization', machine, {
      input: {},
      byValue: true,
      events: [
        { type: 'USER.LOGIN' },
        { type: 'USER.AUTHORIZE', code: 'c', redirectUri: 'amzn://x', clientId: 'id', by: 'COMPANION_APP' },
        { type: 'USER.TOKENS', tokens, by: 'LOCAL_APP' },
        { type: 'USER.LOGOUT' },
        { type: 'TOKEN.REJECTED' },
      ],
    });
    expect(f.states[0]).toBeGreaterThan(0);
  });
});
