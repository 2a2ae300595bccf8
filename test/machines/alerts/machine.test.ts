// PROTOCOL.md §7: the Alerts machine and its alert children, with fake clock and sound actors,
// the real focus machine and XState's simulated clock (for the one-hour maximum).
import { SimulatedClock, createActor, fromCallback, setup, type ActorRefFrom } from 'xstate';
import { focusMachine } from '../../../machines/focus/machine';
import { alertMachine, MAX_ALERT_DURATION_MS, type RenderCommand, type RenderInput } from '../../../machines/alerts/alert';
import { alertsContext, alertsMachine, type AlertsEmitted, type KeptAlert } from '../../../machines/alerts/machine';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', '+0000');

function alerts() {
  const waits: { token: string; at: number; fire: () => void; cancelled: boolean }[] = [];
  const renders: { input: RenderInput; modes: string[]; send: (e: { type: 'RENDER.STARTED' } | { type: 'RENDER.FINISHED' }) => void; stopped: boolean }[] = [];
  const alert = alertMachine.provide({
    actors: {
      waitUntil: fromCallback<{ type: 'NONE' }, { at: number; token: string }>(({ input, sendBack }) => {
        const w = { token: input.token, at: input.at, fire: () => sendBack({ type: 'ALERT.DUE' }), cancelled: false };
        waits.push(w);
        return () => {
          w.cancelled = true;
        };
      }),
      render: fromCallback<RenderCommand, RenderInput>(({ input, sendBack, receive }) => {
        const r = { input, modes: [] as string[], send: sendBack, stopped: false };
        renders.push(r);
        receive((c) => r.modes.push(c.mode));
        return () => {
          r.stopped = true;
        };
      }),
    },
  });
  const machine = alertsMachine.provide({ actors: { alert } });
  const clock = new SimulatedClock();
  const root = setup({ actors: { focus: focusMachine, subject: machine } }).createMachine({
    invoke: [
      { id: 'focus', systemId: 'focus', src: 'focus' },
      { id: 'alerts', systemId: 'alerts', src: 'subject' },
    ],
  });
  const actor = createActor(root, { clock }).start();
  const subject = actor.getSnapshot().children.alerts as ActorRefFrom<typeof machine>;
  const focus = actor.getSnapshot().children.focus as ActorRefFrom<typeof focusMachine>;
  const emitted: AlertsEmitted[] = [];
  subject.on('*', (e) => emitted.push(e));
  const names = () => emitted.splice(0).map((e) => (e.type === 'AVS.EVENT' ? `${e.name}:${e.payload.token}` : `${e.type}:${'token' in e ? e.token : e.alert.token}`));
  let n = 0;
  const set = (token: string, at: number, type: 'TIMER' | 'ALARM' | 'REMINDER' = 'TIMER', receivedAt = T0, more: Record<string, unknown> = {}) =>
    subject.send({ type: 'DIRECTIVE.SetAlert', payload: { token, type, scheduledTime: iso(at), ...more }, messageId: `s${++n}`, receivedAt });
  const del = (token: string) => subject.send({ type: 'DIRECTIVE.DeleteAlert', payload: { token }, messageId: `d${++n}`, receivedAt: T0 });
  const fire = (token: string) => waits.filter((w) => w.token === token && !w.cancelled).at(-1)?.fire();
  const state = () => alertsContext(subject.getSnapshot()).payload;
  return { subject, focus, clock, waits, renders, emitted, names, set, del, fire, state };
}

