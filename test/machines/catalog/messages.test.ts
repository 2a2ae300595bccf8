// Every directive, event and context state of the eight interfaces (PROTOCOL.md §3): at least one
// valid example, and the invalid cases the tables of §5–§11 imply.
import * as t from 'io-ts';
import { CONTEXT_CODECS, DIRECTIVE_CODECS, EVENT_CODECS, MAX_DEPTH, decodeMessage, decodeDirective, decodeDirectiveText, decodeEvent, formatDecodeError, toDecodeError } from '../../../machines/catalog';
import { copyOf, loadExamples, mutate } from '../../support/fixtures';

const examples = loadExamples();
const byFile = new Map(examples.map((e) => [e.file, e.doc]));
const example = (file: string): unknown => {
  const doc = byFile.get(file);
  if (doc === undefined) throw new Error(`no example ${file}`);
  return doc;
};

describe('valid examples', () => {
  it.each(examples.map((e) => [e.file, e]))('%s decodes', (_file, e) => {
    const r = decodeMessage(e.doc);
    expect(r.kind === 'invalid' ? formatDecodeError(r.error) : r.kind).toBe('ok');
    expect(r.header && `${r.header.namespace}.${r.header.name}`).toBe(e.name);
  });

  it('covers every directive, event and context state of the eight interfaces', () => {
    const have = new Set(examples.map((e) => e.name));
    const all = [...DIRECTIVE_CODECS.keys(), ...EVENT_CODECS.keys(), ...CONTEXT_CODECS.keys()];
    expect(all.filter((name) => !have.has(name))).toEqual([]);
    expect(all.length).toBe(58); // 20 directives, 33 events, 5 context states (+ the System.Exception body)
  });
});

