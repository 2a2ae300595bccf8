// PROTOCOL.md §4.4: ordering, blocking, dropping and cancellation of directives, on virtual time.
import { EMPTY, NEVER, Observable, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { DirectiveSequencer, type Outcome, type Sequenced } from '../../../runtime/pipeline/sequencer';

interface Item extends Sequenced {
  /** How long carrying it out takes (virtual ms); 0 = done at once (non-blocking). */
  readonly takes?: number;
  readonly fails?: boolean;
}

const item = (messageId: string, namespace: string, dialogRequestId?: string, more: Partial<Item> = {}): Item => ({
  messageId,
  namespace,
  ...(dialogRequestId !== undefined ? { dialogRequestId } : {}),
  ...more,
});

/** Runs `script` on virtual time; returns "t:kind:id" for every start and outcome. */
function play(script: (s: DirectiveSequencer<Item>, at: (t: number, f: () => void) => void) => void, run?: (i: Item) => Observable<unknown>): string[] {
  const log: string[] = [];
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.run(({ cold }) => {
    const sequencer = new DirectiveSequencer<Item>(
      run ??
        ((i) =>
          new Observable((sub) => {
            log.push(`${scheduler.now()}:start:${i.messageId}`);
            const source = i.fails ? throwError(() => new Error('boom')) : i.takes ? timer(i.takes) : EMPTY;
            const inner = source.subscribe({ error: (e) => sub.error(e), complete: () => sub.complete() });
            return () => inner.unsubscribe();
          })),
    );
    sequencer.outcomes$.subscribe((o: Outcome<Item>) => log.push(`${scheduler.now()}:${o.kind}:${o.item.messageId}`));
    const at = (t: number, f: () => void) => cold(`${t}ms a`).subscribe(f);
    script(sequencer, at);
  });
  return log;
}

describe('directive sequencer (§4.4)', () => {
  it('carries out the directives of the current dialog in arrival order', () => {
    const log = play((s) => {
      s.startDialog('D1');
      s.push(item('a', 'Speaker', 'D1'));
      s.push(item('b', 'Alerts', 'D1'));
      s.push(item('c', 'Speaker', 'D1'));
    });
    expect(log.filter((l) => l.includes('done'))).toEqual(['0:done:a', '0:done:b', '0:done:c']);
  });

  it('a blocking directive (Speak) holds the ones after it until it has finished', () => {
    const log = play((s) => {
      s.startDialog('D1');
      s.push(item('speak', 'SpeechSynthesizer', 'D1', { takes: 30 }));
      s.push(item('expect', 'SpeechRecognizer', 'D1'));
    });
    expect(log).toEqual(['0:start:speak', '30:done:speak', '30:start:expect', '30:done:expect']);
  });

  it('drops directives of an older dialogRequestId, without starting them', () => {
    const log = play((s) => {
      s.startDialog('D1');
      s.startDialog('D2');
      s.push(item('old', 'SpeechSynthesizer', 'D1'));
      s.push(item('new', 'SpeechSynthesizer', 'D2'));
    });
    expect(log).toEqual(['0:dropped:old', '0:start:new', '0:done:new']);
  });

  it('drops a dialog directive when no dialog is current', () => {
    expect(play((s) => s.push(item('x', 'Speaker', 'D9')))).toEqual(['0:dropped:x']);
  });

  it('a new dialog cancels the running directive and discards the waiting ones', () => {
    const log = play((s, at) => {
      s.startDialog('D1');
      s.push(item('speak', 'SpeechSynthesizer', 'D1', { takes: 50 }));
      s.push(item('play', 'AudioPlayer', 'D1'));
      at(20, () => {
        s.startDialog('D2');
        s.push(item('speak2', 'SpeechSynthesizer', 'D2', { takes: 10 }));
      });
    });
    expect(log).toEqual(['0:start:speak', '20:cancelled:speak', '20:cancelled:play', '20:start:speak2', '30:done:speak2']);
  });

  it('cancelling unsubscribes from the running directive (the handler stops it)', () => {
    let torn = 0;
    const run = () =>
      new Observable<never>(() => () => {
        torn++;
      });
    play((s) => {
      s.startDialog('D1');
      s.push(item('speak', 'SpeechSynthesizer', 'D1'));
      s.startDialog('D2');
    }, run);
    expect(torn).toBe(1);
  });

  it('a failed directive cancels the rest of its dialog, and later ones of it are dropped (§4.4 step 4)', () => {
    const log = play((s, at) => {
      s.startDialog('D1');
      s.push(item('speak', 'SpeechSynthesizer', 'D1', { takes: 10 }));
      s.push(item('bad', 'AudioPlayer', 'D1', { fails: true }));
      s.push(item('after', 'Speaker', 'D1'));
      at(20, () => s.push(item('late', 'Speaker', 'D1')));
    });
    expect(log).toEqual(['0:start:speak', '10:done:speak', '10:start:bad', '10:failed:bad', '10:cancelled:after', '20:dropped:late']);
  });

  it('a failure the options say is harmless leaves the dialog going', () => {
    const log: string[] = [];
    const s = new DirectiveSequencer<Item>((i) => (i.fails ? throwError(() => new Error('unsupported')) : EMPTY), { failureCancelsDialog: () => false });
    s.outcomes$.subscribe((o) => log.push(`${o.kind}:${o.item.messageId}`));
    s.startDialog('D1');
    s.push(item('bad', 'X', 'D1', { fails: true }));
    s.push(item('good', 'Speaker', 'D1'));
    expect(log).toEqual(['failed:bad', 'done:good']);
  });

  it('independent directives run at once, beside a blocked dialog, in arrival order per interface (§4.4, §16 #5)', () => {
    const log = play((s, at) => {
      s.startDialog('D1');
      s.push(item('speak', 'SpeechSynthesizer', 'D1', { takes: 100 }));
      s.push(item('play', 'AudioPlayer', 'D1'));
      at(10, () => {
        s.push(item('vol1', 'Speaker', undefined, { takes: 5 }));
        s.push(item('vol2', 'Speaker'));
        s.push(item('alert', 'Alerts'));
      });
    });
    expect(log).toEqual([
      '0:start:speak',
      '10:start:vol1',
      '10:start:alert',
      '10:done:alert',
      '15:done:vol1',
      '15:start:vol2',
      '15:done:vol2',
      '100:done:speak',
      '100:start:play',
      '100:done:play',
    ]);
  });

  it('a new dialog does not touch independent directives', () => {
    const log = play((s, at) => {
      s.startDialog('D1');
      s.push(item('vol', 'Speaker', undefined, { takes: 10 }));
      at(5, () => s.startDialog('D2'));
    });
    expect(log).toEqual(['0:start:vol', '10:done:vol']);
  });

  it('a handler that throws while starting is a failed directive, not a crash', () => {
    const log: string[] = [];
    const s = new DirectiveSequencer<Item>(() => {
      throw new Error('bug');
    });
    s.outcomes$.subscribe((o) => log.push(`${o.kind}:${o.item.messageId}`));
    s.startDialog('D1');
    s.push(item('a', 'Speaker', 'D1'));
    s.push(item('b', 'Speaker', 'D1'));
    expect(log).toEqual(['failed:a', 'dropped:b']);
    expect(s.dialogRequestId).toBeUndefined();
  });

  it('a directive that starts a new dialog while it starts is cancelled cleanly', () => {
    const log: string[] = [];
    let s: DirectiveSequencer<Item>;
    s = new DirectiveSequencer<Item>((i) => {
      if (i.messageId === 'a') s.startDialog('D2');
      return NEVER;
    });
    s.outcomes$.subscribe((o) => log.push(`${o.kind}:${o.item.messageId}`));
    s.startDialog('D1');
    s.push(item('a', 'SpeechRecognizer', 'D1'));
    s.push(item('b', 'SpeechRecognizer', 'D2'));
    expect(log).toEqual(['cancelled:a']);
    expect(s.pending).toBe(1);
  });

  it('stop cancels everything and takes nothing more', () => {
    const log: string[] = [];
    const s = new DirectiveSequencer<Item>(() => NEVER);
    s.outcomes$.subscribe({ next: (o) => log.push(`${o.kind}:${o.item.messageId}`), complete: () => log.push('complete') });
    s.startDialog('D1');
    s.push(item('a', 'SpeechSynthesizer', 'D1'));
    s.push(item('b', 'Speaker'));
    s.stop();
    s.push(item('c', 'Speaker'));
    expect(log).toEqual(['cancelled:a', 'cancelled:b', 'complete']);
    expect(s.pending).toBe(0);
  });
});
