// The attention state (DialogUXStateAggregator in the AVS Device SDK) driven on a simulated clock.
import { createActor, SimulatedClock, type SnapshotFrom } from 'xstate';
import {
  attentionMachine,
  attentionOf,
  connectionChanged,
  type Attention,
  type AttentionEvent,
  type AttentionInput,
} from '../../../machines/attention/machine';
import type { connectionMachine } from '../../../machines/connection/machine';

function attention(input: AttentionInput = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(attentionMachine, { input, clock });
  // Every attention a subscriber (the LEDs) is shown, in order, without repeats.
  const seen: Attention[] = [];
  actor.subscribe((snapshot) => {
    const now = attentionOf(snapshot);
    if (seen.at(-1) !== now) seen.push(now);
  });
  actor.start();
  const send = (...events: AttentionEvent[]) => events.forEach((e) => actor.send(e));
  const now = () => attentionOf(actor.getSnapshot());
  return { actor, clock, seen, send, now };
}

const recognizer = (state: 'IDLE' | 'RECOGNIZING' | 'BUSY' | 'EXPECTING_SPEECH'): AttentionEvent => ({ type: 'RECOGNIZER.CHANGED', state });
const synthesizer = (state: 'PLAYING' | 'FINISHED'): AttentionEvent => ({ type: 'SYNTHESIZER.CHANGED', state });
const responseComplete: AttentionEvent = { type: 'DIALOG.RESPONSE_COMPLETE' };
const alerts = (active: boolean): AttentionEvent => ({ type: 'ALERTS.CHANGED', active });
const connection = (connected: boolean): AttentionEvent => ({ type: 'CONNECTION.CHANGED', connected });