// [example, dotted path to change, new value (undefined = delete), JSON path the error must name]
type Case = [string, string, unknown, string];
const D = 'directive.payload';
const E = 'event.payload';
const invalid: Case[] = [
  // §2.2 envelope
  ['Speaker.SetVolume', 'directive.header.messageId', undefined, '$.directive.header.messageId'],
  ['Speaker.SetVolume', 'directive.header.namespace', 7, '$.directive.header.namespace'],
  ['Speaker.SetVolume', 'directive.header.name', '', '$.directive.header.name'],
  ['Speaker.SetVolume', 'directive.payload', [], '$.directive.payload'],
  ['Speaker.SetVolume', 'directive.payload', null, '$.directive.payload'],
  ['Speaker.SetVolume', 'directive.header.dialogRequestId', 5, '$.directive.header.dialogRequestId'],
  // §2.1 event envelope
  ['Speaker.VolumeChanged', 'event.header.messageId', undefined, '$.event.header.messageId'],
  ['Speaker.VolumeChanged', 'event.payload', undefined, '$.event.payload'],
  ['Speaker.VolumeChanged', 'event.header.dialogRequestId', 'd-1', '$.event.header.dialogRequestId'],
  ['Speaker.VolumeChanged', 'context', [{ header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 1, muted: false } }], '$.context'],
  ['SpeechRecognizer.Recognize', 'event.header.dialogRequestId', undefined, '$.event.header.dialogRequestId'],
  ['SpeechRecognizer.Recognize', 'context', undefined, '$.context'],
  ['PlaybackController.PlayCommandIssued', 'context', [], '$.context'],
  ['System.SynchronizeState', 'context', undefined, '$.context'],
  ['System.ExceptionEncountered', 'context', undefined, '$.context'],
  ['System.SynchronizeState', 'context.4.payload.volume', 101, '$.context[4].payload.volume'],
  ['System.SynchronizeState', 'context.1.payload.playerActivity', 'PAUSED', '$.context[1].payload.playerActivity'],
  ['System.SynchronizeState', 'context.0.header.messageId', 'm', '$.context[0].header.messageId'],
  // §5 SpeechRecognizer
  ['SpeechRecognizer.ExpectSpeech', `${D}.timeoutInMilliseconds`, undefined, `$.${D}.timeoutInMilliseconds`],
  ['SpeechRecognizer.ExpectSpeech', `${D}.timeoutInMilliseconds`, '8000', `$.${D}.timeoutInMilliseconds`],
  ['SpeechRecognizer.ExpectSpeech', `${D}.timeoutInMilliseconds`, -1, `$.${D}.timeoutInMilliseconds`],
  ['SpeechRecognizer.ExpectSpeech', `${D}.timeoutInMilliseconds`, 1.5, `$.${D}.timeoutInMilliseconds`],
  ['SpeechRecognizer.ExpectSpeech.initiator', `${D}.initiator.payload.token`, 3, `$.${D}.initiator.payload.token`],
  ['SpeechRecognizer.Recognize', `${E}.profile`, 'MEDIUM_FIELD', `$.${E}.profile`],
  ['SpeechRecognizer.Recognize', `${E}.profile`, undefined, `$.${E}.profile`],
  ['SpeechRecognizer.Recognize', `${E}.format`, 'AUDIO_L16_RATE_8000_CHANNELS_1', `$.${E}.format`],
  ['SpeechRecognizer.Recognize', `${E}.initiator.payload.wakeWordIndices`, undefined, `$.${E}.initiator.payload.wakeWordIndices`],
  ['SpeechRecognizer.Recognize', `${E}.initiator.payload.wakeWordIndices.startIndexInSamples`, undefined, `$.${E}.initiator.payload.wakeWordIndices.startIndexInSamples`],
  ['SpeechRecognizer.Recognize', `${E}.initiator.payload.wakeWordIndices.endIndexInSamples`, 10, `$.${E}.initiator.payload.wakeWordIndices.endIndexInSamples`],
  ['SpeechRecognizer.Recognize.tap', `${E}.initiator.type`, undefined, `$.${E}.initiator.type`],
  ['SpeechRecognizer.Recognize.tap', `${E}.initiator.payload`, undefined, `$.${E}.initiator.payload`],
  ['SpeechRecognizer.RecognizerState', 'payload.wakeword', 'COMPUTER', '$.payload.wakeword'],
  // §6 SpeechSynthesizer
  ['SpeechSynthesizer.Speak', `${D}.url`, 'https://example.com/a.mp3', `$.${D}.url`],
  ['SpeechSynthesizer.Speak', `${D}.url`, undefined, `$.${D}.url`],
  ['SpeechSynthesizer.Speak', `${D}.format`, 'MP3', `$.${D}.format`],
  ['SpeechSynthesizer.Speak', `${D}.token`, undefined, `$.${D}.token`],
  ['SpeechSynthesizer.SpeechStarted', `${E}.token`, undefined, `$.${E}.token`],
  ['SpeechSynthesizer.SpeechFinished', `${E}.token`, 12, `$.${E}.token`],
  ['SpeechSynthesizer.SpeechState', 'payload.playerActivity', 'INTERRUPTED', '$.payload.playerActivity'],
  ['SpeechSynthesizer.SpeechState', 'payload.offsetInMilliseconds', -5, '$.payload.offsetInMilliseconds'],
  // §7 Alerts
  ['Alerts.SetAlert', `${D}.token`, undefined, `$.${D}.token`],
  ['Alerts.SetAlert', `${D}.type`, undefined, `$.${D}.type`],
  ['Alerts.SetAlert', `${D}.type`, 3, `$.${D}.type`],
  ['Alerts.SetAlert', `${D}.type`, 'NAP', `$.${D}.type`],
  ['Alerts.SetAlert.reminder-assets', `${D}.assets`, [{ assetId: 'x', url: 'file:///x.mp3' }], `$.${D}.assets[0].url`],
  ['System.SynchronizeState', 'context.4.header.name', 'Bogus', '$.context[4].header.name'],
  ['Alerts.SetAlert', `${D}.scheduledTime`, undefined, `$.${D}.scheduledTime`],
  ['Alerts.SetAlert', `${D}.scheduledTime`, 'tomorrow at six', `$.${D}.scheduledTime`],
  ['Alerts.SetAlert', `${D}.scheduledTime`, '2024-02-30T06:45:00Z', `$.${D}.scheduledTime`],
  ['Alerts.SetAlert', `${D}.scheduledTime`, '2024-03-02T06:45:00', `$.${D}.scheduledTime`],
  ['Alerts.SetAlert.reminder-assets', `${D}.loopCount`, -1, `$.${D}.loopCount`],
  ['Alerts.SetAlert.reminder-assets', `${D}.assets`, [{ assetId: 'x' }], `$.${D}.assets[0].url`],
  ['Alerts.SetAlert.reminder-assets', `${D}.loopPauseInMilliSeconds`, '1000', `$.${D}.loopPauseInMilliSeconds`],
  ['Alerts.DeleteAlert', `${D}.token`, undefined, `$.${D}.token`],
  ['Alerts.AlertStarted', `${E}.token`, undefined, `$.${E}.token`],
  ['Alerts.AlertsState', 'payload.activeAlerts', undefined, '$.payload.activeAlerts'],
  ['Alerts.AlertsState', 'payload.allAlerts.0.type', 'NAP', '$.payload.allAlerts[0].type'],
  // §8 AudioPlayer
  ['AudioPlayer.Play', `${D}.playBehavior`, undefined, `$.${D}.playBehavior`],
  ['AudioPlayer.Play', `${D}.playBehavior`, 'SHUFFLE', `$.${D}.playBehavior`],
  ['AudioPlayer.Play', `${D}.audioItem`, undefined, `$.${D}.audioItem`],
  ['AudioPlayer.Play', `${D}.audioItem.stream`, undefined, `$.${D}.audioItem.stream`],
  ['AudioPlayer.Play', `${D}.audioItem.stream.url`, undefined, `$.${D}.audioItem.stream.url`],
  ['AudioPlayer.Play', `${D}.audioItem.stream.url`, 'ftp://example.com/a.mp3', `$.${D}.audioItem.stream.url`],
  ['AudioPlayer.Play', `${D}.audioItem.stream.token`, undefined, `$.${D}.audioItem.stream.token`],
  ['AudioPlayer.Play', `${D}.audioItem.stream.offsetInMilliseconds`, undefined, `$.${D}.audioItem.stream.offsetInMilliseconds`],
  ['AudioPlayer.Play', `${D}.audioItem.stream.offsetInMilliseconds`, -100, `$.${D}.audioItem.stream.offsetInMilliseconds`],
  ['AudioPlayer.Play', `${D}.audioItem.stream.expiryTime`, 'soon', `$.${D}.audioItem.stream.expiryTime`],
  ['AudioPlayer.Play', `${D}.audioItem.stream.progressReport.progressReportIntervalInMilliseconds`, 'x', `$.${D}.audioItem.stream.progressReport.progressReportIntervalInMilliseconds`],
  ['AudioPlayer.Play.attachment', `${D}.audioItem.stream.streamFormat`, undefined, `$.${D}.audioItem.stream.streamFormat`],
  ['AudioPlayer.Play.attachment', `${D}.audioItem.stream.streamFormat`, 'AUDIO_OGG', `$.${D}.audioItem.stream.streamFormat`],
  ['AudioPlayer.ClearQueue', `${D}.clearBehavior`, 'CLEAR_SOME', `$.${D}.clearBehavior`],
  ['AudioPlayer.ClearQueue', `${D}.clearBehavior`, undefined, `$.${D}.clearBehavior`],
  ['AudioPlayer.PlaybackStarted', `${E}.offsetInMilliseconds`, undefined, `$.${E}.offsetInMilliseconds`],
  ['AudioPlayer.PlaybackStutterFinished', `${E}.stutterDurationInMilliseconds`, undefined, `$.${E}.stutterDurationInMilliseconds`],
  ['AudioPlayer.PlaybackFailed', `${E}.error.type`, 'MEDIA_ERROR_GONE', `$.${E}.error.type`],
  ['AudioPlayer.PlaybackFailed', `${E}.currentPlaybackState`, undefined, `$.${E}.currentPlaybackState`],
  ['AudioPlayer.PlaybackFailed', `${E}.error.message`, undefined, `$.${E}.error.message`],
  ['AudioPlayer.StreamMetadataExtracted', `${E}.metadata.trackNumber`, 3, `$.${E}.metadata.trackNumber`],
  ['AudioPlayer.PlaybackState', 'payload.playerActivity', 'BUFFERING', '$.payload.playerActivity'],
  // §9 PlaybackController
  ['PlaybackController.ButtonCommandIssued', `${E}.name`, 'FASTFORWARD', `$.${E}.name`],
  ['PlaybackController.ToggleCommandIssued', `${E}.action`, 'TOGGLE', `$.${E}.action`],
  ['PlaybackController.ToggleCommandIssued', `${E}.name`, undefined, `$.${E}.name`],
  // §10 Speaker
  ['Speaker.SetVolume', `${D}.volume`, 150, `$.${D}.volume`],
  ['Speaker.SetVolume', `${D}.volume`, -1, `$.${D}.volume`],
  ['Speaker.SetVolume', `${D}.volume`, '50', `$.${D}.volume`],
  ['Speaker.SetVolume', `${D}.volume`, 50.5, `$.${D}.volume`],
  ['Speaker.SetVolume', `${D}.volume`, undefined, `$.${D}.volume`],
  ['Speaker.AdjustVolume', `${D}.volume`, -101, `$.${D}.volume`],
  ['Speaker.AdjustVolume', `${D}.volume`, 101, `$.${D}.volume`],
  ['Speaker.SetMute', `${D}.mute`, 'true', `$.${D}.mute`],
  ['Speaker.SetMute', `${D}.mute`, undefined, `$.${D}.mute`],
  ['Speaker.VolumeChanged', `${E}.muted`, undefined, `$.${E}.muted`],
  ['Speaker.MuteChanged', `${E}.volume`, 1000, `$.${E}.volume`],
  ['Speaker.VolumeState', 'payload.muted', 0, '$.payload.muted'],
  // §11 Settings and System
  ['Settings.SettingsUpdated', `${E}.settings`, [], `$.${E}.settings`],
  ['Settings.SettingsUpdated', `${E}.settings`, [{ key: 'wakeword', value: 'en-US' }], `$.${E}.settings[0].key`],
  ['Settings.SettingsUpdated', `${E}.settings`, [{ key: 'locale', value: 'english' }], `$.${E}.settings[0].value`],
  ['System.UserInactivityReport', `${E}.inactiveTimeInSeconds`, -3600, `$.${E}.inactiveTimeInSeconds`],
  ['System.ExceptionEncountered', `${E}.error.type`, 'OOPS', `$.${E}.error.type`],
  ['System.ExceptionEncountered', `${E}.unparsedDirective`, { directive: {} }, `$.${E}.unparsedDirective`],
  ['System.SoftwareInfo', `${E}.firmwareVersion`, '0', `$.${E}.firmwareVersion`],
  ['System.SoftwareInfo', `${E}.firmwareVersion`, '2147483648', `$.${E}.firmwareVersion`],
  ['System.SoftwareInfo', `${E}.firmwareVersion`, 42, `$.${E}.firmwareVersion`],
  ['System.SetEndpoint', `${D}.endpoint`, undefined, `$.${D}.endpoint`],
  ['System.SetEndpoint', `${D}.endpoint`, 'not a url', `$.${D}.endpoint`],
  ['System.SetEndpoint', `${D}.endpoint`, 'ftp://alexa.eu.gateway.devices.a2z.com', `$.${D}.endpoint`],
  ['System.SetEndpoint', `${D}.endpoint`, '', `$.${D}.endpoint`],
  ['System.Exception', 'payload.code', 5, '$.payload.code'],
  ['System.Exception', 'payload.code', undefined, '$.payload.code'],
  ['System.Exception', 'payload.description', 5, '$.payload.description'],
  ['System.Exception', 'header.messageId', undefined, '$.header.messageId'],
];

