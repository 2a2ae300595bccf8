// The playStream actor the AudioPlayer machine invokes (PROTOCOL.md §8): an http(s) URL fetched
// as it downloads, or a `cid:` attachment, fed to the audio output from the item's offset. A
// download buffer between the two lets the whole stream arrive ahead of playback, so "fully
// downloaded" (§8.6 PlaybackNearlyFinished, §16 #2) means what it says.
import { PassThrough, type Readable } from 'node:stream';
import { fromCallback } from 'xstate';
import type { PlayStreamInput, QueuedItem, StreamCommand, StreamFeedback } from '../../machines/audio-player/machine';
import type { MediaErrorType } from '../../machines/audio-player/messages';
import { contentIdOf, parseIsoDateTime } from '../../machines/envelope/primitives';
import { fetchUrl } from '../../drivers/audio-output/fetch-url';
import type { AudioOutput } from '../../drivers/audio-output/output';
import type { Logger } from '../../services/log/logger';
import type { AttachmentStore } from '../../services/multipart';

/** How much of a stream may be downloaded ahead of playback. */
const DOWNLOAD_AHEAD_BYTES = 16 * 1024 * 1024;

export interface ContentServices {
  readonly output: AudioOutput;
  readonly attachments: AttachmentStore;
  /** Extra CA for media served by a private endpoint (the simulator). */
  readonly ca?: string | Buffer;
  readonly now: () => number;
  readonly logger: Logger;
}

/** An item's bytes: an attachment (`cid:`, §8.3) or the URL fetched. */
export function openSource(services: Pick<ContentServices, 'attachments' | 'ca'>, url: string): Readable {
  return /^cid:/i.test(url) ? services.attachments.open(contentIdOf(url)) : fetchUrl(url, { ...(services.ca ? { ca: services.ca } : {}) });
}

/** §8.6 PlaybackFailed error.type for what went wrong fetching or playing. */
export function mediaErrorType(message: string): MediaErrorType {
  const status = /\bHTTP (\d{3})\b/.exec(message)?.[1];
  if (status !== undefined) {
    const code = Number(status);
    if (code === 503 || code === 504 || code === 502) return 'MEDIA_ERROR_SERVICE_UNAVAILABLE';
    if (code >= 500) return 'MEDIA_ERROR_INTERNAL_SERVER_ERROR';
    if (code >= 400) return 'MEDIA_ERROR_INVALID_REQUEST';
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|socket hang up|did not arrive/i.test(message)) return 'MEDIA_ERROR_SERVICE_UNAVAILABLE';
  if (/not a URL|unsupported URL scheme|expired/i.test(message)) return 'MEDIA_ERROR_INVALID_REQUEST';
  if (/player|output/i.test(message)) return 'MEDIA_ERROR_INTERNAL_DEVICE_ERROR';
  return 'MEDIA_ERROR_UNKNOWN';
}

/**
 * The next item's download, started while the current one plays (gapless playback): one at a
 * time; a different request or the device's stop drops it.
 */
export class Prefetcher {
  private entry: { token: string; url: string; source: Readable; download: PassThrough; buffered: boolean; error?: Error } | undefined;

  constructor(private readonly open: (url: string) => Readable) {}

  start(item: QueuedItem): void {
    if (this.entry?.token === item.token && this.entry.url === item.url) return;
    this.drop();
    let source: Readable;
    try {
      source = this.open(item.url);
    } catch {
      return; // fetched again, and failed properly, when its turn comes
    }
    const download = new PassThrough({ highWaterMark: DOWNLOAD_AHEAD_BYTES });
    const entry: NonNullable<Prefetcher['entry']> = { token: item.token, url: item.url, source, download, buffered: false };
    source.on('error', (e: Error) => {
      entry.error ??= e;
    });
    download.on('error', () => {});
    download.on('finish', () => {
      entry.buffered = true;
    });
    source.pipe(download);
    this.entry = entry;
  }

  /** The prefetched download of this item, if there is one (it is then the caller's). */
  take(item: QueuedItem): { source: Readable; download: PassThrough; buffered: boolean; error?: Error } | undefined {
    const entry = this.entry;
    if (!entry || entry.token !== item.token || entry.url !== item.url) return undefined;
    this.entry = undefined;
    return entry;
  }

  drop(): void {
    const entry = this.entry;
    this.entry = undefined;
    entry?.source.destroy();
    entry?.download.destroy();
  }
}

export function playStreamActor(services: ContentServices, prefetcher?: Prefetcher) {
  const log = services.logger.child({ module: 'audio-player' });
  return fromCallback<StreamCommand, PlayStreamInput>(({ input, sendBack, receive }) => {
    const { item } = input;
    let over = false;
    const send = (e: StreamFeedback) => {
      if (over) return;
      if (e.type === 'PLAYBACK.FINISHED' || e.type === 'PLAYBACK.FAILED') over = true;
      sendBack(e);
    };
    const fail = (message: string, type: MediaErrorType = mediaErrorType(message)) => {
      log.warn({ token: item.token, error: message }, 'stream failed');
      send({ type: 'PLAYBACK.FAILED', errorType: type, message });
    };
    // §8.3 expiryTime: an item that has not started by then is not played.
    const expiry = item.expiryTime !== undefined ? parseIsoDateTime(item.expiryTime) : undefined;
    if (expiry !== undefined && services.now() > expiry) {
      fail(`the stream expired at ${item.expiryTime} before it could start`, 'MEDIA_ERROR_INVALID_REQUEST');
      return () => {};
    }
    const prefetched = prefetcher?.take(item);
    let source: Readable;
    let download: PassThrough;
    if (prefetched) {
      ({ source, download } = prefetched);
      if (prefetched.error) {
        fail(prefetched.error.message);
        return () => download.destroy();
      }
    } else {
      try {
        source = openSource(services, item.url);
      } catch (e) {
        fail((e as Error).message);
        return () => {};
      }
      download = new PassThrough({ highWaterMark: DOWNLOAD_AHEAD_BYTES });
      source.pipe(download);
    }
    source.on('error', (e: Error) => {
      fail(e.message);
      download.destroy();
    });
    download.on('error', () => {
      // Reported through the source's error; a destroyed buffer says nothing more.
    });
    if (prefetched?.buffered) queueMicrotask(() => send({ type: 'PLAYBACK.BUFFERED' }));
    else download.on('finish', () => send({ type: 'PLAYBACK.BUFFERED' }));
    const playback = services.output.play({ stream: download, format: 'mp3' }, { offsetMs: item.offsetMs });
    playback
      .on('started', () => send({ type: 'PLAYBACK.STARTED' }))
      .on('progress', (offsetMs) => send({ type: 'PLAYBACK.PROGRESS', offsetMs }))
      .on('underrun', () => send({ type: 'PLAYBACK.UNDERRUN' }))
      .on('recovered', (durationMs) => send({ type: 'PLAYBACK.RECOVERED', durationMs }))
      .on('metadata', (metadata) => send({ type: 'PLAYBACK.METADATA', metadata }))
      .on('finished', () => send({ type: 'PLAYBACK.FINISHED', offsetMs: playback.offsetMs }))
      .on('failed', (e) => fail(e.message));
    receive((command) => {
      switch (command.type) {
        case 'PAUSE':
          return playback.pause();
        case 'RESUME':
          return playback.resume();
        case 'ATTENUATE':
          return playback.attenuate(true);
        case 'UNATTENUATE':
          return playback.attenuate(false);
      }
    });
    return () => {
      const wasOver = over;
      over = true;
      if (!wasOver) playback.stop();
      source.unpipe(download);
      source.destroy();
      download.destroy();
    };
  });
}
