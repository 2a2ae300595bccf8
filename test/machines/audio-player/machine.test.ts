// PROTOCOL.md §8: the AudioPlayer machine with a fake stream actor and the real focus machine.
import { createActor, fromCallback, setup, type ActorRefFrom } from 'xstate';
import { focusMachine } from '../../../machines/focus/machine';
import {
  audioPlayerContext,
  audioPlayerMachine,
  type AudioPlayerInput,
  type PlayStreamInput,
  type StreamCommand,
  type StreamFeedback,
} from '../../../machines/audio-player/machine';
import type { PlayBehavior } from '../../../machines/audio-player/messages';

interface Run {
  item: PlayStreamInput['item'];
  send: (e: StreamFeedback) => void;
  commands: string[];
  stopped: boolean;
}

function player(input: AudioPlayerInput = {}) {
  const runs: Run[] = [];
  const machine = audioPlayerMachine.provide({
    actors: {
      playStream: fromCallback<StreamCommand, PlayStreamInput>(({ input, sendBack, receive }) => {
        const run: Run = { item: input.item, send: sendBack, commands: [], stopped: false };
        runs.push(run);
        receive((c) => run.commands.push(c.type));
        return () => {
          run.stopped = true;
        };
      }),
    },
  });
  const root = setup({ actors: { focus: focusMachine, subject: machine } }).createMachine({
    invoke: [
      { id: 'focus', systemId: 'focus', src: 'focus' },
      { id: 'audioPlayer', systemId: 'audioPlayer', src: 'subject', input: () => input },
    ],
  });
  const actor = createActor(root).start();
  const subject = actor.getSnapshot().children.audioPlayer as ActorRefFrom<typeof machine>;
  const focus = actor.getSnapshot().children.focus as ActorRefFrom<typeof focusMachine>;
  const emitted: { name: string; payload: Record<string, unknown> }[] = [];
  subject.on('*', (e) => {
    if (e.type === 'AVS.EVENT') emitted.push({ name: e.name, payload: e.payload as Record<string, unknown> });
  });
  let n = 0;
  const play = (token: string, behavior: PlayBehavior = 'REPLACE_ALL', more: { offset?: number; expectedPreviousToken?: string; delay?: number; interval?: number } = {}) =>
    subject.send({
      type: 'DIRECTIVE.Play',
      messageId: `p${++n}`,
      receivedAt: 0,
      payload: {
        playBehavior: behavior,
        audioItem: {
          audioItemId: token,
          stream: {
            url: `https://media.example/${token}.mp3`,
            offsetInMilliseconds: more.offset ?? 0,
            token,
            ...(more.expectedPreviousToken ? { expectedPreviousToken: more.expectedPreviousToken } : {}),
            ...(more.delay !== undefined || more.interval !== undefined
              ? { progressReport: { ...(more.delay !== undefined ? { progressReportDelayInMilliseconds: more.delay } : {}), ...(more.interval !== undefined ? { progressReportIntervalInMilliseconds: more.interval } : {}) } }
              : {}),
          },
        },
      },
    });
  const names = () => emitted.splice(0).map((e) => e.name);
  const state = () => audioPlayerContext(subject.getSnapshot()).payload;
  const last = () => runs[runs.length - 1];
  return { subject, focus, runs, emitted, play, names, state, last };
}

const stop = { type: 'DIRECTIVE.Stop' as const, payload: {}, messageId: 'stop', receivedAt: 0 };
const clear = (clearBehavior: 'CLEAR_ALL' | 'CLEAR_ENQUEUED') => ({ type: 'DIRECTIVE.ClearQueue' as const, payload: { clearBehavior }, messageId: 'clear', receivedAt: 0 });

