// PROTOCOL.md §11.2–§11.4: the System machine.
import { createActor, fromCallback } from 'xstate';
import { buildEvent } from '../../../machines/catalog';
import { roundedInactiveSeconds, systemMachine, type SystemEmitted, type SystemEvent, type SystemInput } from '../../../machines/system/machine';

const HOUR = 3_600_000;

function system(input: Partial<SystemInput> = {}) {
  let tick: ((at: number) => void) | undefined;
  const machine = systemMachine.provide({
    actors: {
      reportTimer: fromCallback(({ sendBack }) => {
        tick = (at) => sendBack({ type: 'INACTIVITY.TICK', at });
      }),
    },
  });
  const actor = createActor(machine, { input: { startedAt: 0, ...input } });
  const emitted: SystemEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const send = (e: SystemEvent) => {
    emitted.length = 0;
    actor.send(e);
    return [...emitted];
  };
  const tickAt = (at: number) => {
    emitted.length = 0;
    tick?.(at);
    return [...emitted];
  };
  return { actor, send, tickAt };
}

const directive = { messageId: 'm1', receivedAt: 0 };

describe('system machine', () => {
  it('rounds the inactive time to whole hours (§11.2, §16 #1)', () => {
    expect(roundedInactiveSeconds(0)).toBe(0);
    expect(roundedInactiveSeconds(HOUR - 1)).toBe(3600);
    expect(roundedInactiveSeconds(1.4 * HOUR)).toBe(3600);
    expect(roundedInactiveSeconds(1.6 * HOUR)).toBe(7200);
    expect(roundedInactiveSeconds(-5)).toBe(0);
  });

  it('reports the time since the last user activity on each tick (§11.2)', () => {
    const s = system({ startedAt: 1000 });
    expect(s.tickAt(1000 + HOUR)).toEqual([{ type: 'AVS.EVENT', namespace: 'System', name: 'UserInactivityReport', payload: { inactiveTimeInSeconds: 3600 } }]);
    expect(s.tickAt(1000 + 2 * HOUR)[0]).toMatchObject({ payload: { inactiveTimeInSeconds: 7200 } });
    s.send({ type: 'USER.ACTIVITY', at: 1000 + 2.5 * HOUR });
    expect(s.tickAt(1000 + 3 * HOUR)[0]).toMatchObject({ payload: { inactiveTimeInSeconds: 3600 } });
    expect(s.tickAt(1000 + 2.6 * HOUR)[0]).toMatchObject({ payload: { inactiveTimeInSeconds: 0 } });
  });

  it('ResetUserInactivity resets the inactivity clock at its arrival, with no event (§11.3)', () => {
    const s = system();
    expect(s.send({ type: 'DIRECTIVE.ResetUserInactivity', payload: {}, ...directive, receivedAt: 5 * HOUR })).toEqual([]);
    expect(s.tickAt(6 * HOUR)[0]).toMatchObject({ payload: { inactiveTimeInSeconds: 3600 } });
  });

  it('every report it makes is a valid event', () => {
    const s = system();
    const [report] = s.tickAt(HOUR * 30);
    if (report.type !== 'AVS.EVENT') throw new Error('no event');
    expect(() => buildEvent('System', 'UserInactivityReport', report.payload as { inactiveTimeInSeconds: number })).not.toThrow();
  });

  it('SetEndpoint hands the endpoint to the runtime (§11.3)', () => {
    const s = system();
    expect(s.send({ type: 'DIRECTIVE.SetEndpoint', payload: { endpoint: 'https://alexa.eu.gateway.devices.a2z.com' }, ...directive })).toEqual([
      { type: 'ENDPOINT.SET', endpoint: 'https://alexa.eu.gateway.devices.a2z.com' },
    ]);
  });

  it('surfaces an Exception and never answers it (§11.3)', () => {
    const s = system();
    expect(s.send({ type: 'DIRECTIVE.Exception', payload: { code: 'THROTTLING_EXCEPTION', description: 'slow down' }, ...directive })).toEqual([
      { type: 'SYSTEM.EXCEPTION', code: 'THROTTLING_EXCEPTION', description: 'slow down' },
    ]);
    expect(s.send({ type: 'DIRECTIVE.Exception', payload: { code: 'N/A', description: null }, ...directive })).toEqual([{ type: 'SYSTEM.EXCEPTION', code: 'N/A' }]);
  });

  it('sends ExceptionEncountered for a directive the router could not handle (§11.4)', () => {
    const s = system();
    expect(s.send({ type: 'EXCEPTION.REPORT', unparsedDirective: '{"x":1}', errorType: 'UNSUPPORTED_OPERATION', message: 'Unsupported operation' })).toEqual([
      {
        type: 'AVS.EVENT',
        namespace: 'System',
        name: 'ExceptionEncountered',
        payload: { unparsedDirective: '{"x":1}', error: { type: 'UNSUPPORTED_OPERATION', message: 'Unsupported operation' } },
      },
    ]);
  });

  it('reports SoftwareInfo at each connect and on ReportSoftwareInfo when the product has a version (§11.3)', () => {
    const s = system({ firmwareVersion: '42' });
    const info = { type: 'AVS.EVENT', namespace: 'System', name: 'SoftwareInfo', payload: { firmwareVersion: '42' } };
    expect(s.send({ type: 'CONNECTION.CONNECTED' })).toEqual([info]);
    expect(s.actor.getSnapshot().value).toBe('ONLINE');
    expect(s.send({ type: 'CONNECTION.CONNECTED' })).toEqual([]);
    expect(s.send({ type: 'DIRECTIVE.ReportSoftwareInfo', payload: {}, ...directive })).toEqual([info]);
    s.send({ type: 'CONNECTION.LOST' });
    expect(s.send({ type: 'CONNECTION.CONNECTED' })).toEqual([info]);
  });

  it('without a firmware version it reports none', () => {
    const s = system();
    expect(s.send({ type: 'CONNECTION.CONNECTED' })).toEqual([]);
    expect(s.actor.getSnapshot().can({ type: 'DIRECTIVE.ReportSoftwareInfo', payload: {}, ...directive })).toBe(false);
  });
});
