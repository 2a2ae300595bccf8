// End to end, music (PROTOCOL.md §8, §9, §4.2): createDevice with a paced recording output
// against the simulator, which serves the streams over HTTPS from 127.0.0.1 and by attachment.
import { waitFor } from 'xstate';
import { RecordingOutput } from '../../../drivers/audio-output/recording-output';
import { createLogger, silentLogger } from '../../../services/log/logger';
import { StaticTokenSource } from '../../../services/transport';
import { createDevice, type Device, type DeviceConfig } from '../../../runtime/device/device';
import { parseScenario, startSimulator, type Simulator } from '../../avs-cloud';
import type { ReceivedEvent } from '../../avs-cloud/recorder';
import { silentMp3 } from '../../avs-cloud/mp3';

const play = (token: string, playBehavior: string, more: Record<string, unknown> = {}) => ({
  directive: {
    header: { namespace: 'AudioPlayer', name: 'Play' },
    payload: { playBehavior, audioItem: { audioItemId: token, stream: { url: `$url/media/${token}.mp3`, offsetInMilliseconds: 0, token, ...more } } },
  },
});

const SCENARIO = parseScenario({
  answers: {
    // PlaybackNearlyFinished of "first" → AVS enqueues "second" (§8.6).
    next: { directives: [play('second', 'ENQUEUE', { expectedPreviousToken: 'first' })] },
  },
  rules: [{ on: 'AudioPlayer.PlaybackNearlyFinished', nth: 1, answer: 'next' }],
  media: {
    one: { durationMs: 1500, tags: { title: 'One', artist: 'The Simulators' } },
    two: { durationMs: 900 },
    three: { durationMs: 900 },
    long: { durationMs: 2600 },
    first: { durationMs: 1200 },
    second: { durationMs: 900 },
    stall: { durationMs: 1500, stallAtMs: 500, stallForMs: 1200 },
    gone: { status: 404 },
  },
});

let sim: Simulator;
const devices: Device[] = [];
beforeEach(async () => {
  sim = await startSimulator({ scenario: SCENARIO });
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.stop();
  await sim.stop();
});

function device(extra: Partial<DeviceConfig> = {}): { device: Device; output: RecordingOutput } {
  const output = new RecordingOutput({ paced: true });
  const d = createDevice({
    endpoint: sim.url,
    ca: sim.ca,
    tokens: new StaticTokenSource(sim.defaultToken),
    logger: process.env.AVS_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
    seed: 5,
    ...extra,
    drivers: { output, ...extra.drivers },
  });
  devices.push(d);
  return { device: d, output };
}

let n = 0;
/** Pushes a Play on the downchannel (as AVS does for app-initiated music), $url filled in. */
const push = (doc: ReturnType<typeof play>) => {
  const text = JSON.stringify(doc).replaceAll('$url', sim.url);
  const parsed = JSON.parse(text) as { directive: { header: Record<string, string> } };
  parsed.directive.header.messageId = `music-${++n}`;
  sim.pushDirective(parsed);
};
const audioEvents = (from = 0): string[] =>
  sim
    .receivedEvents()
    .slice(from)
    .filter((e) => e.name.startsWith('AudioPlayer.'))
    .map((e) => `${e.name.slice('AudioPlayer.'.length)}:${String(e.document.event.payload.token ?? '')}`);
const waitEvent = (name: string, token: string, timeout = 15_000): Promise<ReceivedEvent> =>
  sim.waitForEvent((e) => e.name === `AudioPlayer.${name}` && e.document.event.payload.token === token, timeout);
const payloadOf = (e: ReceivedEvent) => e.document.event.payload;

