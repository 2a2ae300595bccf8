// PROTOCOL.md §4.1: channel focus — who is told FOREGROUND, BACKGROUND or NONE, and in what order.
import { createActor, fromCallback, sendTo, setup } from 'xstate';
import {
  CHANNELS,
  focusMachine,
  focusOf,
  ownerOf,
  type Channel,
  type Focus,
  type FocusChangedEvent,
  type FocusEmitted,
  type FocusEvent,
} from '../../../machines/focus/machine';

function focus() {
  const actor = createActor(focusMachine);
  const emitted: FocusEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const send = (e: FocusEvent) => {
    emitted.length = 0;
    actor.send(e);
    return emitted.map(({ channel, owner, focus }) => `${channel}:${owner}:${focus}`);
  };
  const focuses = () => Object.fromEntries(CHANNELS.map((c) => [c, focusOf(actor.getSnapshot(), c)]));
  const owner = (c: Channel) => ownerOf(actor.getSnapshot(), c);
  return { actor, send, focuses, owner };
}

const acquire = (channel: Channel, owner: string): FocusEvent => ({ type: 'FOCUS.ACQUIRE', channel, owner });
const release = (channel: Channel, owner: string): FocusEvent => ({ type: 'FOCUS.RELEASE', channel, owner });

describe('focus machine', () => {
  it('starts with every channel at NONE and no owners', () => {
    const f = focus();
    expect(f.actor.getSnapshot().value).toEqual({ Dialog: 'NONE', Alerts: 'NONE', Content: 'NONE' });
    expect(CHANNELS.map(f.owner)).toEqual([undefined, undefined, undefined]);
  });

  it('acquire on empty: the acquirer gets FOREGROUND (§4.1)', () => {
    const f = focus();
    expect(f.send(acquire('Content', 'audioPlayer'))).toEqual(['Content:audioPlayer:FOREGROUND']);
    expect(f.focuses()).toEqual({ Dialog: 'NONE', Alerts: 'NONE', Content: 'FOREGROUND' });
    expect(f.owner('Content')).toBe('audioPlayer');
  });

  it('a stronger channel takes the foreground; the weaker one goes BACKGROUND and comes back on release (§4.1)', () => {
    const f = focus();
    f.send(acquire('Content', 'audioPlayer'));
    expect(f.send(acquire('Dialog', 'speechRecognizer'))).toEqual([
      'Content:audioPlayer:BACKGROUND',
      'Dialog:speechRecognizer:FOREGROUND',
    ]);
    expect(f.actor.getSnapshot().value).toEqual({ Dialog: 'FOREGROUND', Alerts: 'NONE', Content: 'BACKGROUND' });

    expect(f.send(release('Dialog', 'speechRecognizer'))).toEqual([
      'Dialog:speechRecognizer:NONE',
      'Content:audioPlayer:FOREGROUND',
    ]);
    expect(f.focuses()).toEqual({ Dialog: 'NONE', Alerts: 'NONE', Content: 'FOREGROUND' });
    expect(f.owner('Dialog')).toBeUndefined();
  });

  it('a weaker channel acquired while a stronger one is held starts BACKGROUND (§4.1)', () => {
    const f = focus();
    f.send(acquire('Dialog', 'speechSynthesizer'));
    expect(f.send(acquire('Alerts', 'alerts'))).toEqual(['Alerts:alerts:BACKGROUND']);
    expect(f.send(acquire('Content', 'audioPlayer'))).toEqual(['Content:audioPlayer:BACKGROUND']);
    expect(f.focuses()).toEqual({ Dialog: 'FOREGROUND', Alerts: 'BACKGROUND', Content: 'BACKGROUND' });
  });

  it('releasing a background channel tells only its owner NONE', () => {
    const f = focus();
    f.send(acquire('Dialog', 'speechSynthesizer'));
    f.send(acquire('Content', 'audioPlayer'));
    expect(f.send(release('Content', 'audioPlayer'))).toEqual(['Content:audioPlayer:NONE']);
    expect(f.focuses()).toEqual({ Dialog: 'FOREGROUND', Alerts: 'NONE', Content: 'NONE' });
  });

  it('a new owner of a held channel displaces the old one, which is told NONE (§4.1)', () => {
    const f = focus();
    f.send(acquire('Content', 'audioPlayer'));
    f.send(acquire('Dialog', 'speechRecognizer'));
    expect(f.send(acquire('Dialog', 'speechSynthesizer'))).toEqual([
      'Dialog:speechRecognizer:NONE',
      'Dialog:speechSynthesizer:FOREGROUND',
    ]);
    expect(f.owner('Dialog')).toBe('speechSynthesizer');
    // The channel stayed held throughout: the weaker one never came forward in between.
    expect(f.focuses()).toEqual({ Dialog: 'FOREGROUND', Alerts: 'NONE', Content: 'BACKGROUND' });
  });

  it('a new owner displacing a background owner starts BACKGROUND', () => {
    const f = focus();
    f.send(acquire('Dialog', 'speechSynthesizer'));
    f.send(acquire('Content', 'audioPlayer'));
    expect(f.send(acquire('Content', 'otherPlayer'))).toEqual(['Content:audioPlayer:NONE', 'Content:otherPlayer:BACKGROUND']);
  });

  it('a re-acquire by the same owner is answered with its focus, and nobody else hears anything', () => {
    const f = focus();
    f.send(acquire('Alerts', 'alerts'));
    expect(f.send(acquire('Alerts', 'alerts'))).toEqual(['Alerts:alerts:FOREGROUND']);
    f.send(acquire('Dialog', 'speechSynthesizer'));
    expect(f.send(acquire('Alerts', 'alerts'))).toEqual(['Alerts:alerts:BACKGROUND']);
    expect(f.focuses()).toEqual({ Dialog: 'FOREGROUND', Alerts: 'BACKGROUND', Content: 'NONE' });
  });

  it('ignores a release by an owner that does not hold the channel', () => {
    const f = focus();
    f.send(acquire('Dialog', 'speechRecognizer'));
    f.send(acquire('Dialog', 'speechSynthesizer'));
    // The displaced recognizer's late release must not free the synthesizer's channel.
    expect(f.send(release('Dialog', 'speechRecognizer'))).toEqual([]);
    expect(f.send(release('Content', 'audioPlayer'))).toEqual([]);
    expect(f.owner('Dialog')).toBe('speechSynthesizer');
    expect(f.focuses()).toEqual({ Dialog: 'FOREGROUND', Alerts: 'NONE', Content: 'NONE' });
  });

  it('STOP_FOREGROUND: the foreground owner gets NONE and the next channel comes forward (§4.1)', () => {
    const f = focus();
    f.send(acquire('Content', 'audioPlayer'));
    f.send(acquire('Alerts', 'alerts'));
    expect(f.send({ type: 'FOCUS.STOP_FOREGROUND' })).toEqual(['Alerts:alerts:NONE', 'Content:audioPlayer:FOREGROUND']);
    expect(f.owner('Alerts')).toBeUndefined();
    expect(f.focuses()).toEqual({ Dialog: 'NONE', Alerts: 'NONE', Content: 'FOREGROUND' });
    expect(f.send({ type: 'FOCUS.STOP_FOREGROUND' })).toEqual(['Content:audioPlayer:NONE']);
    expect(f.send({ type: 'FOCUS.STOP_FOREGROUND' })).toEqual([]);
  });

  it('STOP_ALL: every owner gets NONE, strongest channel first', () => {
    const f = focus();
    f.send(acquire('Content', 'audioPlayer'));
    f.send(acquire('Alerts', 'alerts'));
    f.send(acquire('Dialog', 'speechSynthesizer'));
    expect(f.send({ type: 'FOCUS.STOP_ALL' })).toEqual([
      'Dialog:speechSynthesizer:NONE',
      'Alerts:alerts:NONE',
      'Content:audioPlayer:NONE',
    ]);
    expect(f.actor.getSnapshot().value).toEqual({ Dialog: 'NONE', Alerts: 'NONE', Content: 'NONE' });
    expect(f.actor.getSnapshot().context.owners).toEqual({});
  });

  it('tells the ones losing focus before the one gaining the foreground, so audio never overlaps', () => {
    const f = focus();
    f.send(acquire('Content', 'audioPlayer'));
    f.send(acquire('Alerts', 'alerts'));
    f.send(acquire('Dialog', 'speechRecognizer'));
    // Displacing the foreground owner: the old one stops before the new one starts.
    expect(f.send(acquire('Dialog', 'speechSynthesizer'))).toEqual([
      'Dialog:speechRecognizer:NONE',
      'Dialog:speechSynthesizer:FOREGROUND',
    ]);
    f.send(release('Dialog', 'speechSynthesizer'));
    f.send(release('Alerts', 'alerts'));
    // Music in front, an alert arrives: music is paused before the alert sounds (§4.2 example).
    expect(f.send(acquire('Alerts', 'alerts'))).toEqual(['Content:audioPlayer:BACKGROUND', 'Alerts:alerts:FOREGROUND']);
    // Then the user speaks over both: the alert drops back before the recognizer takes over.
    expect(f.send(acquire('Dialog', 'speechRecognizer'))).toEqual(['Alerts:alerts:BACKGROUND', 'Dialog:speechRecognizer:FOREGROUND']);
  });

  it('tells observers after the transition: the snapshot already shows the new focus', () => {
    const f = focus();
    const seen: Array<[Focus, Focus]> = [];
    f.actor.on('FOCUS.CHANGED', (e) => seen.push([e.focus, focusOf(f.actor.getSnapshot(), e.channel)]));
    f.send(acquire('Content', 'audioPlayer'));
    f.send(acquire('Dialog', 'speechSynthesizer'));
    f.send(release('Dialog', 'speechSynthesizer'));
    expect(seen).toEqual([
      ['FOREGROUND', 'FOREGROUND'],
      ['BACKGROUND', 'BACKGROUND'],
      ['FOREGROUND', 'FOREGROUND'],
      ['NONE', 'NONE'],
      ['FOREGROUND', 'FOREGROUND'],
    ]);
  });

  it('sends FOCUS.CHANGED to the owner registered in the actor system (§4.2)', () => {
    const received: FocusChangedEvent[] = [];
    const root = setup({
      types: { events: {} as FocusEvent },
      actors: {
        focus: focusMachine,
        speechSynthesizer: fromCallback<FocusChangedEvent>(({ receive }) => {
          receive((e) => received.push(e));
        }),
      },
      actions: {
        forwardToFocus: sendTo('focus', ({ event }) => event),
      },
    }).createMachine({
      invoke: [
        { id: 'focus', src: 'focus', systemId: 'focus' },
        { src: 'speechSynthesizer', systemId: 'speechSynthesizer' },
      ],
      on: {
        'FOCUS.ACQUIRE': { actions: 'forwardToFocus' },
        'FOCUS.RELEASE': { actions: 'forwardToFocus' },
        'FOCUS.STOP_FOREGROUND': { actions: 'forwardToFocus' },
        'FOCUS.STOP_ALL': { actions: 'forwardToFocus' },
      },
    });
    const actor = createActor(root).start();
    const seen: Focus[] = [];
    actor.system.get('focus').on('FOCUS.CHANGED', (e: FocusEmitted) => seen.push(e.focus));

    actor.send(acquire('Content', 'audioPlayer'));
    actor.send(acquire('Dialog', 'speechSynthesizer'));
    actor.send(acquire('Alerts', 'alerts'));
    actor.send(release('Dialog', 'speechSynthesizer'));

    // Only the synthesizer is registered; the others' notifications are emitted, not sent.
    expect(received).toEqual([
      { type: 'FOCUS.CHANGED', channel: 'Dialog', focus: 'FOREGROUND' },
      { type: 'FOCUS.CHANGED', channel: 'Dialog', focus: 'NONE' },
    ]);
    expect(seen).toEqual(['FOREGROUND', 'BACKGROUND', 'FOREGROUND', 'BACKGROUND', 'NONE', 'FOREGROUND']);
    actor.stop();
  });
});
