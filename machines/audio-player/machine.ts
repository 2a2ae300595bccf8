// PROTOCOL.md §8: AudioPlayer 1.0 — music, podcasts, briefings on the Content channel. The top
// states are §8.1's playerActivity: IDLE, PLAYING, PAUSED, BUFFER_UNDERRUN, FINISHED, STOPPED.
// PLAYING first waits for the Content channel's foreground, then streams (the `playStream` actor
// the runtime provides: URL or attachment → output). The actor lives from the start of an item to
// its end, through PAUSED and BUFFER_UNDERRUN. Every §8.6 event is emitted at the moment §8.6
// gives; the queue follows §8.3–§8.5 and §8.7.
import { assign, emit, enqueueActions, fromCallback, setup, type AnyActorRef } from 'xstate';
import { outbound, type ContextMap, type DirectiveEventOf, type OutboundEventOf } from '../catalog';
import type { FocusChangedEvent, FocusEvent } from '../focus/machine';
import type { MediaErrorType, PlayBehavior, PlayerActivity } from './messages';

export const AUDIO_PLAYER_ID = 'audioPlayer';

/** One item of the queue: what §8.3's `audioItem.stream` says about it. */
export interface QueuedItem {
  readonly token: string;
  readonly url: string;
  readonly offsetMs: number;
  readonly streamFormat?: string;
  readonly expiryTime?: string;
  readonly delayMs?: number;
  readonly intervalMs?: number;
}

/** What Content does in the background (§4.2): 1.0 pauses; ducking (1.3 ATTENUATE) is a product's choice. */
export type InterruptedBehavior = 'PAUSE' | 'ATTENUATE';

export interface AudioPlayerInput {
  readonly interruptedBehavior?: InterruptedBehavior;
}

export interface AudioPlayerContext {
  readonly interruptedBehavior: InterruptedBehavior;
  queue: QueuedItem[];
  current: QueuedItem | undefined;
  /** §8.2: the token of the item playing, or of the last one played or tried ('' before the first). */
  token: string;
  /** §8.2: position in that stream, from its start. */
  offsetMs: number;
  startedReported: boolean;
  /** The whole stream has been downloaded (§8.6 PlaybackNearlyFinished, §16 #2). */
  buffered: boolean;
  nearlyFinishedReported: boolean;
  delayReported: boolean;
  attenuated: boolean;
}

/** What the playStream actor reports. */
export type StreamFeedback =
  | { type: 'PLAYBACK.STARTED' }
  | { type: 'PLAYBACK.PROGRESS'; offsetMs: number }
  | { type: 'PLAYBACK.BUFFERED' }
  | { type: 'PLAYBACK.UNDERRUN' }
  | { type: 'PLAYBACK.RECOVERED'; durationMs: number }
  | { type: 'PLAYBACK.METADATA'; metadata: Record<string, string | boolean> }
  | { type: 'PLAYBACK.FINISHED'; offsetMs: number }
  | { type: 'PLAYBACK.FAILED'; errorType: MediaErrorType; message: string };

export type StreamCommand = { type: 'PAUSE' } | { type: 'RESUME' } | { type: 'ATTENUATE' } | { type: 'UNATTENUATE' };

export type AudioPlayerEvent =
  | DirectiveEventOf<'AudioPlayer', 'Play'>
  | DirectiveEventOf<'AudioPlayer', 'Stop'>
  | DirectiveEventOf<'AudioPlayer', 'ClearQueue'>
  | FocusChangedEvent
  | StreamFeedback;

type PlaybackEventName =
  | 'PlaybackStarted'
  | 'PlaybackNearlyFinished'
  | 'ProgressReportDelayElapsed'
  | 'ProgressReportIntervalElapsed'
  | 'PlaybackStutterStarted'
  | 'PlaybackFinished'
  | 'PlaybackStopped'
  | 'PlaybackPaused'
  | 'PlaybackResumed';

export type AudioPlayerEmitted =
  | { [N in PlaybackEventName]: OutboundEventOf<'AudioPlayer', N> }[PlaybackEventName]
  | OutboundEventOf<'AudioPlayer', 'PlaybackStutterFinished'>
  | OutboundEventOf<'AudioPlayer', 'PlaybackFailed'>
  | OutboundEventOf<'AudioPlayer', 'PlaybackQueueCleared'>
  | OutboundEventOf<'AudioPlayer', 'StreamMetadataExtracted'>
  /** Start downloading the next item now (the current one is all downloaded): it then starts without a gap. */
  | { type: 'STREAM.PREFETCH'; item: QueuedItem };