describe('invalid messages', () => {
  it.each(invalid)('%s with %s = %j is invalid at %s', (file, path, value, expectedPath) => {
    const r = decodeMessage(mutate(example(file), path, value));
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.error.path).toBe(expectedPath);
    expect(formatDecodeError(r.error)).toMatch(new RegExp(`^${expectedPath.replace(/[$.[\]]/g, '\\$&')}: `));
  });

  it('says what was expected and what came, in one line', () => {
    const r = decodeMessage(mutate(example('Speaker.SetVolume'), 'directive.payload.volume', 150));
    expect(r.kind === 'invalid' && formatDecodeError(r.error)).toBe('$.directive.payload.volume: expected integer 0..100, got 150');
    const missing = decodeMessage(mutate(example('SpeechSynthesizer.Speak'), 'directive.payload.token', undefined));
    expect(missing.kind === 'invalid' && formatDecodeError(missing.error)).toBe('$.directive.payload.token: missing required field (expected string)');
    const badEnum = decodeMessage(mutate(example('AudioPlayer.Play'), 'directive.payload.playBehavior', 'SHUFFLE'));
    expect(badEnum.kind === 'invalid' && formatDecodeError(badEnum.error)).toBe(
      '$.directive.payload.playBehavior: expected "REPLACE_ALL" | "ENQUEUE" | "REPLACE_ENQUEUED", got "SHUFFLE"',
    );
  });

  it('writes an object key made of digits as a key, not an array index', () => {
    const r = decodeMessage(mutate(example('AudioPlayer.StreamMetadataExtracted'), 'event.payload.metadata', { '123': 5 }));
    expect(r.kind === 'invalid' && formatDecodeError(r.error)).toBe('$.event.payload.metadata["123"]: expected string | boolean, got 5');
  });

  it('reports a value that fits no member of a union once, naming the union', () => {
    const r = decodeMessage(mutate(example('System.Exception'), 'payload.description', 5));
    expect(r.kind === 'invalid' && formatDecodeError(r.error)).toBe('$.payload.description: expected string | null, got 5');
  });

  it('says that a message with a messageId needs its wrapper', () => {
    const bare = (example('Speaker.SetVolume') as { directive: unknown }).directive;
    const r = decodeMessage(bare);
    expect(r.kind === 'invalid' && formatDecodeError(r.error)).toMatch(/must be wrapped as \{"directive"/);
  });

  it('keeps the header of an invalid directive for System.ExceptionEncountered (§11.4)', () => {
    const r = decodeDirective(mutate(example('Speaker.SetVolume'), 'directive.payload.volume', 150));
    expect(r.kind === 'invalid' && r.header).toMatchObject({ namespace: 'Speaker', name: 'SetVolume' });
  });

  it.each([null, 42, 'text', [], {}, { header: {} }, { directive: 'x' }, { event: null }])('does not take %j for a message', (doc) => {
    expect(decodeMessage(doc).kind).toBe('invalid');
  });
});

