// The actors an alert invokes (machines/alerts/alert.ts), made of the device's drivers: waitUntil
// on the clock driver (exact however far away, re-planned when the wall clock jumps, §7), and
// render — the built-in sound of its type looped on the output (§7.6: the full sound in the
// foreground; a short soft tone every 10 s in the background).
import { Readable } from 'node:stream';
import { fromCallback } from 'xstate';
import type { RenderCommand, RenderInput, RenderMode } from '../../machines/alerts/alert';
import type { Clock } from '../../drivers/clock/clock';
import type { AudioOutput, Playback } from '../../drivers/audio-output/output';
import type { Logger } from '../../services/log/logger';
import { alertSound, BACKGROUND_REPEAT_PAUSE_MS } from './alert-sounds';

/** Length of one of our WAV sounds (16 kHz, 16-bit mono, 44-byte header). */
const wavDurationMs = (wav: Buffer): number => Math.round(((wav.length - 44) / 32_000) * 1000);

export interface AlertServices {
  readonly clock: Clock;
  readonly output: AudioOutput;
  /** A short delay (the pause between two plays of the sound), on the device's clock. */
  readonly delay: (ms: number, fn: () => void) => () => void;
  readonly logger: Logger;
}

export function waitUntilActor(services: Pick<AlertServices, 'clock'>) {
  return fromCallback<{ type: 'NONE' }, { at: number; token: string }>(({ input, sendBack }) => services.clock.at(input.at, () => sendBack({ type: 'ALERT.DUE' })));
}

export function renderActor(services: AlertServices) {
  const log = services.logger.child({ module: 'alerts' });
  return fromCallback<RenderCommand, RenderInput>(({ input, sendBack, receive }) => {
    let mode: RenderMode | undefined;
    let playback: Playback | undefined;
    let cancelPause: (() => void) | undefined;
    let started = false;
    let loops = 0;
    let over = false;
    const halt = () => {
      cancelPause?.();
      cancelPause = undefined;
      const p = playback;
      playback = undefined;
      p?.stop();
    };
    const playOnce = () => {
      if (over || mode === undefined) return;
      const current = mode;
      const sound = alertSound(input.type, current);
      const startedAt = services.clock.now();
      const p = services.output.play({ stream: Readable.from([sound]), format: 'wav' });
      playback = p;
      p.on('started', () => {
        if (started || playback !== p) return;
        started = true;
        sendBack({ type: 'RENDER.STARTED' });
      })
        .on('finished', () => {
          if (playback !== p || over) return;
          playback = undefined;
          // §7.3 loopCount counts plays of the full sound; the background tone does not use them up.
          if (current === 'foreground') loops++;
          if (input.loopCount !== undefined && input.loopCount > 0 && loops >= input.loopCount) {
            over = true;
            sendBack({ type: 'RENDER.FINISHED' });
            return;
          }
          // An output that does not play in real time (a null one) must not make this a busy loop:
          // the next play waits at least for what is left of the sound's own length.
          const left = Math.max(0, wavDurationMs(sound) - (services.clock.now() - startedAt));
          const pause = left + (current === 'background' ? BACKGROUND_REPEAT_PAUSE_MS : (input.loopPauseMs ?? 0));
          cancelPause = services.delay(pause, () => {
            cancelPause = undefined;
            playOnce();
          });
        })
        .on('failed', (e) => {
          if (playback !== p || over) return;
          over = true;
          log.error({ type: input.type, error: e.message }, 'the alert sound could not be played');
          sendBack({ type: 'RENDER.FAILED', message: e.message });
        });
    };
    receive((command) => {
      if (command.mode === mode) return;
      mode = command.mode;
      halt();
      playOnce();
    });
    return () => {
      over = true;
      halt();
    };
  });
}
