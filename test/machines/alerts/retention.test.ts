// The Alerts machine must not grow with every alert it ever had (found by the fault-injection
// soak's heap snapshots, test/soak). An alert child that ended in a final state sent its parent
// `xstate.done.actor.alert:<token>` — an event type of its own for every alert — and XState
// memoizes the transitions of each state node per event type, for the life of the machine: one
// entry more per alert, never dropped. Each way an alert can end is covered here.
import { SimulatedClock, createActor, fromCallback, setup, type ActorRefFrom, type InspectionEvent } from 'xstate';
import { focusMachine } from '../../../machines/focus/machine';
import { alertMachine, MAX_ALERT_DURATION_MS, type RenderCommand, type RenderInput } from '../../../machines/alerts/alert';
import { alertsMachine } from '../../../machines/alerts/machine';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', '+0000');

function alerts() {
  const due = new Map<string, () => void>();
  const renders = new Map<string, (e: { type: 'RENDER.STARTED' } | { type: 'RENDER.FINISHED' }) => void>();
  const alert = alertMachine.provide({
    actors: {
      waitUntil: fromCallback<{ type: 'NONE' }, { at: number; token: string }>(({ input, sendBack }) => {
        due.set(input.token, () => sendBack({ type: 'ALERT.DUE' }));
      }),
      render: fromCallback<RenderCommand, RenderInput>(({ sendBack }) => {
        renders.set('current', sendBack);
      }),
    },
  });
  const machine = alertsMachine.provide({ actors: { alert } });
  const received: string[] = [];
  const root = setup({ actors: { focus: focusMachine, subject: machine } }).createMachine({
    invoke: [
      { id: 'focus', systemId: 'focus', src: 'focus' },
      { id: 'alerts', systemId: 'alerts', src: 'subject' },
    ],
  });
  const clock = new SimulatedClock();
  const actor = createActor(root, {
    clock,
    inspect: (e: InspectionEvent) => {
      if (e.type === '@xstate.event' && (e.actorRef as { id?: string }).id === 'alerts') received.push(e.event.type);
    },
  }).start();
  const subject = actor.getSnapshot().children.alerts as ActorRefFrom<typeof machine>;
  const focus = actor.getSnapshot().children.focus as ActorRefFrom<typeof focusMachine>;
  let n = 0;
  const ring = (token: string, more: Record<string, unknown> = {}) => {
    subject.send({ type: 'DIRECTIVE.SetAlert', payload: { token, type: 'ALARM', scheduledTime: iso(T0 + 1000), ...more }, messageId: `s${++n}`, receivedAt: T0 });
    const child = subject.getSnapshot().children[`alert:${token}`];
    due.get(token)?.();
    renders.get('current')?.({ type: 'RENDER.STARTED' });
    return child;
  };
  return { subject, focus, clock, renders, received, ring, del: (token: string) => subject.send({ type: 'DIRECTIVE.DeleteAlert', payload: { token }, messageId: `d${++n}`, receivedAt: T0 }) };
}

describe('alerts machine: nothing kept per alert once it is gone', () => {
  it('an alert that ends (stopped, deleted, loops done, channel taken, maximum duration) sends the Alerts machine no event type of its own', () => {
    const a = alerts();
    const children = [
      (() => {
        const c = a.ring('stopped-by-user');
        a.subject.send({ type: 'USER.STOP' });
        return c;
      })(),
      (() => {
        const c = a.ring('deleted');
        a.del('deleted');
        return c;
      })(),
      (() => {
        const c = a.ring('loops-done', { loopCount: 1 });
        a.renders.get('current')?.({ type: 'RENDER.FINISHED' });
        return c;
      })(),
      (() => {
        const c = a.ring('channel-taken');
        a.focus.send({ type: 'FOCUS.STOP_ALL' });
        return c;
      })(),
      (() => {
        const c = a.ring('timed-out');
        a.clock.increment(MAX_ALERT_DURATION_MS);
        return c;
      })(),
    ];
    expect(a.subject.getSnapshot().value).toBe('IDLE');
    expect(a.subject.getSnapshot().context.alerts).toEqual({});
    // The events the Alerts machine took in are of a fixed set of types, whatever the tokens.
    expect(a.received.filter((t) => t.startsWith('xstate.done.actor.') || t.includes('stopped-by-user') || t.includes('timed-out'))).toEqual([]);
    // Every child is gone: no longer running, and no longer a child of the Alerts machine.
    expect(children.map((c) => c?.getSnapshot().status)).toEqual(['stopped', 'stopped', 'stopped', 'stopped', 'stopped']);
    expect(Object.keys(a.subject.getSnapshot().children)).toEqual([]);
  });
});
