// PROTOCOL.md §6: the SpeechSynthesizer machine with a fake playback actor and the real focus machine.
import { SimulatedClock, createActor, fromCallback, setup, type ActorRefFrom } from 'xstate';
import { focusMachine, type FocusEvent } from '../../../machines/focus/machine';
import { speechSynthesizerContext, speechSynthesizerMachine, type PlaybackFeedback, type PlaySpeechInput } from '../../../machines/speech-synthesizer/machine';

/** The synthesizer and the focus machine under one root, as in the device (runtime/device/machine.ts). */
function withFocus(machine: typeof speechSynthesizerMachine) {
  const root = setup({ actors: { focus: focusMachine, subject: machine } }).createMachine({
    invoke: [
      { id: 'focus', systemId: 'focus', src: 'focus' },
      { id: 'speechSynthesizer', systemId: 'speechSynthesizer', src: 'subject' },
    ],
  });
  const clock = new SimulatedClock();
  const actor = createActor(root, { clock }).start();
  const subject = actor.getSnapshot().children.speechSynthesizer as ActorRefFrom<typeof machine>;
  const focus = actor.getSnapshot().children.focus as ActorRefFrom<typeof focusMachine>;
  const emitted: { type: string; [k: string]: unknown }[] = [];
  subject.on('*', (e) => emitted.push(e as unknown as { type: string; [k: string]: unknown }));
  return {
    subject,
    focus,
    emitted,
    take: () => emitted.splice(0).map((e) => (e.type === 'AVS.EVENT' ? `${String(e.namespace)}.${String(e.name)}` : e.type)),
    focusOf: (channel: 'Dialog' | 'Alerts' | 'Content') => focus.getSnapshot().value[channel],
    sendFocus: (e: FocusEvent) => focus.send(e),
    /** Lets the one-turn hand-over after a Speak pass (the DONE state's HANDOVER delay). */
    handover: () => clock.increment(0),
  };
}

function synthesizer() {
  const plays: { input: PlaySpeechInput; send: (e: PlaybackFeedback) => void; stopped: boolean }[] = [];
  const machine = speechSynthesizerMachine.provide({
    actors: {
      playSpeech: fromCallback<{ type: 'NONE' }, PlaySpeechInput>(({ input, sendBack }) => {
        const play = { input, send: sendBack, stopped: false };
        plays.push(play);
        return () => {
          play.stopped = true;
        };
      }),
    },
  });
  const h = withFocus(machine);
  const speak = (messageId: string, token = `tok-${messageId}`) =>
    h.subject.send({ type: 'DIRECTIVE.Speak', payload: { url: `cid:${messageId}`, format: 'AUDIO_MPEG', token }, messageId, receivedAt: 0 });
  const state = () => speechSynthesizerContext(h.subject.getSnapshot()).payload;
  return { ...h, plays, speak, state };
}

