// Scenarios: the format, its checks, the templates, and pushes on the downchannel.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDirective } from '../../machines/catalog';
import {
  DEFAULT_SCENARIO_FILE,
  loadDefaultScenario,
  loadScenario,
  MP3_FRAME_BYTES,
  parseScenario,
  resolveReply,
  type Scenario,
  ScenarioError,
  silentMp3,
  silentMp3DurationMs,
  startSimulator,
} from '.';
import { renderReply } from './templates';
import { closeSession, connect, event, openDownchannel, sendEvent } from './test-client';

const setVolume = (volume: unknown) => ({ directive: { header: { namespace: 'Speaker', name: 'SetVolume' }, payload: { volume } } });
const errorOf = (doc: unknown): string => {
  try {
    parseScenario(doc);
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
  throw new Error('the scenario was accepted');
};

describe('the default scenario', () => {
  const scenario = loadDefaultScenario();

  it('covers a question, a timer, music played and paused, and a volume change', () => {
    const names = Object.values(scenario.answers ?? {}).flatMap((a) => a.directives.map((d) => `${d.directive.header.namespace}.${d.directive.header.name}`));
    expect(new Set(names)).toEqual(new Set(['SpeechSynthesizer.Speak', 'Alerts.SetAlert', 'AudioPlayer.Play', 'AudioPlayer.Stop', 'Speaker.SetVolume']));
  });

  it('produces only directives that pass the strict decoder, whatever triggers them', () => {
    const replies = [...Object.values(scenario.answers ?? {}), ...(scenario.rules ?? []), ...(scenario.pushes ?? [])].map((r) => resolveReply(scenario, r));
    for (const reply of replies) {
      for (const ctx of [
        { now: Date.now(), url: 'https://localhost:4443', dialogRequestId: 'd-1', answersRecognize: true },
        { now: Date.now(), url: 'http://127.0.0.1:8080' },
      ]) {
        for (const part of renderReply(reply, ctx)) {
          if (part.kind !== 'json') continue;
          const decoded = decodeDirective(part.body);
          expect(decoded.kind === 'invalid' ? decoded.error : decoded.kind).toBe('ok');
        }
      }
    }
  });
});

describe('scenario checks', () => {
  it('names an unknown key', () => {
    expect(errorOf({ rules: [{ on: 'Speaker.VolumeChanged', answr: 'x' }] })).toMatch(/\$\.rules\[0\]\.answr: unknown key/);
    expect(errorOf({ pushes: [], medias: {} })).toMatch(/\$\.medias: unknown key/);
  });

  it('names a value of the wrong kind', () => {
    expect(errorOf({ rules: [{ on: 'Recognize', directives: [] }] })).toMatch(/\$\.rules\[0\]\.on: expected "Namespace\.Name"/);
    expect(errorOf({ rules: [{ on: 'A.B', nth: 0, directives: [] }] })).toMatch(/\$\.rules\[0\]\.nth: expected integer ≥ 1, got 0/);
    expect(errorOf({ pushes: [{ afterMs: 1, afterEvent: 'A.B', directives: [] }] })).toMatch(/\$\.pushes\[0\]: give exactly one of afterMs or afterEvent/);
  });

  it('names a missing answer, a cid without its attachment, and a directive that would not decode', () => {
    expect(errorOf({ rules: [{ on: 'A.B', answer: 'nope' }] })).toMatch(/\$\.rules\[0\]\.answer: no answer named "nope"/);
    const speak = { directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 't' } } };
    expect(errorOf({ answers: { a: { directives: [speak] } } })).toMatch(/\$\.answers\.a\.directives\[0\]: cid:tts names no attachment/);
    expect(errorOf({ answers: { a: { directives: [setVolume(150)] } } })).toMatch(/\$\.answers\.a\.directives\[0\]: \$\.directive\.payload\.volume: expected integer 0\.\.100, got 150/);
  });

  it('names the file when loading one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'avs-scenario-'));
    try {
      writeFileSync(join(dir, 'bad.json'), '{ "rules": [ }');
      expect(() => loadScenario(join(dir, 'bad.json'))).toThrow(new RegExp(`${join(dir, 'bad.json')}: not JSON`));
      writeFileSync(join(dir, 'key.json'), JSON.stringify({ rule: [] }));
      expect(() => loadScenario(join(dir, 'key.json'))).toThrow(/key\.json: \$\.rule: unknown key/);
      // Attachment files are found next to the scenario.
      writeFileSync(join(dir, 'hello.mp3'), silentMp3(100));
      const speak = { directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:hi', format: 'AUDIO_MPEG', token: 't' } } };
      writeFileSync(join(dir, 'file.json'), JSON.stringify({ answers: { a: { directives: [speak], attachments: { hi: { file: 'hello.mp3' } } } } }));
      const loaded = loadScenario(join(dir, 'file.json'));
      expect(loaded.answers?.a.attachments?.hi.file).toBe(join(dir, 'hello.mp3'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(DEFAULT_SCENARIO_FILE).toMatch(/test\/fixtures\/avs-cloud\/default\.json$/);
  });
});

describe('templates', () => {
  const now = Date.UTC(2024, 2, 1, 18, 30, 0, 250);

  it('fills $now±, $url, $uuid and $dialogRequestId, and gives every directive a messageId', () => {
    const scenario = parseScenario({
      answers: {
        a: {
          directives: [
            { directive: { header: { namespace: 'Alerts', name: 'SetAlert', dialogRequestId: '$dialogRequestId' }, payload: { token: 'timer-$uuid', type: 'TIMER', scheduledTime: '$now+5s' } } },
            { directive: { header: { namespace: 'Alerts', name: 'SetAlert' }, payload: { token: 'timer-$uuid', type: 'ALARM', scheduledTime: '$now-1m' } } },
            {
              directive: {
                header: { namespace: 'AudioPlayer', name: 'Play' },
                payload: { playBehavior: 'REPLACE_ALL', audioItem: { audioItemId: 'i', stream: { url: '$url/media/song.mp3', offsetInMilliseconds: 0, token: 's' } } },
              },
            },
          ],
        },
      },
    });
    const reply = resolveReply(scenario, { answer: 'a' });
    const [timer, alarm, play] = renderReply(reply, { now, url: 'http://127.0.0.1:9', dialogRequestId: 'd-7' }).map(
      (p) => (p.kind === 'json' ? p.body : {}) as { directive: { header: Record<string, string>; payload: Record<string, unknown> } },
    );
    expect(timer.directive.header.dialogRequestId).toBe('d-7');
    expect(timer.directive.payload.scheduledTime).toBe('2024-03-01T18:30:06+0000'); // rounded up to the second
    expect(alarm.directive.payload.scheduledTime).toBe('2024-03-01T18:29:01+0000');
    expect(timer.directive.payload.token).not.toBe(alarm.directive.payload.token);
    expect(String(timer.directive.header.messageId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(alarm.directive.header.dialogRequestId).toBeUndefined(); // not an answer to a Recognize
    expect((play.directive.payload.audioItem as { stream: { url: string } }).stream.url).toBe('http://127.0.0.1:9/media/song.mp3');
    // Pushed with no Recognize behind it, "$dialogRequestId" leaves the field out.
    const pushed = renderReply(reply, { now, url: 'x' })[0];
    expect(pushed.kind === 'json' && (pushed.body as { directive: { header: object } }).directive.header).not.toHaveProperty('dialogRequestId');
  });

  it('points cid: URLs at attachments with fresh Content-IDs, and fills a Recognize answer\'s dialogRequestId', () => {
    const scenario = parseScenario({
      answers: {
        a: {
          directives: [{ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 't' } } }],
          attachments: { tts: { silenceMs: 720 } },
        },
      },
    });
    const render = () => renderReply(resolveReply(scenario, { answer: 'a' }), { now, url: 'x', dialogRequestId: 'd-1', answersRecognize: true });
    const [speak, mp3] = render();
    if (speak.kind !== 'json' || mp3.kind !== 'attachment') throw new Error('expected the Speak, then its MP3');
    const doc = speak.body as { directive: { header: Record<string, string>; payload: { url: string } } };
    expect(doc.directive.payload.url).toBe(`cid:${mp3.contentId}`);
    expect(doc.directive.header.dialogRequestId).toBe('d-1');
    expect(mp3.data.length).toBe(20 * MP3_FRAME_BYTES);
    const again = render()[1];
    expect(again.kind === 'attachment' && again.contentId).not.toBe(mp3.contentId);
  });

  it('makes silent MP3: MPEG-2 Layer III 16 kHz mono 32 kbit/s frames of 36 ms', () => {
    const mp3 = silentMp3(1000);
    expect(mp3.length % 144).toBe(0);
    expect(silentMp3DurationMs(mp3)).toBe(1008);
    for (let at = 0; at < mp3.length; at += 144) expect(mp3.readUInt32BE(at)).toBe(0xfff348c0);
  });
});

describe('pushes', () => {
  const scenario: Scenario = {
    answers: { volume: { directives: [setVolume(10)] } },
    pushes: [
      { afterMs: 0, answer: 'volume' },
      { afterEvent: 'Speaker.VolumeChanged', nth: 2, delayMs: 50, directives: [setVolume(77)] },
    ],
  };

  it('pushes after connect, and after the nth time an event came', async () => {
    const sim = await startSimulator({ h2c: true, scenario });
    const session = await connect(sim);
    try {
      const downchannel = await openDownchannel(session, sim.defaultToken);
      expect((await downchannel.parts.nextDirective()).payload).toEqual({ volume: 10 });
      const changed = () => sendEvent(session, sim.defaultToken, event('Speaker', 'VolumeChanged', { volume: 10, muted: false })).response;
      expect((await changed()).status).toBe(204);
      const sentAt = Date.now();
      expect((await changed()).status).toBe(204);
      expect((await downchannel.parts.nextDirective()).payload).toEqual({ volume: 77 });
      // delayMs 50 after the answer, which came after the event was sent.
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(45);
    } finally {
      await closeSession(session);
      await sim.stop();
    }
  });

  it('queues a push made while no downchannel is open, for the next one', async () => {
    const sim = await startSimulator({ h2c: true, scenario: {} });
    const session = await connect(sim);
    try {
      expect(sim.pushDirective(setVolume(5))).toBe('queued');
      const downchannel = await openDownchannel(session, sim.defaultToken);
      expect((await sim.waitForDownchannel()).nth).toBe(1);
      expect((await downchannel.parts.nextDirective()).payload).toEqual({ volume: 5 });
    } finally {
      await closeSession(session);
      await sim.stop();
    }
  });
});