describe('alerts machine', () => {
  it('SetAlert: stored first, then SetAlertSucceeded; the alert waits for its time on the clock (§7.3)', () => {
    const a = alerts();
    a.set('t1', T0 + 5000);
    expect(a.names()).toEqual(['ALERTS.PUT:t1', 'SetAlertSucceeded:t1']);
    expect(a.waits.map((w) => w.at)).toEqual([T0 + 5000]);
    expect(a.state()).toEqual({ allAlerts: [{ token: 't1', type: 'TIMER', scheduledTime: iso(T0 + 5000) }], activeAlerts: [] });
  });

  it('a late "due" from the sounding alert, then its deletion, leaves nothing sounding (found by the model-based test)', () => {
    const a = alerts();
    a.set('t1', T0 + 5000);
    a.fire('t1');
    a.subject.send({ type: 'ALERT.BECAME_DUE', token: 't1' });
    a.subject.send({ type: 'ALERT.BECAME_DUE', token: 'deleted-long-ago' });
    a.names();
    a.del('t1');
    expect(a.names()).toEqual(['ALERTS.DELETE:t1', 'AlertStopped:t1', 'DeleteAlertSucceeded:t1']);
    expect(a.subject.getSnapshot().value).toBe('IDLE');
    expect(a.subject.getSnapshot().context.due).toEqual([]);
    expect(a.focus.getSnapshot().context.owners.Alerts).toBeUndefined();
  });

  it('goes off: takes the Alerts channel, sounds in the foreground, AlertStarted when the sound starts (§7.6)', () => {
    const a = alerts();
    a.set('t1', T0 + 5000);
    a.names();
    a.fire('t1');
    expect(a.focus.getSnapshot().context.owners.Alerts).toBe('alerts');
    expect(a.renders[0].modes).toEqual(['foreground']);
    expect(a.names()).toEqual(['ALERTS.ACTIVE:t1']);
    a.renders[0].send({ type: 'RENDER.STARTED' });
    expect(a.names()).toEqual(['AlertStarted:t1']);
    expect(a.state().activeAlerts).toEqual([{ token: 't1', type: 'TIMER', scheduledTime: iso(T0 + 5000) }]);
  });

  it('a local stop ends it without the cloud: AlertStopped, forgotten, channel free (§7.5)', () => {
    const a = alerts();
    a.set('t1', T0 + 5000);
    a.fire('t1');
    a.renders[0].send({ type: 'RENDER.STARTED' });
    a.names();
    a.subject.send({ type: 'USER.STOP' });
    expect(a.names()).toEqual(['ALERTS.DELETE:t1', 'AlertStopped:t1']);
    expect(a.renders[0].stopped).toBe(true);
    expect(a.state()).toEqual({ allAlerts: [], activeAlerts: [] });
    expect(a.focus.getSnapshot().context.owners.Alerts).toBeUndefined();
  });

  it('goes to the background under speech and comes back (§4.2, §7.5, §7.6)', () => {
    const a = alerts();
    a.set('a1', T0 + 1000, 'ALARM');
    a.fire('a1');
    a.renders[0].send({ type: 'RENDER.STARTED' });
    a.names();
    a.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechSynthesizer' });
    a.focus.send({ type: 'FOCUS.RELEASE', channel: 'Dialog', owner: 'speechSynthesizer' });
    expect(a.names()).toEqual(['AlertEnteredBackground:a1', 'AlertEnteredForeground:a1']);
    expect(a.renders[0].modes).toEqual(['foreground', 'background', 'foreground']);
  });

  it('an alert that goes off during speech starts in the background', () => {
    const a = alerts();
    a.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechSynthesizer' });
    a.set('t1', T0 + 1000);
    a.fire('t1');
    expect(a.renders[0].modes).toEqual(['background']);
  });

  it('DeleteAlert of the sounding alert: AlertStopped, then DeleteAlertSucceeded (§7.4)', () => {
    const a = alerts();
    a.set('t1', T0 + 1000);
    a.fire('t1');
    a.renders[0].send({ type: 'RENDER.STARTED' });
    a.names();
    a.del('t1');
    expect(a.names()).toEqual(['ALERTS.DELETE:t1', 'AlertStopped:t1', 'DeleteAlertSucceeded:t1']);
    expect(a.renders[0].stopped).toBe(true);
  });

  it('DeleteAlert before it goes off: it never fires; an unknown token is a success (§7.4)', () => {
    const a = alerts();
    a.set('t1', T0 + 1000);
    a.names();
    a.del('t1');
    expect(a.names()).toEqual(['ALERTS.DELETE:t1', 'DeleteAlertSucceeded:t1']);
    expect(a.waits[0].cancelled).toBe(true);
    a.del('nobody');
    expect(a.names()).toEqual(['DeleteAlertSucceeded:nobody']);
  });

  it('refuses a time more than 30 minutes past; one less past goes off at once (§7.3)', () => {
    const a = alerts();
    a.set('late', T0 - 31 * 60_000);
    expect(a.names()).toEqual(['SetAlertFailed:late']);
    a.set('recent', T0 - 29 * 60_000);
    expect(a.names()).toEqual(['ALERTS.PUT:recent', 'SetAlertSucceeded:recent']);
    expect(a.waits.at(-1)?.at).toBe(T0 - 29 * 60_000);
  });

  it('the same token again is a new time; for the sounding alert a snooze (§7.3)', () => {
    const a = alerts();
    a.set('t1', T0 + 1000);
    a.set('t1', T0 + 9000);
    expect(a.state().allAlerts).toHaveLength(1);
    expect(a.waits.filter((w) => !w.cancelled).map((w) => w.at)).toEqual([T0 + 9000]);
    a.fire('t1');
    a.renders[0].send({ type: 'RENDER.STARTED' });
    a.names();
    a.set('t1', T0 + 600_000);
    expect(a.names()).toEqual(['ALERTS.ACTIVE:t1', 'AlertStopped:t1', 'ALERTS.PUT:t1', 'SetAlertSucceeded:t1']);
    expect(a.renders[0].stopped).toBe(true);
    expect(a.state()).toEqual({ allAlerts: [{ token: 't1', type: 'TIMER', scheduledTime: iso(T0 + 600_000) }], activeAlerts: [] });
  });

  it('two alerts due at once sound one after the other (§7.6)', () => {
    const a = alerts();
    a.set('t1', T0 + 1000);
    a.set('t2', T0 + 1000);
    a.fire('t1');
    a.fire('t2');
    expect(a.renders).toHaveLength(1);
    a.renders[0].send({ type: 'RENDER.STARTED' });
    a.subject.send({ type: 'USER.STOP' });
    expect(a.renders).toHaveLength(2);
    expect(a.renders[1].modes).toEqual(['foreground']);
    a.renders[1].send({ type: 'RENDER.STARTED' });
    expect(a.emitted.filter((e) => e.type === 'AVS.EVENT').map((e) => (e.type === 'AVS.EVENT' ? `${e.name}:${e.payload.token}` : ''))).toContain('AlertStarted:t2');
  });

  it('stops by itself after the maximum duration (§7.6)', () => {
    const a = alerts();
    a.set('a1', T0 + 1000, 'ALARM');
    a.fire('a1');
    a.renders[0].send({ type: 'RENDER.STARTED' });
    a.names();
    a.clock.increment(MAX_ALERT_DURATION_MS - 1);
    expect(a.names()).toEqual([]);
    a.clock.increment(1);
    expect(a.names()).toEqual(['ALERTS.DELETE:a1', 'AlertStopped:a1']);
  });

  it('stops when its loops are done, and when the Alerts channel is taken (§7.3 loopCount, §4.2)', () => {
    const a = alerts();
    a.set('r1', T0 + 1000, 'REMINDER', T0, { loopCount: 2 });
    a.fire('r1');
    expect(a.renders[0].input).toMatchObject({ type: 'REMINDER', loopCount: 2 });
    a.renders[0].send({ type: 'RENDER.FINISHED' });
    expect(a.names()).toContain('AlertStopped:r1');
    a.set('t2', T0 + 2000);
    a.fire('t2');
    a.names();
    a.focus.send({ type: 'FOCUS.STOP_ALL' });
    expect(a.names()).toEqual(['ALERTS.DELETE:t2', 'AlertStopped:t2']);
  });

  it('on boot: reloads stored alerts, drops one more than 30 minutes past with AlertStopped, fires one less past (§7.6)', () => {
    const a = alerts();
    const kept = (token: string, at: number): KeptAlert => ({ token, type: 'ALARM', scheduledTime: iso(at), scheduledAt: at, details: {}, active: false });
    a.subject.send({ type: 'ALERTS.LOAD', now: T0, alerts: [kept('old', T0 - 31 * 60_000), kept('recent', T0 - 10 * 60_000), kept('later', T0 + 3_600_000)] });
    expect(a.names()).toEqual(['ALERTS.DELETE:old', 'AlertStopped:old']);
    expect(a.state().allAlerts.map((x) => x.token)).toEqual(['recent', 'later']);
    expect(a.waits.map((w) => [w.token, w.at])).toEqual([
      ['recent', T0 - 10 * 60_000],
      ['later', T0 + 3_600_000],
    ]);
  });
});