describe('speech synthesizer machine', () => {
  it('takes the Dialog channel, plays, and reports SpeechStarted then SpeechFinished (§6.3, §6.4)', () => {
    const s = synthesizer();
    expect(s.state()).toEqual({ token: '', offsetInMilliseconds: 0, playerActivity: 'FINISHED' });
    s.speak('s1');
    expect(s.focusOf('Dialog')).toBe('FOREGROUND');
    expect(s.plays).toHaveLength(1);
    expect(s.plays[0].input).toEqual({ url: 'cid:s1', token: 'tok-s1' });
    expect(s.take()).toEqual([]);
    s.plays[0].send({ type: 'PLAYBACK.STARTED' });
    s.plays[0].send({ type: 'PLAYBACK.PROGRESS', offsetMs: 700 });
    expect(s.take()).toEqual(['SpeechSynthesizer.SpeechStarted']);
    expect(s.state()).toEqual({ token: 'tok-s1', offsetInMilliseconds: 700, playerActivity: 'PLAYING' });
    s.plays[0].send({ type: 'PLAYBACK.FINISHED', offsetMs: 1800 });
    expect(s.emitted.map((e) => [e.type, e.name ?? e.messageId])).toEqual([
      ['AVS.EVENT', 'SpeechFinished'],
      ['DIRECTIVE.COMPLETED', 's1'],
    ]);
    expect(s.state()).toEqual({ token: 'tok-s1', offsetInMilliseconds: 0, playerActivity: 'FINISHED' });
    expect(s.focusOf('Dialog')).toBe('FOREGROUND');
    s.handover();
    expect(s.focusOf('Dialog')).toBe('NONE');
  });

  it('a dialog of two Speaks plays both: the second, handed over after the first is done, keeps the channel (§4.4 step 3)', () => {
    const s = synthesizer();
    // As the sequencer does: the next directive of the dialog goes once the previous is reported done.
    s.subject.on('DIRECTIVE.COMPLETED', (e) => {
      if (e.messageId === 's1') s.speak('s2');
    });
    s.speak('s1');
    s.plays[0].send({ type: 'PLAYBACK.STARTED' });
    s.plays[0].send({ type: 'PLAYBACK.FINISHED', offsetMs: 100 });
    s.handover();
    expect(s.plays).toHaveLength(2);
    s.plays[1].send({ type: 'PLAYBACK.STARTED' });
    s.plays[1].send({ type: 'PLAYBACK.FINISHED', offsetMs: 100 });
    expect(s.emitted.filter((e) => e.type === 'DIRECTIVE.STOPPED')).toEqual([]);
    expect(s.emitted.filter((e) => e.type === 'DIRECTIVE.COMPLETED').map((e) => e.messageId)).toEqual(['s1', 's2']);
    s.handover();
    expect(s.focusOf('Dialog')).toBe('NONE');
  });

  it('takes the Dialog channel from the recognizer that asked the question (§4.6)', () => {
    const s = synthesizer();
    s.sendFocus({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechRecognizer' });
    s.speak('s1');
    expect(s.focus.getSnapshot().context.owners.Dialog).toBe('speechSynthesizer');
    expect(s.plays).toHaveLength(1);
  });

  it('stops without SpeechFinished when the Dialog channel is taken, and says the directive was stopped (§6.3, §4.5)', () => {
    const s = synthesizer();
    s.speak('s1');
    s.plays[0].send({ type: 'PLAYBACK.STARTED' });
    s.take();
    s.sendFocus({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechRecognizer' });
    expect(s.plays[0].stopped).toBe(true);
    expect(s.take()).toEqual(['DIRECTIVE.STOPPED']);
    expect(s.state().playerActivity).toBe('FINISHED');
  });

  it('a cancelled Speak stops at once with no event (§4.4 step 1)', () => {
    const s = synthesizer();
    s.speak('s1');
    s.plays[0].send({ type: 'PLAYBACK.STARTED' });
    s.take();
    s.subject.send({ type: 'DIRECTIVE.CANCEL', messageId: 's1' });
    expect(s.plays[0].stopped).toBe(true);
    expect(s.take()).toEqual([]);
    s.handover();
    expect(s.focusOf('Dialog')).toBe('NONE');
  });

  it('a playback failure fails the directive and frees the channel (§6.3)', () => {
    const s = synthesizer();
    s.speak('s1');
    s.plays[0].send({ type: 'PLAYBACK.FAILED', message: 'attachment s1 did not arrive within 10000 ms' });
    expect(s.emitted).toEqual([{ type: 'DIRECTIVE.FAILED', messageId: 's1', message: 'Speak could not be played: attachment s1 did not arrive within 10000 ms' }]);
    s.handover();
    expect(s.focusOf('Dialog')).toBe('NONE');
  });

  it('plays a second Speak after the first, keeping the channel between them', () => {
    const s = synthesizer();
    s.speak('s1');
    s.speak('s2');
    expect(s.plays).toHaveLength(1);
    s.plays[0].send({ type: 'PLAYBACK.STARTED' });
    s.plays[0].send({ type: 'PLAYBACK.FINISHED', offsetMs: 100 });
    expect(s.plays).toHaveLength(2);
    expect(s.plays[1].input.token).toBe('tok-s2');
    expect(s.focusOf('Dialog')).toBe('FOREGROUND');
    s.subject.send({ type: 'DIRECTIVE.CANCEL', messageId: 's2' });
    s.handover();
    expect(s.focusOf('Dialog')).toBe('NONE');
  });

  it('a queued Speak that is cancelled never plays', () => {
    const s = synthesizer();
    s.speak('s1');
    s.speak('s2');
    s.subject.send({ type: 'DIRECTIVE.CANCEL', messageId: 's2' });
    s.plays[0].send({ type: 'PLAYBACK.FINISHED', offsetMs: 100 });
    expect(s.plays).toHaveLength(1);
    expect(s.state().playerActivity).toBe('FINISHED');
  });
});
