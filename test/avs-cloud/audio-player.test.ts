// Scenarios for AudioPlayer tests (PROTOCOL.md §8): a PlaybackNearlyFinished answered with the
// next item (§8.6: "AVS answers with a Play (ENQUEUE …) or with 204"), whose URL the simulator serves.
import type { ClientHttp2Session } from 'node:http2';
import { decodeDirective } from '../../machines/catalog';
import { parseScenario, type Simulator, silentMp3, startSimulator } from '.';
import { answerDirectives, closeSession, connect, event, request, sendEvent } from './test-client';

const scenario = parseScenario({
  answers: {
    next: {
      description: 'The next song, queued behind the one playing.',
      directives: [
        {
          directive: {
            header: { namespace: 'AudioPlayer', name: 'Play' },
            payload: {
              playBehavior: 'ENQUEUE',
              audioItem: {
                audioItemId: 'amzn1.as-ct.v1.#ACRI#song-2',
                stream: { url: '$url/media/song-2.mp3', offsetInMilliseconds: 0, token: 'song-2-token', expectedPreviousToken: 'song-1-token' },
              },
            },
          },
        },
      ],
    },
  },
  rules: [{ on: 'AudioPlayer.PlaybackNearlyFinished', nth: 1, answer: 'next' }],
  media: { 'song-2': { durationMs: 2000 } },
});

describe('AudioPlayer scenarios', () => {
  let sim: Simulator;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    sim = await startSimulator({ h2c: true, scenario });
    session = await connect(sim);
  });
  afterAll(async () => {
    await closeSession(session);
    await sim.stop();
  });

  const send = (name: string, token: string) =>
    sendEvent(session, sim.defaultToken, event('AudioPlayer', name, { token, offsetInMilliseconds: 15000 })).response;

  it('answers the first PlaybackNearlyFinished with a Play ENQUEUE of the next item, and later ones with 204', async () => {
    expect((await send('PlaybackStarted', 'song-1-token')).status).toBe(204);
    const answer = await send('PlaybackNearlyFinished', 'song-1-token');
    expect(answer.status).toBe(200);
    const directives = await answerDirectives(answer);
    expect(directives).toHaveLength(1);
    const decoded = decodeDirective(directives[0]);
    if (decoded.kind !== 'ok') throw new Error(`the Play did not decode: ${JSON.stringify(decoded)}`);
    expect(decoded.value.header).toMatchObject({ namespace: 'AudioPlayer', name: 'Play' });
    expect(decoded.value.header).not.toHaveProperty('dialogRequestId'); // §8.6: AudioPlayer events have none to echo
    const payload = decoded.value.payload as { playBehavior: string; audioItem: { stream: { url: string; token: string; expectedPreviousToken: string } } };
    expect(payload.playBehavior).toBe('ENQUEUE');
    expect(payload.audioItem.stream).toMatchObject({ url: `${sim.url}/media/song-2.mp3`, token: 'song-2-token', expectedPreviousToken: 'song-1-token' });

    // The next item's URL is served.
    const song = await request(session, { ':path': new URL(payload.audioItem.stream.url).pathname });
    expect(song.status).toBe(200);
    expect(song.body.equals(silentMp3(2000))).toBe(true);

    // nth: 1 — the next PlaybackNearlyFinished (of song 2) gets no rule: 204.
    expect((await send('PlaybackNearlyFinished', 'song-2-token')).status).toBe(204);
    expect((await sim.waitForEvent((e) => e.name === 'AudioPlayer.PlaybackNearlyFinished' && e.index > 1)).decode).toBe('ok');
  });
});