export interface PlayStreamInput {
  readonly item: QueuedItem;
}

/** Replaced by the runtime; alone, the machine has nothing to play on. */
const playStream = fromCallback<StreamCommand, PlayStreamInput>(({ sendBack }) => {
  sendBack({ type: 'PLAYBACK.FAILED', errorType: 'MEDIA_ERROR_INTERNAL_DEVICE_ERROR', message: 'no audio output' });
});

const itemOf = (event: DirectiveEventOf<'AudioPlayer', 'Play'>): QueuedItem => {
  const s = event.payload.audioItem.stream;
  return {
    token: s.token,
    url: s.url,
    offsetMs: s.offsetInMilliseconds,
    ...(s.streamFormat !== undefined ? { streamFormat: s.streamFormat } : {}),
    ...(s.expiryTime !== undefined ? { expiryTime: s.expiryTime } : {}),
    ...(s.progressReport?.progressReportDelayInMilliseconds ? { delayMs: s.progressReport.progressReportDelayInMilliseconds } : {}),
    ...(s.progressReport?.progressReportIntervalInMilliseconds ? { intervalMs: s.progressReport.progressReportIntervalInMilliseconds } : {}),
  };
};

const behaviorIs = (event: AudioPlayerEvent, behavior: PlayBehavior): boolean => event.type === 'DIRECTIVE.Play' && event.payload.playBehavior === behavior;

const payload = (context: AudioPlayerContext, offsetMs = context.offsetMs) => ({ token: context.current?.token ?? context.token, offsetInMilliseconds: Math.max(0, Math.round(offsetMs)) });

