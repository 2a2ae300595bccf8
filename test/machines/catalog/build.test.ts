import { buildEvent, decodeEvent, EventBuildError, eventNeedsContext, type ContextEntry } from '../../../machines/catalog';

const context: ContextEntry[] = [
  { header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 50, muted: false } },
  { header: { namespace: 'AudioPlayer', name: 'PlaybackState' }, payload: { token: '', offsetInMilliseconds: 0, playerActivity: 'IDLE' } },
];

describe('buildEvent (§2.1)', () => {
  it('makes a valid envelope with a fresh messageId each time', () => {
    const a = buildEvent('Speaker', 'VolumeChanged', { volume: 40, muted: false });
    const b = buildEvent('Speaker', 'VolumeChanged', { volume: 40, muted: false });
    expect(decodeEvent(a).kind).toBe('ok');
    expect(a.event.header.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.event.header.messageId).not.toBe(b.event.header.messageId);
    expect(a).not.toHaveProperty('context');
    expect(a.event.header).not.toHaveProperty('dialogRequestId');
  });

  it('gives Recognize a fresh dialogRequestId (§2.4) or the one it is told to use', () => {
    const payload = { profile: 'NEAR_FIELD', format: 'AUDIO_L16_RATE_16000_CHANNELS_1', initiator: { type: 'TAP', payload: {} } } as const;
    const fresh = buildEvent('SpeechRecognizer', 'Recognize', payload, { context });
    expect(fresh.event.header.dialogRequestId).toMatch(/^[0-9a-f-]{36}$/);
    const given = buildEvent('SpeechRecognizer', 'Recognize', payload, { context, dialogRequestId: 'dlg-7', messageId: 'm-1' });
    expect(given.event.header).toEqual({ namespace: 'SpeechRecognizer', name: 'Recognize', messageId: 'm-1', dialogRequestId: 'dlg-7' });
    expect(given.context).toEqual(context);
  });

  it('requires the context on the events §2.1 lists and refuses it on the others', () => {
    expect(eventNeedsContext('System', 'SynchronizeState')).toBe(true);
    expect(eventNeedsContext('PlaybackController', 'ToggleCommandIssued')).toBe(true);
    expect(eventNeedsContext('Speaker', 'VolumeChanged')).toBe(false);
    expect(() => buildEvent('System', 'SynchronizeState', {})).toThrow(EventBuildError);
    expect(() => buildEvent('Speaker', 'VolumeChanged', { volume: 1, muted: false }, { context })).toThrow(/without context/);
    expect(() => buildEvent('Speaker', 'VolumeChanged', { volume: 1, muted: false }, { dialogRequestId: 'd' })).toThrow(/no dialogRequestId/);
    expect(buildEvent('System', 'SynchronizeState', {}, { context }).context).toEqual(context);
  });

  it('refuses a payload the codecs refuse, naming the field', () => {
    expect(() => buildEvent('Speaker', 'VolumeChanged', { volume: 101, muted: false })).toThrow(
      'Speaker.VolumeChanged: $.event.payload.volume: expected integer 0..100, got 101',
    );
  });
});
