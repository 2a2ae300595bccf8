// PROTOCOL.md §11.1: the Settings machine (locale).
import { createActor } from 'xstate';
import { localeOf, settingsMachine, type SettingsEmitted, type SettingsEvent, type SettingsInput } from '../../../machines/settings/machine';

function settings(input: SettingsInput = { locale: 'en-US', confirmed: 'en-US' }) {
  const actor = createActor(settingsMachine, { input });
  const emitted: SettingsEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const send = (e: SettingsEvent) => {
    emitted.length = 0;
    actor.send(e);
    return [...emitted];
  };
  return { actor, send, locale: () => localeOf(actor.getSnapshot()), state: () => actor.getSnapshot().value };
}

const updated = (value: string) => ({ type: 'AVS.EVENT', namespace: 'Settings', name: 'SettingsUpdated', payload: { settings: [{ key: 'locale', value }] } });

describe('settings machine', () => {
  it('a local change is persisted and reported with SettingsUpdated (§11.1)', () => {
    const s = settings();
    expect(s.send({ type: 'USER.SET_LOCALE', locale: 'de-DE' })).toEqual([{ type: 'SETTINGS.PERSIST', locale: 'de-DE', confirmed: 'en-US' }, updated('de-DE')]);
    expect(s.locale()).toBe('de-DE');
    expect(s.state()).toBe('UPDATING');
    expect(s.send({ type: 'SETTINGS.ACCEPTED', locale: 'de-DE' })).toEqual([{ type: 'SETTINGS.PERSIST', locale: 'de-DE', confirmed: 'de-DE' }]);
    expect(s.state()).toBe('SYNCED');
  });

  it('keeps the previous locale when AVS refuses the change (§11.1)', () => {
    const s = settings();
    s.send({ type: 'USER.SET_LOCALE', locale: 'xx-YY' });
    expect(s.send({ type: 'SETTINGS.REFUSED', locale: 'xx-YY' })).toEqual([{ type: 'SETTINGS.PERSIST', locale: 'en-US', confirmed: 'en-US' }]);
    expect(s.locale()).toBe('en-US');
    expect(s.state()).toBe('SYNCED');
  });

  it('ignores a value that is not a locale tag, and a change to the same locale', () => {
    const s = settings();
    expect(s.send({ type: 'USER.SET_LOCALE', locale: 'english' })).toEqual([]);
    expect(s.send({ type: 'USER.SET_LOCALE', locale: 'en-US' })).toEqual([]);
    expect(s.state()).toBe('SYNCED');
  });

  it('a newer change wins over the answer to an older one', () => {
    const s = settings();
    s.send({ type: 'USER.SET_LOCALE', locale: 'de-DE' });
    s.send({ type: 'USER.SET_LOCALE', locale: 'fr-FR' });
    expect(s.send({ type: 'SETTINGS.ACCEPTED', locale: 'de-DE' })).toEqual([{ type: 'SETTINGS.PERSIST', locale: 'fr-FR', confirmed: 'de-DE' }]);
    expect(s.state()).toBe('UPDATING');
    s.send({ type: 'SETTINGS.REFUSED', locale: 'fr-FR' });
    expect(s.locale()).toBe('de-DE');
  });

  it('tells AVS its locale after connecting when AVS never accepted it', () => {
    const fresh = settings({ locale: 'en-GB' });
    expect(fresh.send({ type: 'CONNECTION.CONNECTED' })).toEqual([updated('en-GB')]);
    fresh.send({ type: 'SETTINGS.ACCEPTED', locale: 'en-GB' });
    expect(fresh.send({ type: 'CONNECTION.CONNECTED' })).toEqual([]);
  });

  it('a change AVS refuses after a restart falls back to the locale AVS last accepted (§11.1)', () => {
    const s = settings({ locale: 'xx-YY', confirmed: 'en-US' });
    s.send({ type: 'CONNECTION.CONNECTED' });
    s.send({ type: 'SETTINGS.REFUSED', locale: 'xx-YY' });
    expect(s.locale()).toBe('en-US');
    expect(s.send({ type: 'CONNECTION.CONNECTED' })).toEqual([]);
  });
});
