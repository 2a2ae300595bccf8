// §1.5.4 status handling, §1.7 order and the outbox, with a fake channel.
import { EMPTY } from 'rxjs';
import { MemoryOutbox } from '../../../services/outbox/outbox';
import { EventSender, StaticTokenSource, type EventChannel, type EventResponse, type SenderReport } from '../../../services/transport';

const answer = (status: number, code?: string): EventResponse => ({
  status,
  requestId: 'r',
  parts$: EMPTY,
  exception: Promise.resolve(
    code ? { kind: 'ok', header: { namespace: 'System', name: 'Exception' }, value: { header: { namespace: 'System', name: 'Exception', messageId: 'x' }, payload: { code } } } : undefined,
  ),
  done: Promise.resolve(),
});

/** A channel that answers from a script and records what was posted. */
class FakeChannel implements EventChannel {
  isOpen = true;
  posted: string[] = [];
  constructor(private readonly script: (name: string, n: number) => number | Error) {}
  async post(metadata: object | string): Promise<EventResponse> {
    await Promise.resolve(); // answers come later, as on a wire
    const name = (metadata as { event: { header: { name: string } } }).event.header.name;
    this.posted.push(name);
    const outcome = this.script(name, this.posted.filter((p) => p === name).length);
    if (outcome instanceof Error) {
      this.isOpen = false;
      throw outcome;
    }
    return answer(outcome, outcome >= 400 ? 'X' : undefined);
  }
}

const event = (namespace: string, name: string) => ({ event: { header: { namespace, name, messageId: `${name}-id` }, payload: {} } });

function setup(script: (name: string, n: number) => number | Error, tokens = new StaticTokenSource('t'), stateReportIntervalMs = 0) {
  const outbox = new MemoryOutbox(5);
  const reports: SenderReport[] = [];
  const sleeps: number[] = [];
  const sender = new EventSender({
    outbox,
    tokens,
    onParts: () => {},
    onReport: (r) => reports.push(r),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    stateReportIntervalMs,
  });
  const channel = new FakeChannel(script);
  const settle = async () => {
    for (let i = 0; i < 50; i++) await Promise.resolve();
  };
  return { outbox, reports, sleeps, sender, channel, settle };
}

