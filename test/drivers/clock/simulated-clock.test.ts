import { createActor, setup } from 'xstate';
import { SimulatedClock } from '../../../drivers/clock';

const START = Date.UTC(2026, 5, 1, 12);
const HOUR = 3_600_000;

/** A clock at START and a log of what fired, each with the wall-clock time it fired at. */
function simulated() {
  const clock = new SimulatedClock(START);
  const log: string[] = [];
  const mark = (name: string) => (): void => {
    log.push(`${name}@${clock.now() - START}`);
  };
  return { clock, log, mark };
}

describe('SimulatedClock.at and advance', () => {
  it('fires in time order, each with the clock at its time, and not before', () => {
    const { clock, log, mark } = simulated();
    clock.at(START + 300, mark('c'));
    clock.at(START + 100, mark('a'));
    clock.at(START + 200, mark('b'));
    clock.at(START + 200, mark('b2'));
    clock.advance(99);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['a@100']);
    clock.advance(1000);
    expect(log).toEqual(['a@100', 'b@200', 'b2@200', 'c@300']);
    expect(clock.now()).toBe(START + 1100);
    expect(clock.pending).toBe(0);
  });

  it('fires what callbacks schedule inside the window, and leaves what falls after it', () => {
    const { clock, log, mark } = simulated();
    clock.at(START + 100, () => {
      mark('first')();
      clock.at(START + 150, mark('inside'));
      clock.at(START + 100, mark('same instant'));
      clock.setTimeout(mark('relative'), 50);
      clock.at(START + 1500, mark('after'));
    });
    clock.advance(1000);
    expect(log).toEqual(['first@100', 'same instant@100', 'inside@150', 'relative@150']);
    expect(clock.pending).toBe(1);
    clock.advanceTo(START + 1500);
    expect(log.at(-1)).toBe('after@1500');
  });

  it('fires a time already past on the next advance, not inside at', () => {
    const { clock, log, mark } = simulated();
    clock.at(START - HOUR, mark('late'));
    expect(log).toEqual([]);
    clock.advance(0);
    expect(log).toEqual(['late@0']);
  });

  it('does not fire a cancelled wait or a cleared timeout', () => {
    const { clock, log, mark } = simulated();
    const cancel = clock.at(START + 100, mark('at'));
    const id = clock.setTimeout(mark('timeout'), 100);
    expect(clock.pending).toBe(2);
    cancel();
    clock.clearTimeout(id);
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    expect(log).toEqual([]);
  });

  it('refuses to go back in advanceTo', () => {
    const { clock } = simulated();
    expect(() => clock.advanceTo(START - 1)).toThrow(RangeError);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});

describe('SimulatedClock.jump', () => {
  it('fires at once the waits a jump forward passed, in time order, and tells listeners first', () => {
    const { clock, log, mark } = simulated();
    clock.onJump((d) => log.push(`jump ${d}`));
    clock.at(START + 2 * HOUR, mark('b'));
    clock.at(START + HOUR, mark('a'));
    clock.at(START + 3 * HOUR, mark('c'));
    clock.jump(2 * HOUR + 1);
    expect(log).toEqual([`jump ${2 * HOUR + 1}`, `a@${2 * HOUR + 1}`, `b@${2 * HOUR + 1}`]);
    expect(clock.monotonic).toBe(0);
    clock.advanceTo(START + 3 * HOUR);
    expect(log.at(-1)).toBe(`c@${3 * HOUR}`);
  });

  it('delays a wait by a jump backwards', () => {
    const { clock, log, mark } = simulated();
    clock.at(START + HOUR, mark('alert'));
    clock.advance(10_000);
    clock.jump(-30 * 60_000);
    clock.advance(HOUR - 10_000 + 30 * 60_000 - 1);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual([`alert@${HOUR}`]);
  });

  it('leaves setTimeouts on monotonic time', () => {
    const { clock, log, mark } = simulated();
    clock.setTimeout(mark('timeout'), 5000);
    clock.jump(HOUR);
    clock.jump(-2 * HOUR);
    expect(log).toEqual([]);
    clock.advance(4999);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual([`timeout@${-HOUR + 5000}`]);
  });

  it('stops telling a listener that unsubscribed', () => {
    const { clock } = simulated();
    const deltas: number[] = [];
    const unsubscribe = clock.onJump((d) => deltas.push(d));
    clock.jump(1000);
    unsubscribe();
    clock.jump(2000);
    expect(deltas).toEqual([1000]);
  });
});

describe('SimulatedClock trust', () => {
  it('holds waits while untrusted and fires the due ones when trusted', () => {
    const { clock, log, mark } = simulated();
    clock.setTrusted(false);
    expect(clock.trusted).toBe(false);
    clock.at(START + 100, mark('due'));
    clock.at(START + HOUR, mark('later'));
    clock.setTimeout(mark('timeout'), 200);
    clock.advance(1000);
    expect(log).toEqual(['timeout@200']);
    clock.setTrusted(true);
    expect(log).toEqual(['timeout@200', 'due@1000']);
    clock.advanceTo(START + HOUR);
    expect(log.at(-1)).toBe(`later@${HOUR}`);
  });
});

describe('SimulatedClock as the XState clock', () => {
  const machine = setup({}).createMachine({
    initial: 'waiting',
    states: { waiting: { after: { 5000: 'done' } }, done: {} },
  });

  it("runs a machine's after delay on the simulated time", () => {
    const clock = new SimulatedClock(START);
    const actor = createActor(machine, { clock }).start();
    clock.advance(4999);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe('done');
    expect(clock.pending).toBe(0);
    actor.stop();
  });

  it('shares one time line with at waits', () => {
    const clock = new SimulatedClock(START);
    const seen: string[] = [];
    const actor = createActor(machine, { clock });
    actor.subscribe((s) => seen.push(`${String(s.value)}@${clock.now() - START}`));
    actor.start();
    clock.at(START + 3000, () => seen.push(`at@${clock.now() - START}`));
    clock.at(START + 6000, () => seen.push(`at@${clock.now() - START}`));
    clock.advance(10_000);
    expect(seen).toEqual(['waiting@0', 'at@3000', 'done@5000', 'at@6000']);
    actor.stop();
  });

  it('does not hurry the delay when the wall clock jumps forward', () => {
    const clock = new SimulatedClock(START);
    const actor = createActor(machine, { clock }).start();
    clock.jump(HOUR);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advance(4999);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe('done');
    actor.stop();
  });

  it('cancels the delay when the machine stops', () => {
    const clock = new SimulatedClock(START);
    const actor = createActor(machine, { clock }).start();
    expect(clock.pending).toBe(1);
    actor.stop();
    expect(clock.pending).toBe(0);
  });
});
