// PROTOCOL.md §8: AudioPlayer 1.0.
import * as t from 'io-ts';
import { defineInterface, valueAt, withDefault } from '../envelope/define';
import { CidUrl, EmptyPayload, IsoDateTime, NonNegativeLong, oneOf, StreamUrl, withRule } from '../envelope/primitives';

/** §8.3 playBehavior */
export const PlayBehavior = oneOf(['REPLACE_ALL', 'ENQUEUE', 'REPLACE_ENQUEUED']);
export type PlayBehavior = t.TypeOf<typeof PlayBehavior>;

/** §8.1 playerActivity */
export const PlayerActivity = oneOf(['IDLE', 'PLAYING', 'PAUSED', 'BUFFER_UNDERRUN', 'FINISHED', 'STOPPED']);
export type PlayerActivity = t.TypeOf<typeof PlayerActivity>;

export const ProgressReport = t.partial(
  { progressReportDelayInMilliseconds: NonNegativeLong, progressReportIntervalInMilliseconds: NonNegativeLong },
  'ProgressReport',
);

/**
 * §8.3 stream. streamFormat is sent (as AUDIO_MPEG) only for a `cid:` attachment; next to an
 * http(s) URL any value is ignored, which is not an error.
 */
export const Stream = withRule(
  t.intersection(
    [
      t.type({ url: StreamUrl, offsetInMilliseconds: NonNegativeLong, token: t.string }),
      t.partial({
        streamFormat: t.string,
        expiryTime: IsoDateTime,
        progressReport: ProgressReport,
        expectedPreviousToken: t.string,
      }),
    ],
    'Stream',
  ),
  (s) => {
    if (!CidUrl.is(s.url)) return undefined;
    if (s.streamFormat === undefined) return { path: ['streamFormat'], message: 'missing required field for a cid: stream (expected "AUDIO_MPEG")' };
    if (s.streamFormat !== 'AUDIO_MPEG') return { path: ['streamFormat'], message: `expected "AUDIO_MPEG", got ${JSON.stringify(s.streamFormat)}` };
    return undefined;
  },
);
export type Stream = t.TypeOf<typeof Stream>;

export const AudioItem = t.type({ audioItemId: t.string, stream: Stream }, 'AudioItem');

export const Play = t.type({ playBehavior: PlayBehavior, audioItem: AudioItem }, 'PlayPayload');
export type Play = t.TypeOf<typeof Play>;

/** §8.5 */
export const ClearBehavior = oneOf(['CLEAR_ENQUEUED', 'CLEAR_ALL']);
export const ClearQueue = t.type({ clearBehavior: ClearBehavior }, 'ClearQueuePayload');
export type ClearQueue = t.TypeOf<typeof ClearQueue>;

/** §8.6: the payload of most AudioPlayer events. */
export const PlaybackEvent = t.type({ token: t.string, offsetInMilliseconds: NonNegativeLong }, 'PlaybackEventPayload');
export type PlaybackEvent = t.TypeOf<typeof PlaybackEvent>;

export const PlaybackStutterFinished = t.type(
  { token: t.string, offsetInMilliseconds: NonNegativeLong, stutterDurationInMilliseconds: NonNegativeLong },
  'PlaybackStutterFinishedPayload',
);

/** §8.2 */
export const PlaybackState = t.type(
  { token: t.string, offsetInMilliseconds: NonNegativeLong, playerActivity: PlayerActivity },
  'PlaybackStatePayload',
);
export type PlaybackState = t.TypeOf<typeof PlaybackState>;

/** §8.6 PlaybackFailed error.type */
export const MediaErrorType = oneOf([
  'MEDIA_ERROR_UNKNOWN',
  'MEDIA_ERROR_INVALID_REQUEST',
  'MEDIA_ERROR_SERVICE_UNAVAILABLE',
  'MEDIA_ERROR_INTERNAL_SERVER_ERROR',
  'MEDIA_ERROR_INTERNAL_DEVICE_ERROR',
]);
export type MediaErrorType = t.TypeOf<typeof MediaErrorType>;

export const PlaybackFailed = t.type(
  {
    token: t.string,
    currentPlaybackState: PlaybackState,
    error: t.type({ type: MediaErrorType, message: t.string }),
  },
  'PlaybackFailedPayload',
);
export type PlaybackFailed = t.TypeOf<typeof PlaybackFailed>;

/** §8.6: string and numeric tags are sent as strings, booleans as booleans. */
export const StreamMetadataExtracted = t.type(
  { token: t.string, metadata: t.record(t.string, t.union([t.string, t.boolean], 'string | boolean')) },
  'StreamMetadataExtractedPayload',
);

export const AudioPlayer = defineInterface({
  namespace: 'AudioPlayer',
  version: '1.0',
  directives: { Play, Stop: EmptyPayload, ClearQueue },
  events: {
    PlaybackStarted: PlaybackEvent,
    PlaybackNearlyFinished: PlaybackEvent,
    ProgressReportDelayElapsed: PlaybackEvent,
    ProgressReportIntervalElapsed: PlaybackEvent,
    PlaybackStutterStarted: PlaybackEvent,
    PlaybackStutterFinished,
    PlaybackFinished: PlaybackEvent,
    PlaybackFailed,
    PlaybackStopped: PlaybackEvent,
    PlaybackPaused: PlaybackEvent,
    PlaybackResumed: PlaybackEvent,
    PlaybackQueueCleared: EmptyPayload,
    StreamMetadataExtracted,
  },
  context: { PlaybackState },
  eventsWithContext: [],
  eventsWithDialogRequestId: [],
  // §16 #6: the SDK's defaults for fields AVS is documented to always send.
  lenient: {
    Play: (p) => {
      const filled = withDefault(withDefault(p, ['playBehavior'], 'ENQUEUE'), ['audioItem', 'audioItemId'], 'anonymous');
      return CidUrl.is(valueAt(filled, ['audioItem', 'stream', 'url']))
        ? withDefault(filled, ['audioItem', 'stream', 'streamFormat'], 'AUDIO_MPEG')
        : filled;
    },
    ClearQueue: (p) => withDefault(p, ['clearBehavior'], 'CLEAR_ENQUEUED'),
  },
});