describe('EventSender', () => {
  it('sends queued events in order once attached, and removes each AVS accepted', async () => {
    const s = setup(() => 204);
    s.sender.enqueue('Alerts', 'SetAlertSucceeded', event('Alerts', 'SetAlertSucceeded'));
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    s.sender.attach(s.channel);
    await s.settle();
    expect(s.channel.posted).toEqual(['SetAlertSucceeded', 'AlertStarted']);
    expect(s.outbox.size).toBe(0);
  });

  it('keeps events that must reach AVS while disconnected, drops the others (§1.7, §7.5)', async () => {
    const s = setup(() => 204);
    expect(s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'))).toBe(true);
    expect(s.sender.enqueue('SpeechSynthesizer', 'SpeechStarted', event('SpeechSynthesizer', 'SpeechStarted'))).toBe(false);
    expect(s.reports).toContainEqual({ kind: 'not-connected', name: 'SpeechSynthesizer.SpeechStarted' });
    expect(s.outbox.size).toBe(1);
  });

  it('400: reports and never resends it; the next one goes (§1.5.4)', async () => {
    const s = setup((name) => (name === 'AlertStarted' ? 400 : 204));
    s.sender.attach(s.channel);
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    s.sender.enqueue('Alerts', 'AlertStopped', event('Alerts', 'AlertStopped'));
    await s.settle();
    expect(s.channel.posted).toEqual(['AlertStarted', 'AlertStopped']);
    expect(s.reports[0]).toMatchObject({ kind: 'refused', status: 400, reason: 'X' });
  });

  it('403: asks for a fresh token and retries once', async () => {
    const tokens = new StaticTokenSource('old');
    const refresh = jest.spyOn(tokens, 'refresh');
    const s = setup((_name, n) => (n === 1 ? 403 : 204), tokens);
    s.sender.attach(s.channel);
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    await s.settle();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(s.channel.posted).toEqual(['AlertStarted', 'AlertStarted']);
    expect(s.outbox.size).toBe(0);
  });

  it('403 twice: holds the event (not lost) and tries it again after a delay on the same connection', async () => {
    const s = setup((_name, n) => (n <= 2 ? 403 : 204));
    s.sender.attach(s.channel);
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    await s.settle();
    expect(s.channel.posted).toEqual(['AlertStarted', 'AlertStarted', 'AlertStarted']);
    expect(s.reports.map((r) => r.kind)).toEqual(['held', 'sent']);
    expect(s.sleeps).toHaveLength(1);
    expect(s.outbox.size).toBe(0);
  });

  it('429 and 503: backs off, longer each time, and the event keeps its place', async () => {
    const s = setup((name, n) => (name === 'AlertStarted' && n <= 3 ? (n === 2 ? 503 : 429) : 204));
    s.sender.attach(s.channel);
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    s.sender.enqueue('Alerts', 'AlertStopped', event('Alerts', 'AlertStopped'));
    await s.settle();
    expect(s.channel.posted).toEqual(['AlertStarted', 'AlertStarted', 'AlertStarted', 'AlertStarted', 'AlertStopped']);
    expect(s.sleeps).toHaveLength(3);
    expect(s.sleeps[0]).toBeLessThan(s.sleeps[1]);
    expect(s.sleeps[1]).toBeLessThan(s.sleeps[2]);
  });

  it('500: retries a bounded number of times, then reports it and goes on', async () => {
    const s = setup((name) => (name === 'AlertStarted' ? 500 : 204));
    s.sender.attach(s.channel);
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    s.sender.enqueue('Alerts', 'AlertStopped', event('Alerts', 'AlertStopped'));
    await s.settle();
    expect(s.channel.posted).toEqual(['AlertStarted', 'AlertStarted', 'AlertStarted', 'AlertStopped']);
    expect(s.reports.find((r) => r.kind === 'refused')).toMatchObject({ status: 500 });
  });

  it('holds the event when the connection breaks mid-send, and sends it first on the next one', async () => {
    const s = setup((name, n) => (name === 'AlertStarted' && n === 1 ? new Error('stream reset') : 204));
    s.sender.attach(s.channel);
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    s.sender.enqueue('SpeechSynthesizer', 'SpeechFinished', event('SpeechSynthesizer', 'SpeechFinished'));
    await s.settle();
    expect(s.outbox.size).toBe(2);
    s.sender.detach(); // the transient SpeechFinished goes with the connection
    expect(s.outbox.size).toBe(1);
    s.channel.isOpen = true;
    s.sender.attach(s.channel);
    await s.settle();
    expect(s.channel.posted).toEqual(['AlertStarted', 'AlertStarted']);
    expect(s.outbox.size).toBe(0);
  });

  it('a newer state report replaces one still waiting, never the one being sent (§10.3, §1.7)', async () => {
    const s = setup(() => 204);
    s.sender.attach(s.channel);
    const volume = (v: number) => ({ event: { header: { namespace: 'Speaker', name: 'VolumeChanged', messageId: `v${v}` }, payload: { volume: v, muted: false } } });
    s.sender.enqueue('Speaker', 'VolumeChanged', volume(10));
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    s.sender.enqueue('Speaker', 'VolumeChanged', volume(20));
    s.sender.enqueue('Speaker', 'VolumeChanged', volume(30));
    await s.settle();
    // v10 was on its way; v20 waited and was replaced by v30, which goes after the alert event.
    expect(s.channel.posted).toEqual(['VolumeChanged', 'AlertStarted', 'VolumeChanged']);
    const ids = s.reports.map((r) => `${r.kind}:${'entry' in r ? (r.entry.message as { event: { header: { messageId: string } } }).event.header.messageId : ''}`);
    expect(ids).toEqual(['superseded:v20', 'sent:v10', 'sent:AlertStarted-id', 'sent:v30']);
  });

  it('a state report goes at most once per interval: one made sooner waits, replaced by any newer one (§10.3)', async () => {
    const s = setup(() => 204, new StaticTokenSource('t'), 30);
    s.sender.attach(s.channel);
    const volume = (v: number) => ({ event: { header: { namespace: 'Speaker', name: 'VolumeChanged', messageId: `v${v}` }, payload: { volume: v, muted: false } } });
    for (const v of [10, 20, 30, 40]) s.sender.enqueue('Speaker', 'VolumeChanged', volume(v));
    s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'));
    await s.settle();
    expect(s.channel.posted).toEqual(['VolumeChanged', 'AlertStarted']);
    await new Promise((r) => setTimeout(r, 80));
    await s.settle();
    // The last volume went once the interval was over; 20 and 30 were replaced while they waited.
    expect(s.channel.posted).toEqual(['VolumeChanged', 'AlertStarted', 'VolumeChanged']);
    const ids = s.reports.map((r) => `${r.kind}:${'entry' in r ? (r.entry.message as { event: { header: { messageId: string } } }).event.header.messageId : ''}`);
    expect(ids.filter((i) => i.startsWith('superseded'))).toEqual(['superseded:v20', 'superseded:v30']);
    expect(ids.filter((i) => i.startsWith('sent'))).toEqual(['sent:v10', 'sent:AlertStarted-id', 'sent:v40']);
  });

  it('reports a full outbox', () => {
    const s = setup(() => 204);
    for (let i = 0; i < 5; i++) expect(s.sender.enqueue('Alerts', 'AlertStarted', event('Alerts', 'AlertStarted'))).toBe(true);
    expect(s.sender.enqueue('Alerts', 'AlertStopped', event('Alerts', 'AlertStopped'))).toBe(false);
    expect(s.reports).toContainEqual({ kind: 'outbox-full', name: 'Alerts.AlertStopped' });
  });
});

describe('EventSender across sessions', () => {
  it('goes on with a new session attached while a send on the old one was still failing', async () => {
    const outbox = new MemoryOutbox();
    let failOld: (e: Error) => void = () => {};
    const old: EventChannel = {
      isOpen: true,
      post: () => new Promise<EventResponse>((_resolve, reject) => (failOld = reject)),
    };
    const posted: string[] = [];
    const fresh: EventChannel = {
      isOpen: true,
      post: async (m) => {
        posted.push((m as { event: { payload: { token: string } } }).event.payload.token);
        return answer(204);
      },
    };
    const sender = new EventSender({ outbox, tokens: new StaticTokenSource('t'), onParts: () => {} });
    sender.attach(old);
    sender.enqueue('Alerts', 'AlertStarted', { event: { header: { namespace: 'Alerts', name: 'AlertStarted' }, payload: { token: 'a' } } });
    // The old connection is gone (its send still pending); a new one is up before the old send fails.
    sender.detach();
    sender.attach(fresh);
    sender.enqueue('Alerts', 'AlertStarted', { event: { header: { namespace: 'Alerts', name: 'AlertStarted' }, payload: { token: 'b' } } });
    failOld(new Error('stream reset'));
    for (let i = 0; i < 50; i++) await Promise.resolve();
    expect(posted).toEqual(['a', 'b']);
    expect(outbox.size).toBe(0);
  });

  it('gives an event that carries context a fresh one each time it is posted (§2.3)', async () => {
    let volume = 10;
    const posted: object[] = [];
    const channel: EventChannel = {
      isOpen: true,
      post: async (metadata) => {
        posted.push(metadata as object);
        return answer(posted.length === 1 ? 500 : 204);
      },
    };
    const sender = new EventSender({
      outbox: new MemoryOutbox(5),
      tokens: new StaticTokenSource('t'),
      onParts: () => {},
      sleep: async () => {
        volume = 20;
      },
      context: () => [{ header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume, muted: false } }],
    });
    const stale = { context: [], event: { header: { namespace: 'System', name: 'ExceptionEncountered', messageId: 'e1' }, payload: {} } };
    sender.attach(channel);
    sender.enqueue('System', 'ExceptionEncountered', stale);
    sender.enqueue('Speaker', 'VolumeChanged', event('Speaker', 'VolumeChanged'));
    for (let i = 0; i < 50; i++) await Promise.resolve();
    const contexts = posted.map((p) => (p as { context?: { payload: { volume: number } }[] }).context?.[0]?.payload.volume);
    expect(contexts).toEqual([10, 20, undefined]);
  });

  it('sendNow goes after the events queued before it: one FIFO (§1.7)', async () => {
    const s = setup(() => 204);
    s.sender.attach(s.channel);
    s.sender.enqueue('SpeechSynthesizer', 'SpeechStarted', event('SpeechSynthesizer', 'SpeechStarted'));
    s.sender.enqueue('SpeechSynthesizer', 'SpeechFinished', event('SpeechSynthesizer', 'SpeechFinished'));
    const recognize = s.sender.sendNow(event('SpeechRecognizer', 'Recognize'));
    await recognize;
    expect(s.channel.posted).toEqual(['SpeechStarted', 'SpeechFinished', 'Recognize']);
  });

  it('an event queued after sendNow goes after it, and a built-late message is built at its turn (§1.7, §2.3)', async () => {
    const s = setup(() => 204);
    s.sender.attach(s.channel);
    let volume = 1;
    s.sender.enqueue('SpeechSynthesizer', 'SpeechFinished', event('SpeechSynthesizer', 'SpeechFinished'));
    const built: number[] = [];
    const recognize = s.sender.sendNow(() => {
      built.push(volume);
      return event('SpeechRecognizer', 'Recognize');
    });
    volume = 2;
    s.sender.enqueue('Speaker', 'VolumeChanged', event('Speaker', 'VolumeChanged'));
    await recognize;
    await s.settle();
    expect(s.channel.posted).toEqual(['SpeechFinished', 'Recognize', 'VolumeChanged']);
    expect(built).toEqual([2]);
  });

  it('a sendNow aborted while it waits its turn is never posted', async () => {
    const s = setup(() => 204);
    s.sender.attach(s.channel);
    s.sender.enqueue('SpeechSynthesizer', 'SpeechFinished', event('SpeechSynthesizer', 'SpeechFinished'));
    const abort = new AbortController();
    const recognize = s.sender.sendNow(event('SpeechRecognizer', 'Recognize'), undefined, undefined, abort.signal);
    abort.abort();
    await expect(recognize).rejects.toThrow(/cancelled/);
    await s.settle();
    expect(s.channel.posted).toEqual(['SpeechFinished']);
  });
});