describe('robustness (§2.2)', () => {
  it('accepts unknown extra fields in header and payload, and keeps them', () => {
    const doc = mutate(mutate(example('AudioPlayer.Play'), 'directive.header.instruction', 'new'), 'directive.payload.audioItem.stream.caption', null);
    const r = decodeDirective(doc);
    expect(r.kind).toBe('ok');
    expect(r.kind === 'ok' && r.value).toEqual((doc as { directive: unknown }).directive);
  });

  it('decodes an unknown namespace or name as unsupported, not as a crash', () => {
    const foreign = { directive: { header: { namespace: 'Alexa.Foo', name: 'Bar', messageId: 'm' }, payload: {} } };
    expect(decodeDirective(foreign)).toEqual({ kind: 'unsupported', header: { namespace: 'Alexa.Foo', name: 'Bar', messageId: 'm' } });
    const unknownName = mutate(example('Speaker.SetVolume'), 'directive.header.name', 'SetBass');
    expect(decodeDirective(unknownName).kind).toBe('unsupported');
  });

  it('reads an unknown alert type as ALARM when decoding leniently, and refuses it strictly (§7.3, §16 #3)', () => {
    const doc = mutate(example('Alerts.SetAlert'), 'directive.payload.type', 'WAKEUP_LIGHT');
    expect(decodeDirective(doc).kind).toBe('invalid');
    const r = decodeDirective(doc, { lenient: true });
    expect(r.kind === 'ok' && r.value.payload).toMatchObject({ type: 'ALARM' });
  });

  it('drops unusable alert assets when decoding leniently, so the alarm still rings with the built-in sound (§7.3)', () => {
    const base = example('Alerts.SetAlert.reminder-assets');
    const broken: [string, unknown][] = [
      ['directive.payload.assets', [{ assetId: 'chime', url: 'not a url' }]], // malformed
      ['directive.payload.assetPlayOrder', ['chime', 'nope']], // names an unknown asset
      ['directive.payload.assets', [{ assetId: 'chime', url: 'https://a.example/1.mp3' }, { assetId: 'chime', url: 'https://a.example/2.mp3' }]], // duplicate id
      ['directive.payload.assetPlayOrder', undefined], // assets without an order
      ['directive.payload.backgroundAlertAsset', 'nope'],
    ];
    for (const [path, value] of broken) {
      const r = decodeDirective(mutate(base, path, value), { lenient: true });
      expect(r.kind).toBe('ok');
      if (r.kind !== 'ok') continue;
      expect(r.value.payload).not.toHaveProperty('assets');
      expect(r.value.payload).not.toHaveProperty('assetPlayOrder');
      expect(r.value.payload).toMatchObject({ token: 'r-1', type: 'REMINDER', loopCount: 3 });
    }
    const badLoop = decodeDirective(mutate(base, 'directive.payload.loopCount', 'twice'), { lenient: true });
    expect(badLoop.kind === 'ok' && badLoop.value.payload).toMatchObject({ assets: expect.any(Array) });
    expect(badLoop.kind === 'ok' && badLoop.value.payload).not.toHaveProperty('loopCount');
    const good = decodeDirective(base, { lenient: true });
    expect(good.kind === 'ok' && good.value).toEqual((base as { directive: unknown }).directive);
  });

  it('reads an error body with a code it does not know (§11.3: code is a string)', () => {
    expect(decodeMessage(mutate(example('System.Exception'), 'payload.code', 'SOME_NEW_EXCEPTION')).kind).toBe('ok');
  });

  it('takes a SetEndpoint with or without scheme and port (§1.1, §11.3)', () => {
    for (const endpoint of ['alexa.eu.gateway.devices.a2z.com', 'alexa.eu.gateway.devices.a2z.com:443', 'http://127.0.0.1:8443', 'https://avs-alexa-eu.amazon.com/']) {
      expect(decodeMessage(mutate(example('System.SetEndpoint'), 'directive.payload.endpoint', endpoint)).kind).toBe('ok');
    }
  });

  it('ignores streamFormat next to an http(s) URL (§8.3)', () => {
    expect(decodeMessage(mutate(example('AudioPlayer.Play'), 'directive.payload.audioItem.stream.streamFormat', 'AUDIO_AAC')).kind).toBe('ok');
  });

  it('fills the SDK defaults only when decoding leniently (§16 #6)', () => {
    let doc = mutate(example('AudioPlayer.Play.attachment'), 'directive.payload.playBehavior', undefined);
    doc = mutate(doc, 'directive.payload.audioItem.stream.streamFormat', undefined);
    doc = mutate(doc, 'directive.payload.audioItem.audioItemId', undefined);
    expect(decodeDirective(doc).kind).toBe('invalid');
    const lenient = decodeDirective(doc, { lenient: true });
    expect(lenient.kind === 'ok' && lenient.value.payload).toMatchObject({
      playBehavior: 'ENQUEUE',
      audioItem: { audioItemId: 'anonymous', stream: { streamFormat: 'AUDIO_MPEG' } },
    });
    const clear = decodeDirective(mutate(example('AudioPlayer.ClearQueue'), 'directive.payload.clearBehavior', undefined), { lenient: true });
    expect(clear.kind === 'ok' && clear.value.payload).toEqual({ clearBehavior: 'CLEAR_ENQUEUED' });
    // Lenient is not lax: a wrong value is still wrong.
    expect(decodeDirective(mutate(example('AudioPlayer.Play'), 'directive.payload.playBehavior', 'X'), { lenient: true }).kind).toBe('invalid');
  });

  it('does not change the input it decodes', () => {
    const doc = mutate(example('AudioPlayer.Play.attachment'), 'directive.payload.playBehavior', undefined);
    const before = copyOf(doc);
    decodeDirective(doc, { lenient: true });
    expect(doc).toEqual(before);
  });

  // Found by fuzzing (issue 12): JSON.parse takes any depth, but describing the value that failed
  // overflowed the stack, so a 40 KB directive part threw past the decoder (and the reader gave up
  // on the whole downchannel body).
  it('refuses a message nested deeper than the limit as invalid, without overflowing the stack', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const setVolume = (value: string) => `{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"m-1"},"payload":{"volume":${value}}}}`;
    for (const lenient of [false, true]) {
      const r = decodeDirectiveText(setVolume(deep(20_000)), { lenient });
      expect(r.kind).toBe('invalid');
      expect(r.kind === 'invalid' && formatDecodeError(r.error)).toMatch(/^\$\.directive\.payload\.volume(\[0\])+: nested more than 64 levels deep$/);
      expect(r.kind === 'invalid' && r.header?.messageId).toBe('m-1'); // still answered with its header (§11.4)
      expect(decodeDirectiveText(`{"directive":${deep(20_000)}}`, { lenient }).kind).toBe('invalid');
      // An unknown extra field too: it would reach every machine and store that walks the directive.
      expect(decodeDirectiveText(setVolume(`1,"extra":${deep(20_000)}`), { lenient }).kind).toBe('invalid');
    }
    expect(decodeEvent(JSON.parse(`{"event":${deep(20_000)}}`)).kind).toBe('invalid');
    expect(decodeMessage(JSON.parse(`{"header":{"namespace":"System","name":"Exception"},"payload":${deep(20_000)}}`)).kind).toBe('invalid');
    // Up to the limit, unknown extra fields are still accepted (§2.2).
    let nested: unknown = 1;
    for (let i = 0; i < MAX_DEPTH - 3; i++) nested = [nested];
    expect(decodeDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'm' }, payload: { volume: 1, extra: nested } } }).kind).toBe('ok');
  });

  it('describes a value too deeply nested to print without overflowing the stack', () => {
    let v: unknown = 1;
    for (let i = 0; i < 20_000; i++) v = [v];
    const r = t.number.validate(v, [{ key: '', type: t.number, actual: v }]);
    expect(r._tag === 'Left' && formatDecodeError(toDecodeError(r.left))).toBe('$: expected number, got […]');
  });
});