describe('audio player machine', () => {
  it('starts IDLE with an empty PlaybackState (§8.2)', () => {
    expect(player().state()).toEqual({ token: '', offsetInMilliseconds: 0, playerActivity: 'IDLE' });
  });

  it('Play takes the Content channel, streams, and reports PlaybackStarted at the start offset once (§8.3, §8.6)', () => {
    const p = player();
    p.play('t1', 'REPLACE_ALL', { offset: 5000 });
    expect(p.focus.getSnapshot().context.owners.Content).toBe('audioPlayer');
    expect(p.runs).toHaveLength(1);
    expect(p.runs[0].item).toMatchObject({ token: 't1', offsetMs: 5000 });
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.runs[0].send({ type: 'PLAYBACK.PROGRESS', offsetMs: 5400 });
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    expect(p.emitted).toEqual([{ name: 'PlaybackStarted', payload: { token: 't1', offsetInMilliseconds: 5000 } }]);
    expect(p.state()).toEqual({ token: 't1', offsetInMilliseconds: 5400, playerActivity: 'PLAYING' });
  });

  it('waits for the foreground: music queued behind speech starts when Dialog is released (§8.3, §4.4)', () => {
    const p = player();
    p.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechSynthesizer' });
    p.play('t1');
    expect(p.runs).toHaveLength(0);
    p.focus.send({ type: 'FOCUS.RELEASE', channel: 'Dialog', owner: 'speechSynthesizer' });
    expect(p.runs).toHaveLength(1);
  });

  it('reports the progress delay once and every interval, at the positions they name (§8.6)', () => {
    const p = player();
    p.play('t1', 'REPLACE_ALL', { delay: 2000, interval: 3000 });
    const run = p.runs[0];
    run.send({ type: 'PLAYBACK.STARTED' });
    for (let at = 100; at <= 9500; at += 100) run.send({ type: 'PLAYBACK.PROGRESS', offsetMs: at + 7 });
    const reports = p.emitted.filter((e) => e.name.startsWith('ProgressReport')).map((e) => `${e.name}@${e.payload.offsetInMilliseconds}`);
    expect(reports).toEqual(['ProgressReportDelayElapsed@2000', 'ProgressReportIntervalElapsed@3000', 'ProgressReportIntervalElapsed@6000', 'ProgressReportIntervalElapsed@9000']);
  });

  it('measures progress from the start of the stream: no delay report when it started past it; intervals after the start only (§8.6)', () => {
    const p = player();
    p.play('t1', 'REPLACE_ALL', { offset: 4000, delay: 2000, interval: 3000 });
    const run = p.runs[0];
    run.send({ type: 'PLAYBACK.STARTED' });
    run.send({ type: 'PLAYBACK.PROGRESS', offsetMs: 4500 });
    run.send({ type: 'PLAYBACK.PROGRESS', offsetMs: 6100 });
    expect(p.emitted.filter((e) => e.name.startsWith('ProgressReport')).map((e) => `${e.name}@${e.payload.offsetInMilliseconds}`)).toEqual(['ProgressReportIntervalElapsed@6000']);
  });

  it('PlaybackNearlyFinished once, after PlaybackStarted, when the stream is downloaded (§8.6, §16 #2)', () => {
    const p = player();
    p.play('t1');
    p.runs[0].send({ type: 'PLAYBACK.BUFFERED' });
    expect(p.names()).toEqual([]);
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.runs[0].send({ type: 'PLAYBACK.BUFFERED' });
    expect(p.names()).toEqual(['PlaybackStarted', 'PlaybackNearlyFinished']);
  });

  it('plays the queue: PlaybackFinished, then the next item starts; FINISHED with an empty queue frees the channel (§8.1, §8.7)', () => {
    const p = player();
    p.play('t1');
    p.play('t2', 'ENQUEUE', { expectedPreviousToken: 't1' });
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.runs[0].send({ type: 'PLAYBACK.FINISHED', offsetMs: 3000 });
    expect(p.runs).toHaveLength(2);
    expect(p.runs[0].stopped).toBe(true);
    p.runs[1].send({ type: 'PLAYBACK.STARTED' });
    p.runs[1].send({ type: 'PLAYBACK.FINISHED', offsetMs: 2000 });
    expect(p.names()).toEqual(['PlaybackStarted', 'PlaybackFinished', 'PlaybackStarted', 'PlaybackFinished']);
    expect(p.state()).toEqual({ token: 't2', offsetInMilliseconds: 2000, playerActivity: 'FINISHED' });
    expect(p.focus.getSnapshot().context.owners.Content).toBeUndefined();
  });

  it('ignores an ENQUEUE whose expectedPreviousToken is not the one it would follow (§8.3)', () => {
    const p = player();
    p.play('t1');
    p.play('t2', 'ENQUEUE', { expectedPreviousToken: 'other' });
    p.runs[0].send({ type: 'PLAYBACK.FINISHED', offsetMs: 1 });
    expect(p.runs).toHaveLength(1);
    expect(p.state().playerActivity).toBe('FINISHED');
  });

  it('REPLACE_ALL stops the current stream with PlaybackStopped and plays the new one now (§8.3)', () => {
    const p = player();
    p.play('t1');
    p.play('t2', 'ENQUEUE');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.runs[0].send({ type: 'PLAYBACK.PROGRESS', offsetMs: 1500 });
    p.names();
    p.play('t3', 'REPLACE_ALL');
    expect(p.emitted).toEqual([{ name: 'PlaybackStopped', payload: { token: 't1', offsetInMilliseconds: 1500 } }]);
    expect(p.runs[0].stopped).toBe(true);
    expect(p.last().item.token).toBe('t3');
    p.last().send({ type: 'PLAYBACK.FINISHED', offsetMs: 10 });
    expect(p.runs).toHaveLength(2); // t2 was cleared
  });

  it('REPLACE_ENQUEUED replaces the queue and leaves the current stream playing (§8.3)', () => {
    const p = player();
    p.play('t1');
    p.play('t2', 'ENQUEUE');
    p.play('t3', 'REPLACE_ENQUEUED');
    expect(p.runs[0].stopped).toBe(false);
    p.runs[0].send({ type: 'PLAYBACK.FINISHED', offsetMs: 10 });
    expect(p.last().item.token).toBe('t3');
  });

  it('Stop: PlaybackStopped, STOPPED, the queue kept and not advanced; a Stop with nothing playing is ignored (§8.4)', () => {
    const p = player();
    p.subject.send(stop);
    expect(p.names()).toEqual([]);
    p.play('t1');
    p.play('t2', 'ENQUEUE');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.names();
    p.subject.send(stop);
    expect(p.names()).toEqual(['PlaybackStopped']);
    expect(p.state().playerActivity).toBe('STOPPED');
    expect(p.runs).toHaveLength(1);
    expect(p.subject.getSnapshot().context.queue.map((i) => i.token)).toEqual(['t2']);
    p.subject.send(stop);
    expect(p.names()).toEqual([]);
  });

  it('ClearQueue: CLEAR_ENQUEUED keeps the current stream, CLEAR_ALL stops it; PlaybackQueueCleared either way (§8.5)', () => {
    const p = player();
    p.play('t1');
    p.play('t2', 'ENQUEUE');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.names();
    p.subject.send(clear('CLEAR_ENQUEUED'));
    expect(p.names()).toEqual(['PlaybackQueueCleared']);
    expect(p.state().playerActivity).toBe('PLAYING');
    p.subject.send(clear('CLEAR_ALL'));
    expect(p.names()).toEqual(['PlaybackStopped', 'PlaybackQueueCleared']);
    expect(p.state().playerActivity).toBe('STOPPED');
    p.subject.send(clear('CLEAR_ALL'));
    expect(p.names()).toEqual(['PlaybackQueueCleared']);
  });

  it('in the background it pauses (PlaybackPaused) and resumes at the same offset (PlaybackResumed) (§4.2)', () => {
    const p = player();
    p.play('t1');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.runs[0].send({ type: 'PLAYBACK.PROGRESS', offsetMs: 4200 });
    p.names();
    p.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: 'speechRecognizer' });
    expect(p.state()).toEqual({ token: 't1', offsetInMilliseconds: 4200, playerActivity: 'PAUSED' });
    expect(p.runs[0].commands).toEqual(['PAUSE']);
    p.focus.send({ type: 'FOCUS.RELEASE', channel: 'Dialog', owner: 'speechRecognizer' });
    expect(p.runs[0].commands).toEqual(['PAUSE', 'RESUME']);
    expect(p.emitted).toEqual([
      { name: 'PlaybackPaused', payload: { token: 't1', offsetInMilliseconds: 4200 } },
      { name: 'PlaybackResumed', payload: { token: 't1', offsetInMilliseconds: 4200 } },
    ]);
    expect(p.state().playerActivity).toBe('PLAYING');
  });

  it('a ducking product attenuates instead, with no pause events (§4.2, AudioPlayer 1.3 ATTENUATE)', () => {
    const p = player({ interruptedBehavior: 'ATTENUATE' });
    p.play('t1');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.names();
    p.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Alerts', owner: 'alerts' });
    expect(p.state().playerActivity).toBe('PLAYING');
    p.focus.send({ type: 'FOCUS.RELEASE', channel: 'Alerts', owner: 'alerts' });
    expect(p.runs[0].commands).toEqual(['ATTENUATE', 'UNATTENUATE']);
    expect(p.names()).toEqual([]);
  });

  it('losing Content stops and clears the queue (§8.7)', () => {
    const p = player();
    p.play('t1');
    p.play('t2', 'ENQUEUE');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.names();
    p.focus.send({ type: 'FOCUS.ACQUIRE', channel: 'Content', owner: 'somebodyElse' });
    expect(p.names()).toEqual(['PlaybackStopped']);
    expect(p.state().playerActivity).toBe('STOPPED');
    expect(p.subject.getSnapshot().context.queue).toEqual([]);
  });

  it('a stutter: BUFFER_UNDERRUN with PlaybackStutterStarted, then PlaybackStutterFinished with its duration (§8.6)', () => {
    const p = player();
    p.play('t1');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.runs[0].send({ type: 'PLAYBACK.PROGRESS', offsetMs: 1000 });
    p.names();
    p.runs[0].send({ type: 'PLAYBACK.UNDERRUN' });
    expect(p.state().playerActivity).toBe('BUFFER_UNDERRUN');
    p.runs[0].send({ type: 'PLAYBACK.RECOVERED', durationMs: 1234.4 });
    expect(p.emitted).toEqual([
      { name: 'PlaybackStutterStarted', payload: { token: 't1', offsetInMilliseconds: 1000 } },
      { name: 'PlaybackStutterFinished', payload: { token: 't1', offsetInMilliseconds: 1000, stutterDurationInMilliseconds: 1234 } },
    ]);
    expect(p.state().playerActivity).toBe('PLAYING');
  });

  it('a failed stream: PlaybackFailed with the state it failed in, then the next item plays (§8.6)', () => {
    const p = player();
    p.play('t1');
    p.play('t2', 'ENQUEUE');
    p.runs[0].send({ type: 'PLAYBACK.FAILED', errorType: 'MEDIA_ERROR_INVALID_REQUEST', message: 'GET https://media.example/t1.mp3: HTTP 404' });
    expect(p.emitted).toEqual([
      {
        name: 'PlaybackFailed',
        payload: {
          token: 't1',
          currentPlaybackState: { token: 't1', offsetInMilliseconds: 0, playerActivity: 'PLAYING' },
          error: { type: 'MEDIA_ERROR_INVALID_REQUEST', message: 'GET https://media.example/t1.mp3: HTTP 404' },
        },
      },
    ]);
    expect(p.last().item.token).toBe('t2');
    p.last().send({ type: 'PLAYBACK.FAILED', errorType: 'MEDIA_ERROR_SERVICE_UNAVAILABLE', message: 'ECONNREFUSED' });
    expect(p.state().playerActivity).toBe('STOPPED');
  });

  it('reports the metadata a stream carries (§8.6 StreamMetadataExtracted)', () => {
    const p = player();
    p.play('t1');
    p.runs[0].send({ type: 'PLAYBACK.METADATA', metadata: { title: 'Song', isLive: false } });
    expect(p.emitted).toEqual([{ name: 'StreamMetadataExtracted', payload: { token: 't1', metadata: { title: 'Song', isLive: false } } }]);
  });

  it('ENQUEUE with nothing playing plays it; after a Stop it joins the kept queue (§8.3, §8.4)', () => {
    const p = player();
    p.play('t1', 'ENQUEUE');
    expect(p.runs).toHaveLength(1);
    p.play('t2', 'ENQUEUE');
    p.runs[0].send({ type: 'PLAYBACK.STARTED' });
    p.subject.send(stop);
    p.play('t3', 'ENQUEUE', { expectedPreviousToken: 't2' });
    expect(p.runs).toHaveLength(1);
    expect(p.subject.getSnapshot().context.queue.map((i) => i.token)).toEqual(['t2', 't3']);
  });
});