describe('music against the simulator', () => {
  it('plays a queue built with each playBehavior, with every event in order (§8.3, §8.6, §8.7)', async () => {
    const { device: d, output } = device();
    await d.whenConnected();
    push(play('one', 'REPLACE_ALL'));
    push(play('two', 'ENQUEUE', { expectedPreviousToken: 'one' }));
    // Replaces "two" in the queue; "one" keeps playing.
    push(play('three', 'REPLACE_ENQUEUED'));
    // Ignored: it does not follow "three".
    push(play('two', 'ENQUEUE', { expectedPreviousToken: 'nope' }));
    await waitEvent('PlaybackFinished', 'three');
    // The tags are read with the first bytes, at about the time sound starts: either may come first.
    expect(audioEvents().filter((e) => !e.startsWith('StreamMetadataExtracted'))).toEqual([
      'PlaybackStarted:one',
      'PlaybackNearlyFinished:one',
      'PlaybackFinished:one',
      'PlaybackStarted:three',
      'PlaybackNearlyFinished:three',
      'PlaybackFinished:three',
    ]);
    const metadata = sim.receivedEvents().find((e) => e.name === 'AudioPlayer.StreamMetadataExtracted');
    expect(metadata && payloadOf(metadata)).toEqual({ token: 'one', metadata: expect.objectContaining({ title: 'One', artist: 'The Simulators' }) });
    expect(output.recordings.map((r) => r.outcome)).toEqual(['finished', 'finished']);
    expect(d.context()).toContainEqual({ header: { namespace: 'AudioPlayer', name: 'PlaybackState' }, payload: { token: 'three', offsetInMilliseconds: expect.any(Number), playerActivity: 'FINISHED' } });
    // A REPLACE_ALL while playing: PlaybackStopped for the one it replaces.
    push(play('long', 'REPLACE_ALL'));
    await waitEvent('PlaybackStarted', 'long');
    push(play('two', 'REPLACE_ALL'));
    const stopped = await waitEvent('PlaybackStopped', 'long');
    expect(Number(payloadOf(stopped).offsetInMilliseconds)).toBeGreaterThanOrEqual(0);
    await waitEvent('PlaybackFinished', 'two');
  });

  it('reports progress at the positions the Play asked for (§8.6)', async () => {
    const { device: d } = device();
    await d.whenConnected();
    push(play('long', 'REPLACE_ALL', { progressReport: { progressReportDelayInMilliseconds: 500, progressReportIntervalInMilliseconds: 1000 } }));
    await waitEvent('PlaybackFinished', 'long');
    const reports = sim
      .receivedEvents()
      .filter((e) => e.name.startsWith('AudioPlayer.ProgressReport'))
      .map((e) => `${e.name.slice('AudioPlayer.'.length)}@${String(payloadOf(e).offsetInMilliseconds)}`);
    expect(reports).toEqual(['ProgressReportDelayElapsed@500', 'ProgressReportIntervalElapsed@1000', 'ProgressReportIntervalElapsed@2000']);
  });

  it('speech in the middle pauses the music, which resumes at the same offset (§4.2)', async () => {
    const { device: d, output } = device();
    await d.whenConnected();
    push(play('long', 'REPLACE_ALL'));
    await waitEvent('PlaybackStarted', 'long');
    await waitFor(d.actors.audioPlayer, (s) => s.context.offsetMs >= 300, { timeout: 10_000 });
    sim.pushDirective(
      { directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak', messageId: 'announce' }, payload: { url: 'cid:note', format: 'AUDIO_MPEG', token: 'note' } } },
      { note: silentMp3(300) },
    );
    const paused = await waitEvent('PlaybackPaused', 'long');
    const resumed = await waitEvent('PlaybackResumed', 'long');
    expect(payloadOf(resumed).offsetInMilliseconds).toBe(payloadOf(paused).offsetInMilliseconds);
    const order = sim.receivedEvents().map((e) => e.name);
    expect(order.indexOf('AudioPlayer.PlaybackPaused')).toBeLessThan(order.indexOf('SpeechSynthesizer.SpeechStarted'));
    expect(order.indexOf('SpeechSynthesizer.SpeechFinished')).toBeLessThan(order.indexOf('AudioPlayer.PlaybackResumed'));
    await waitEvent('PlaybackFinished', 'long');
    expect(output.recordings[0].outcome).toBe('finished');
  });

  it('a ducking device attenuates the music under speech instead of pausing it (interruptedBehavior ATTENUATE)', async () => {
    const { device: d, output } = device({ interruptedBehavior: 'ATTENUATE' });
    await d.whenConnected();
    push(play('long', 'REPLACE_ALL'));
    await waitEvent('PlaybackStarted', 'long');
    sim.pushDirective({ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak', messageId: 'duck' }, payload: { url: 'cid:note', format: 'AUDIO_MPEG', token: 'note' } } }, { note: silentMp3(300) });
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished');
    await waitEvent('PlaybackFinished', 'long');
    expect(audioEvents().filter((e) => e.startsWith('PlaybackPaused') || e.startsWith('PlaybackResumed'))).toEqual([]);
    const attenuations = output.recordings[0].events.filter((e) => e.event === 'attenuation');
    expect(attenuations.length).toBeGreaterThanOrEqual(2);
  });

  it('a stream that stalls yields PlaybackStutterStarted and PlaybackStutterFinished (§8.6)', async () => {
    const { device: d } = device();
    await d.whenConnected();
    push(play('stall', 'REPLACE_ALL'));
    const started = await waitEvent('PlaybackStutterStarted', 'stall');
    const finished = await waitEvent('PlaybackStutterFinished', 'stall');
    expect(Number(payloadOf(finished).stutterDurationInMilliseconds)).toBeGreaterThan(0);
    expect(payloadOf(finished).offsetInMilliseconds).toBe(payloadOf(started).offsetInMilliseconds);
    await waitEvent('PlaybackFinished', 'stall');
  });

  it('a 404 stream yields PlaybackFailed and the next item plays (§8.6)', async () => {
    const { device: d } = device();
    await d.whenConnected();
    push(play('gone', 'REPLACE_ALL'));
    push(play('two', 'ENQUEUE', { expectedPreviousToken: 'gone' }));
    const failed = await waitEvent('PlaybackFailed', 'gone');
    expect(payloadOf(failed)).toMatchObject({ token: 'gone', error: { type: 'MEDIA_ERROR_INVALID_REQUEST' }, currentPlaybackState: { token: 'gone' } });
    await waitEvent('PlaybackFinished', 'two');
  });

  it('an item whose URL expired before it could start is not played: PlaybackFailed, then the next (§8.3 expiryTime)', async () => {
    const { device: d, output } = device();
    await d.whenConnected();
    push(play('one', 'REPLACE_ALL', { expiryTime: '2018-12-31T17:20:14+0000' }));
    push(play('two', 'ENQUEUE', { expectedPreviousToken: 'one' }));
    const failed = await waitEvent('PlaybackFailed', 'one');
    expect(payloadOf(failed)).toMatchObject({ error: { type: 'MEDIA_ERROR_INVALID_REQUEST', message: expect.stringContaining('expired') } });
    await waitEvent('PlaybackFinished', 'two');
    expect(output.recordings).toHaveLength(1);
    expect(sim.records.filter((r) => r.kind === 'media' && r.path === '/media/one.mp3')).toEqual([]);
  });

  it('plays a stream sent as an attachment (§8.3 cid:)', async () => {
    const { device: d, output } = device();
    await d.whenConnected();
    sim.pushDirective(
      {
        directive: {
          header: { namespace: 'AudioPlayer', name: 'Play', messageId: 'cid-play' },
          payload: { playBehavior: 'REPLACE_ALL', audioItem: { audioItemId: 'brief', stream: { url: 'cid:brief', streamFormat: 'AUDIO_MPEG', offsetInMilliseconds: 0, token: 'brief' } } },
        },
      },
      { brief: silentMp3(700) },
    );
    await waitEvent('PlaybackFinished', 'brief');
    expect(output.recordings[0].durationMs).toBeGreaterThanOrEqual(700);
  });

  it('PlaybackNearlyFinished makes the simulator enqueue the next item, which was downloaded ahead and follows without a gap (§8.6)', async () => {
    const { device: d, output } = device();
    await d.whenConnected();
    push(play('first', 'REPLACE_ALL'));
    await waitEvent('PlaybackFinished', 'second');
    expect(audioEvents()).toEqual([
      'PlaybackStarted:first',
      'PlaybackNearlyFinished:first',
      'PlaybackFinished:first',
      'PlaybackStarted:second',
      'PlaybackNearlyFinished:second',
      'PlaybackFinished:second',
    ]);
    const [first, second] = output.recordings;
    // The second stream was fetched while the first still played: its bytes were there when the first ended.
    const fetched = sim.records.find((r) => r.kind === 'media' && r.path === '/media/second.mp3');
    expect(fetched).toBeDefined();
    expect(first.endedAt).toBeDefined();
    expect((fetched?.at ?? Infinity) < (first.endedAt ?? 0)).toBe(true);
    expect(second.chunks[0].at).toBeLessThanOrEqual(second.startedAt ?? 0);
  });

  it('the transport buttons send PlaybackController events with the full context (§9.1)', async () => {
    const { device: d } = device();
    await d.whenConnected();
    d.play();
    d.pause();
    d.next();
    d.previous();
    d.button('SKIPFORWARD');
    d.toggle('SHUFFLE', true);
    const last = await sim.waitForEvent('PlaybackController.ToggleCommandIssued');
    const names = sim.receivedEvents().filter((e) => e.name.startsWith('PlaybackController.')).map((e) => e.name.slice('PlaybackController.'.length));
    expect(names).toEqual(['PlayCommandIssued', 'PauseCommandIssued', 'NextCommandIssued', 'PreviousCommandIssued', 'ButtonCommandIssued', 'ToggleCommandIssued']);
    expect(payloadOf(last)).toEqual({ name: 'SHUFFLE', action: 'SELECT' });
    expect(last.document.context).toContainEqual({ header: { namespace: 'AudioPlayer', name: 'PlaybackState' }, payload: { token: '', offsetInMilliseconds: 0, playerActivity: 'IDLE' } });
    expect(last.decode).toBe('ok');
  });
});