export const audioPlayerMachine = setup({
  types: {
    context: {} as AudioPlayerContext,
    events: {} as AudioPlayerEvent,
    input: {} as AudioPlayerInput,
    emitted: {} as AudioPlayerEmitted,
  },
  actors: { playStream },
  guards: {
    /** §8.3: ENQUEUE with an expectedPreviousToken that is not the token it would follow: ignored silently. */
    previousTokenMismatch: ({ context, event }) => {
      if (event.type !== 'DIRECTIVE.Play' || event.payload.playBehavior !== 'ENQUEUE') return false;
      const expected = event.payload.audioItem.stream.expectedPreviousToken;
      if (expected === undefined) return false;
      const follows = context.queue.at(-1)?.token ?? context.current?.token ?? context.token;
      return expected !== follows;
    },
    replaceAll: ({ event }) => behaviorIs(event, 'REPLACE_ALL'),
    enqueue: ({ event }) => behaviorIs(event, 'ENQUEUE'),
    replaceEnqueued: ({ event }) => behaviorIs(event, 'REPLACE_ENQUEUED'),
    clearAll: ({ event }) => event.type === 'DIRECTIVE.ClearQueue' && event.payload.clearBehavior === 'CLEAR_ALL',
    queueEmpty: ({ context }) => context.queue.length === 0,
    hasQueued: ({ context }) => context.queue.length > 0,
    focusIs: ({ event }, params: { focus: FocusChangedEvent['focus'] }) => event.type === 'FOCUS.CHANGED' && event.channel === 'Content' && event.focus === params.focus,
    /** §4.2 with ducking chosen: the background plays on, attenuated. */
    ducksInBackground: ({ context, event }) =>
      context.interruptedBehavior === 'ATTENUATE' && event.type === 'FOCUS.CHANGED' && event.channel === 'Content' && event.focus === 'BACKGROUND',
  },
  actions: {
    /** §8.3 REPLACE_ALL: this item now, the queue emptied. */
    playNow: assign(({ event }) => (event.type === 'DIRECTIVE.Play' ? { queue: [itemOf(event)] } : {})),
    enqueueItem: assign(({ context, event }) => (event.type === 'DIRECTIVE.Play' ? { queue: [...context.queue, itemOf(event)] } : {})),
    /** §8.3 REPLACE_ENQUEUED: the queue is this item; the current one keeps playing. */
    replaceQueue: assign(({ event }) => (event.type === 'DIRECTIVE.Play' ? { queue: [itemOf(event)] } : {})),
    clearQueue: assign({ queue: [] }),
    /** The next item becomes current; its reports start afresh. */
    takeNext: assign(({ context }) => {
      const [next, ...rest] = context.queue;
      if (!next) return {};
      return {
        current: next,
        queue: rest,
        token: next.token,
        offsetMs: next.offsetMs,
        startedReported: false,
        buffered: false,
        nearlyFinishedReported: false,
        delayReported: false,
        attenuated: false,
      };
    }),
    setOffset: assign(({ context, event }) => (event.type === 'PLAYBACK.PROGRESS' || event.type === 'PLAYBACK.FINISHED' ? { offsetMs: Math.max(context.offsetMs, event.offsetMs) } : {})),
    acquireContent: enqueueActions(({ enqueue, system }) => {
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.ACQUIRE', channel: 'Content', owner: AUDIO_PLAYER_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    /** §8.7: with nothing queued after the item that finished, the channel is given back. */
    releaseIfDone: enqueueActions(({ context, enqueue, system }) => {
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.RELEASE', channel: 'Content', owner: AUDIO_PLAYER_ID };
      if (focus && context.queue.length === 0) enqueue.sendTo(focus, request);
    }),
    releaseContent: enqueueActions(({ enqueue, system }) => {
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.RELEASE', channel: 'Content', owner: AUDIO_PLAYER_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    startStream: enqueueActions(({ context, enqueue }) => {
      enqueue.stopChild('stream');
      if (context.current) enqueue.spawnChild('playStream', { id: 'stream', input: { item: context.current } });
    }),
    endStream: enqueueActions(({ enqueue }) => enqueue.stopChild('stream')),
    // Commands to the stream go only to a stream that exists: a missing one is nothing to pause.
    pauseStream: enqueueActions(({ enqueue, self }) => {
      const stream = (self.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined)?.children?.stream;
      if (stream) enqueue.sendTo(stream, { type: 'PAUSE' } satisfies StreamCommand);
    }),
    resumeStream: enqueueActions(({ enqueue, self }) => {
      const stream = (self.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined)?.children?.stream;
      if (stream) enqueue.sendTo(stream, { type: 'RESUME' } satisfies StreamCommand);
    }),
    attenuate: enqueueActions(({ enqueue, self }) => {
      const stream = (self.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined)?.children?.stream;
      if (stream) enqueue.sendTo(stream, { type: 'ATTENUATE' } satisfies StreamCommand);
      enqueue.assign({ attenuated: true });
    }),
    unattenuate: enqueueActions(({ context, enqueue, self }) => {
      if (!context.attenuated) return;
      const stream = (self.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined)?.children?.stream;
      if (stream) enqueue.sendTo(stream, { type: 'UNATTENUATE' } satisfies StreamCommand);
      enqueue.assign({ attenuated: false });
    }),
    /** §8.6 PlaybackStarted: once per stream, at the offset it started at. */
    started: enqueueActions(({ context, enqueue }) => {
      if (context.startedReported) return;
      enqueue.emit(outbound('AudioPlayer', 'PlaybackStarted', payload(context, context.current?.offsetMs ?? 0)));
      enqueue.assign({ startedReported: true });
      if (context.buffered && !context.nearlyFinishedReported) {
        enqueue.emit(outbound('AudioPlayer', 'PlaybackNearlyFinished', payload(context)));
        enqueue.assign({ nearlyFinishedReported: true });
      }
    }),
    /** Once the current item is downloaded, the next one may be (gapless playback). */
    prefetchNext: enqueueActions(({ context, enqueue }) => {
      const next = context.queue[0];
      if (context.buffered && next) enqueue.emit({ type: 'STREAM.PREFETCH' as const, item: next });
    }),
    /** §8.6 PlaybackNearlyFinished: once per stream, after PlaybackStarted, once it is all downloaded (§16 #2). */
    buffered: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ buffered: true });
      if (context.queue[0]) enqueue.emit({ type: 'STREAM.PREFETCH' as const, item: context.queue[0] });
      if (context.startedReported && !context.nearlyFinishedReported) {
        enqueue.emit(outbound('AudioPlayer', 'PlaybackNearlyFinished', payload(context)));
        enqueue.assign({ nearlyFinishedReported: true });
      }
    }),
    /**
     * §8.6 progress reports, by stream position (from the start of the stream): the delay once,
     * each interval multiple as it is passed. Each is reported at the position it names.
     */
    progressReports: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PLAYBACK.PROGRESS' || !context.current) return;
      const from = context.offsetMs;
      const to = event.offsetMs;
      if (to <= from) return;
      const start = context.current.offsetMs;
      const { delayMs, intervalMs } = context.current;
      if (delayMs !== undefined && !context.delayReported && start < delayMs && from < delayMs && to >= delayMs) {
        enqueue.emit(outbound('AudioPlayer', 'ProgressReportDelayElapsed', payload(context, delayMs)));
        enqueue.assign({ delayReported: true });
      }
      if (intervalMs !== undefined) {
        for (let at = (Math.floor(from / intervalMs) + 1) * intervalMs; at <= to; at += intervalMs) {
          if (at > start) enqueue.emit(outbound('AudioPlayer', 'ProgressReportIntervalElapsed', payload(context, at)));
        }
      }
    }),
    stutterStarted: emit(({ context }) => outbound('AudioPlayer', 'PlaybackStutterStarted', payload(context))),
    stutterFinished: emit(({ context, event }) =>
      outbound('AudioPlayer', 'PlaybackStutterFinished', { ...payload(context), stutterDurationInMilliseconds: event.type === 'PLAYBACK.RECOVERED' ? Math.max(0, Math.round(event.durationMs)) : 0 }),
    ),
    finished: emit(({ context }) => outbound('AudioPlayer', 'PlaybackFinished', payload(context))),
    /** §8.4 / §8.6: only for a stream that had started (PLAYING, PAUSED or BUFFER_UNDERRUN). */
    stopped: enqueueActions(({ context, enqueue }) => {
      if (context.startedReported) enqueue.emit(outbound('AudioPlayer', 'PlaybackStopped', payload(context)));
    }),
    paused: emit(({ context }) => outbound('AudioPlayer', 'PlaybackPaused', payload(context))),
    resumed: emit(({ context }) => outbound('AudioPlayer', 'PlaybackResumed', payload(context))),
    queueCleared: emit(() => outbound('AudioPlayer', 'PlaybackQueueCleared', {})),
    metadata: emit(({ context, event }) => outbound('AudioPlayer', 'StreamMetadataExtracted', { token: context.current?.token ?? context.token, metadata: event.type === 'PLAYBACK.METADATA' ? event.metadata : {} })),
    /** §8.6 PlaybackFailed, with the state the player was in when it failed. */
    failed: emit(({ context, event }, params: { activity: PlayerActivity }) =>
      outbound('AudioPlayer', 'PlaybackFailed', {
        token: context.current?.token ?? context.token,
        currentPlaybackState: { ...payload(context), playerActivity: params.activity },
        error: event.type === 'PLAYBACK.FAILED' ? { type: event.errorType, message: event.message } : { type: 'MEDIA_ERROR_UNKNOWN', message: 'playback failed' },
      }),
    ),
  },
}).createMachine({
  id: 'audioPlayer',
  context: ({ input }) => ({
    interruptedBehavior: input.interruptedBehavior ?? 'PAUSE',
    queue: [],
    current: undefined,
    token: '',
    offsetMs: 0,
    startedReported: false,
    buffered: false,
    nearlyFinishedReported: false,
    delayReported: false,
    attenuated: false,
  }),
  initial: 'IDLE',
  states: {
    IDLE: { on: inactive() },
    PLAYING: {
      initial: 'WAITING_FOR_FOCUS',
      on: {
        ...active('PLAYING'),
        'PLAYBACK.UNDERRUN': { target: 'BUFFER_UNDERRUN', actions: 'stutterStarted' },
      },
      states: {
        // §8.3: start only in the foreground. Every acquire is answered (machines/focus); a
        // BACKGROUND answer (Dialog still speaking) waits for the foreground, a NONE is stale.
        WAITING_FOR_FOCUS: {
          entry: 'acquireContent',
          on: {
            'FOCUS.CHANGED': { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, target: 'STREAMING', actions: 'startStream' },
          },
        },
        STREAMING: {
          on: {
            'FOCUS.CHANGED': [
              { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, actions: 'unattenuate' },
              // §4.2: background — 1.0 pauses (PlaybackPaused); a ducking product plays on, quieter.
              { guard: 'ducksInBackground', actions: 'attenuate' },
              { guard: { type: 'focusIs', params: { focus: 'BACKGROUND' } }, target: '#audioPlayer.PAUSED', actions: ['pauseStream', 'paused'] },
              lostContent(),
            ],
          },
        },
      },
    },
    PAUSED: {
      on: {
        ...active('PAUSED'),
        'FOCUS.CHANGED': [
          { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, target: '#audioPlayer.PLAYING.STREAMING', actions: ['resumeStream', 'resumed'] },
          lostContent(),
        ],
      },
    },
    BUFFER_UNDERRUN: {
      on: {
        ...active('BUFFER_UNDERRUN'),
        'PLAYBACK.RECOVERED': { target: '#audioPlayer.PLAYING.STREAMING', actions: 'stutterFinished' },
        'FOCUS.CHANGED': [
          { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, actions: 'unattenuate' },
          { guard: 'ducksInBackground', actions: 'attenuate' },
          { guard: { type: 'focusIs', params: { focus: 'BACKGROUND' } }, target: 'PAUSED', actions: ['pauseStream', 'paused'] },
          lostContent(),
        ],
      },
    },
    /** §8.1 / §8.7: the item played to its end; the next one follows, else the channel is given back. */
    FINISHED: {
      entry: ['endStream', 'releaseIfDone'],
      always: { guard: 'hasQueued', target: 'PLAYING', actions: 'takeNext' },
      on: inactive(),
    },
    STOPPED: {
      entry: ['endStream', 'releaseContent'],
      on: inactive(),
    },
  },
});