describe('attention machine', () => {
  it('starts IDLE', () => {
    expect(attention().now()).toBe('IDLE');
  });

  it('a single turn: LISTENING, THINKING, SPEAKING, FINISHED, then IDLE after the short timeout', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'));
    expect(a.now()).toBe('LISTENING');
    a.send(recognizer('BUSY'));
    expect(a.now()).toBe('THINKING');
    // The Recognize stream ends while the answer is on its way: still THINKING.
    a.send(recognizer('IDLE'));
    expect(a.now()).toBe('THINKING');
    a.send(synthesizer('PLAYING'));
    expect(a.now()).toBe('SPEAKING');
    a.send(responseComplete);
    expect(a.now()).toBe('SPEAKING');
    a.send(synthesizer('FINISHED'));
    expect(a.now()).toBe('FINISHED');
    // SDK SHORT_TIMEOUT (200 ms) before IDLE.
    a.clock.increment(199);
    expect(a.now()).toBe('FINISHED');
    a.clock.increment(1);
    expect(a.now()).toBe('IDLE');
    expect(a.seen).toEqual(['IDLE', 'LISTENING', 'THINKING', 'SPEAKING', 'FINISHED', 'IDLE']);
  });

  it('multi-turn: an ExpectSpeech within the short timeout never shows IDLE between speech and listening', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'), recognizer('IDLE'), synthesizer('PLAYING'), synthesizer('FINISHED'));
    a.clock.increment(150);
    a.send(recognizer('EXPECTING_SPEECH'));
    expect(a.now()).toBe('EXPECTING');
    // The FINISHED timer was cancelled by leaving FINISHED: nothing fires later.
    a.clock.increment(1000);
    expect(a.now()).toBe('EXPECTING');
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'));
    expect(a.seen).toEqual(['IDLE', 'LISTENING', 'THINKING', 'SPEAKING', 'FINISHED', 'EXPECTING', 'LISTENING', 'THINKING']);
  });

  it('two Speaks in a row: FINISHED then SPEAKING again, no IDLE between', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'), synthesizer('PLAYING'), synthesizer('FINISHED'));
    a.clock.increment(100);
    a.send(synthesizer('PLAYING'));
    a.clock.increment(1000);
    expect(a.now()).toBe('SPEAKING');
    a.send(synthesizer('FINISHED'));
    a.clock.increment(200);
    expect(a.seen).toEqual(['IDLE', 'LISTENING', 'THINKING', 'SPEAKING', 'FINISHED', 'SPEAKING', 'FINISHED', 'IDLE']);
  });

  it('an ExpectSpeech that times out goes back to IDLE', () => {
    const a = attention();
    a.send(recognizer('EXPECTING_SPEECH'));
    expect(a.now()).toBe('EXPECTING');
    a.send(recognizer('IDLE'));
    expect(a.now()).toBe('IDLE');
  });

  it('a capture that ends without a request (IDLE while LISTENING) goes back to IDLE', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'), recognizer('IDLE'));
    expect(a.seen).toEqual(['IDLE', 'LISTENING', 'IDLE']);
  });

  it('THINKING times out to IDLE at 8 s and not before (SDK THINKING_TIMEOUT)', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'));
    a.clock.increment(7999);
    expect(a.now()).toBe('THINKING');
    a.clock.increment(1);
    expect(a.now()).toBe('IDLE');
  });

  it('a second BUSY restarts the thinking timeout', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'));
    a.clock.increment(5000);
    a.send(recognizer('BUSY'));
    a.clock.increment(5000);
    expect(a.now()).toBe('THINKING');
    a.clock.increment(3000);
    expect(a.now()).toBe('IDLE');
  });

  it('honours the timeouts given as input', () => {
    const a = attention({ shortMs: 50, thinkingTimeoutMs: 1000 });
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'));
    a.clock.increment(999);
    expect(a.now()).toBe('THINKING');
    a.clock.increment(1);
    expect(a.now()).toBe('IDLE');
    a.send(synthesizer('PLAYING'), synthesizer('FINISHED'));
    a.clock.increment(50);
    expect(a.now()).toBe('IDLE');
  });

  it('a response with nothing to say ends THINKING after the short timeout (SDK onRequestProcessingCompleted)', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'), recognizer('IDLE'));
    a.clock.increment(1000);
    a.send(responseComplete);
    a.clock.increment(199);
    expect(a.now()).toBe('THINKING');
    a.clock.increment(1);
    expect(a.now()).toBe('IDLE');
    expect(a.seen).toEqual(['IDLE', 'LISTENING', 'THINKING', 'IDLE']);
  });

  it('speech starting within the short timeout after the response still shows SPEAKING', () => {
    const a = attention();
    a.send(recognizer('RECOGNIZING'), recognizer('BUSY'), responseComplete);
    a.clock.increment(100);
    a.send(synthesizer('PLAYING'));
    a.clock.increment(8000);
    expect(a.now()).toBe('SPEAKING');
    expect(a.seen).toEqual(['IDLE', 'LISTENING', 'THINKING', 'SPEAKING']);
  });

  it('RESPONSE_COMPLETE outside THINKING changes nothing', () => {
    const a = attention();
    a.send(responseComplete);
    expect(a.now()).toBe('IDLE');
    a.send(recognizer('RECOGNIZING'), responseComplete);
    a.clock.increment(1000);
    expect(a.now()).toBe('LISTENING');
  });

  describe('alerts', () => {
    it('a ringing alert shows ALERTING when idle, and IDLE once it stops', () => {
      const a = attention();
      a.send(alerts(true));
      expect(a.now()).toBe('ALERTING');
      expect(a.actor.getSnapshot().context.alertActive).toBe(true);
      a.send(alerts(false));
      expect(a.now()).toBe('IDLE');
      expect(a.seen).toEqual(['IDLE', 'ALERTING', 'IDLE']);
    });

    it('a dialog wins over a ringing alert, and ends back in ALERTING without showing IDLE', () => {
      const a = attention();
      a.send(alerts(true), recognizer('RECOGNIZING'));
      expect(a.now()).toBe('LISTENING');
      a.send(recognizer('BUSY'), synthesizer('PLAYING'));
      // The alert goes on ringing through the dialog: still SPEAKING.
      a.send(alerts(true));
      expect(a.now()).toBe('SPEAKING');
      a.send(synthesizer('FINISHED'));
      a.clock.increment(200);
      expect(a.now()).toBe('ALERTING');
      expect(a.seen).toEqual(['IDLE', 'ALERTING', 'LISTENING', 'THINKING', 'SPEAKING', 'FINISHED', 'ALERTING']);
    });

    it('an alert that stopped during the dialog leaves IDLE after it', () => {
      const a = attention();
      a.send(alerts(true), recognizer('RECOGNIZING'), alerts(false), recognizer('IDLE'));
      expect(a.seen).toEqual(['IDLE', 'ALERTING', 'LISTENING', 'IDLE']);
    });

    it('a thinking timeout while an alert rings lands in ALERTING', () => {
      const a = attention();
      a.send(alerts(true), recognizer('RECOGNIZING'), recognizer('BUSY'));
      a.clock.increment(8000);
      expect(a.now()).toBe('ALERTING');
    });
  });

  describe('connection', () => {
    it.each<[string, AttentionEvent[]]>([
      ['LISTENING', [recognizer('RECOGNIZING')]],
      ['EXPECTING', [recognizer('EXPECTING_SPEECH')]],
      ['THINKING', [recognizer('RECOGNIZING'), recognizer('BUSY')]],
    ])('losing it while %s goes to IDLE (SDK onConnectionStatusChanged)', (state, events) => {
      const a = attention();
      a.send(connection(true), ...events);
      expect(a.now()).toBe(state);
      a.send(connection(false));
      expect(a.now()).toBe('IDLE');
      expect(a.actor.getSnapshot().context.connected).toBe(false);
    });

    it('losing it while SPEAKING lets the speech finish', () => {
      const a = attention();
      a.send(connection(true), synthesizer('PLAYING'), connection(false));
      expect(a.now()).toBe('SPEAKING');
    });

    it('regaining it changes nothing but the stored state', () => {
      const a = attention();
      a.send(recognizer('RECOGNIZING'), connection(true));
      expect(a.now()).toBe('LISTENING');
      expect(a.actor.getSnapshot().context.connected).toBe(true);
    });

    it('losing it mid-dialog while an alert rings lands in ALERTING', () => {
      const a = attention();
      a.send(connection(true), alerts(true), recognizer('RECOGNIZING'), connection(false));
      expect(a.now()).toBe('ALERTING');
    });

    it('connectionChanged reads connected from ONLINE.CONNECTED of the connection machine', () => {
      type ConnectionSnapshot = SnapshotFrom<typeof connectionMachine>;
      // Compile-time: the helper takes the connection machine's real snapshots.
      const accepts = (s: ConnectionSnapshot) => connectionChanged(s);
      expect(typeof accepts).toBe('function');
      const snapshot = (connected: boolean) => ({ matches: (state: { ONLINE: 'CONNECTED' }) => connected && state.ONLINE === 'CONNECTED' });
      expect(connectionChanged(snapshot(true))).toEqual({ type: 'CONNECTION.CHANGED', connected: true });
      expect(connectionChanged(snapshot(false))).toEqual({ type: 'CONNECTION.CHANGED', connected: false });
    });
  });
});