/** §8.2: PlaybackState now. */
export function audioPlayerContext(snapshot: { context: AudioPlayerContext; value: unknown }): ContextMap['AudioPlayer']['PlaybackState'] {
  const activity = (typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value as object)[0]) as PlayerActivity;
  return {
    header: { namespace: 'AudioPlayer', name: 'PlaybackState' },
    payload: { token: snapshot.context.token, offsetInMilliseconds: activity === 'IDLE' ? 0 : Math.max(0, Math.round(snapshot.context.offsetMs)), playerActivity: activity },
  };
}

// The transitions shared by several states, written once. Functions, so each state gets its own objects.

/** §8.3–§8.6 in a state where a stream is under way (PLAYING, PAUSED, BUFFER_UNDERRUN). */
function active(activity: PlayerActivity) {
  return {
    'DIRECTIVE.Play': [
      // §8.3: ignored silently.
      { guard: 'previousTokenMismatch' },
      // §8.3 REPLACE_ALL: PlaybackStopped for the current one, the queue cleared, the new one now.
      { guard: 'replaceAll', target: '#audioPlayer.PLAYING', reenter: true, actions: ['stopped', 'endStream', 'playNow', 'takeNext'] },
      { guard: 'enqueue', actions: ['enqueueItem', 'prefetchNext'] },
      { guard: 'replaceEnqueued', actions: ['replaceQueue', 'prefetchNext'] },
    ],
    // §8.4: the queue is kept; nothing is auto-advanced.
    'DIRECTIVE.Stop': { target: '#audioPlayer.STOPPED', actions: 'stopped' },
    // §8.5
    'DIRECTIVE.ClearQueue': [
      { guard: 'clearAll', target: '#audioPlayer.STOPPED', actions: ['stopped', 'clearQueue', 'queueCleared'] },
      { actions: ['clearQueue', 'queueCleared'] },
    ],
    'PLAYBACK.STARTED': { actions: 'started' },
    'PLAYBACK.PROGRESS': { actions: ['progressReports', 'setOffset'] },
    'PLAYBACK.BUFFERED': { actions: 'buffered' },
    'PLAYBACK.METADATA': { actions: 'metadata' },
    'PLAYBACK.FINISHED': { target: '#audioPlayer.FINISHED', actions: ['setOffset', 'finished'] },
    // §8.6 PlaybackFailed; the next item plays (a dead stream must not end the listening).
    'PLAYBACK.FAILED': [
      { guard: 'hasQueued', target: '#audioPlayer.PLAYING', reenter: true, actions: [{ type: 'failed', params: { activity } }, 'endStream', 'takeNext'] },
      { target: '#audioPlayer.STOPPED', actions: { type: 'failed', params: { activity } } },
    ],
  } as const;
}

/** §8.3–§8.5 when nothing is under way (IDLE, FINISHED, STOPPED). */
function inactive() {
  return {
    'DIRECTIVE.Play': [
      { guard: 'previousTokenMismatch' },
      { guard: 'replaceAll', target: '#audioPlayer.PLAYING', actions: ['playNow', 'takeNext'] },
      { guard: 'replaceEnqueued', target: '#audioPlayer.PLAYING', actions: ['replaceQueue', 'takeNext'] },
      // ENQUEUE with nothing playing and nothing waiting plays it; after a Stop it joins the kept queue.
      { guard: 'queueEmpty', target: '#audioPlayer.PLAYING', actions: ['enqueueItem', 'takeNext'] },
      { actions: 'enqueueItem' },
    ],
    'DIRECTIVE.ClearQueue': { actions: ['clearQueue', 'queueCleared'] },
    // §8.4: a Stop with nothing under way is ignored, without an event.
  } as const;
}

/** §8.7: focus NONE — stop (PlaybackStopped) and clear the queue. */
function lostContent() {
  return { guard: { type: 'focusIs', params: { focus: 'NONE' } }, target: '#audioPlayer.STOPPED', actions: ['stopped', 'clearQueue'] } as const;
}
