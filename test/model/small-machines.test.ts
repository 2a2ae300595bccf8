// Model-based tests of the Speaker, Settings, System, PlaybackController and focus machines: every
// path of each machine's graph run against the machine itself, with the rules of its PROTOCOL.md
// section checked after every step.
import { CHANNELS, focusMachine, type Channel, type Focus, type Owners } from '../../machines/focus/machine';
import { playbackControllerMachine } from '../../machines/playback-controller/machine';
import { settingsMachine } from '../../machines/settings/machine';
import { speakerMachine } from '../../machines/speaker/machine';
import { systemMachine } from '../../machines/system/machine';
import { directiveSample, expectComplete, runModel, type Step } from './harness';

const names = (step: Step) => step.avs.map((e) => `${e.namespace}.${e.name}`);

describe('model-based: small machines', () => {
  it('speaker (§10): every change drives the output and is reported, the volume stays in 0..100', async () => {
    const f = await runModel('speaker', speakerMachine, {
      // As persisted: audible, or muted.
      inputs: [{ volume: 50, muted: false }, { volume: 20, muted: true }],
      byValue: true,
      events: [
        directiveSample('Speaker.SetVolume'),
        { ...directiveSample('Speaker.SetVolume'), payload: { volume: 100 } },
        directiveSample('Speaker.AdjustVolume'),
        { ...directiveSample('Speaker.AdjustVolume'), payload: { volume: -100 } },
        { ...directiveSample('Speaker.SetMute'), payload: { mute: true } },
        { ...directiveSample('Speaker.SetMute'), payload: { mute: false } },
        { type: 'USER.SET_VOLUME', volume: 130 },
        { type: 'USER.ADJUST_VOLUME', by: -10 },
        { type: 'USER.MUTE' },
        { type: 'USER.UNMUTE' },
      ],
      check: (step) => {
        const { volume } = step.after.context as { volume: number };
        const muted = step.after.matches('MUTED');
        expect(Number.isInteger(volume) && volume >= 0 && volume <= 100).toBe(true);
        // §10.2: AVS asked, so it hears the state — one event per directive, carrying the result.
        if (step.event.type.startsWith('DIRECTIVE.')) expect(step.avs).toHaveLength(1);
        for (const e of step.avs) expect(e.payload).toEqual({ volume, muted });
        // The output driver hears every change, and hears the state the machine is in.
        const output = step.emitted.filter((e) => e.type === 'OUTPUT.VOLUME');
        if (step.event.type.includes('Volume') || step.event.type.includes('VOLUME')) expect(output).toEqual([{ type: 'OUTPUT.VOLUME', volume, muted: false }]);
        for (const o of output) expect(o).toEqual({ type: 'OUTPUT.VOLUME', volume, muted });
        if (step.before.matches('MUTED') !== muted && step.index > 0) expect(output).toHaveLength(1);
      },
    });
    expectComplete(f);
  });

  it('settings (§11.1): a change is persisted and reported, a refusal restores the previous locale', async () => {
    const f = await runModel('settings', settingsMachine, {
      // Never confirmed: the first connect reports the locale (the SYNCED → UPDATING on connect).
      input: { locale: 'en-US' },
      byValue: true,
      events: [
        { type: 'USER.SET_LOCALE', locale: 'de-DE' },
        { type: 'USER.SET_LOCALE', locale: 'not a locale' },
        { type: 'SETTINGS.ACCEPTED', locale: 'de-DE' },
        { type: 'SETTINGS.ACCEPTED', locale: 'en-US' },
        { type: 'SETTINGS.REFUSED', locale: 'de-DE' },
        { type: 'CONNECTION.CONNECTED' },
      ],
      check: (step) => {
        const { locale, confirmed } = step.after.context as { locale: string; confirmed?: string };
        expect(['en-US', 'de-DE']).toContain(locale);
        // §11.1: each report names the locale in use.
        for (const e of step.avs) expect(e.payload).toEqual({ settings: [{ key: 'locale', value: locale }] });
        if (step.event.type === 'USER.SET_LOCALE' && step.event.locale !== (step.before.context as { locale: string }).locale && step.event.locale === 'de-DE') {
          expect(names(step)).toEqual(['Settings.SettingsUpdated']);
          expect(step.emitted.find((e) => e.type === 'SETTINGS.PERSIST')).toEqual({ type: 'SETTINGS.PERSIST', locale: 'de-DE', confirmed });
        }
        if (step.event.type === 'USER.SET_LOCALE' && step.event.locale === 'not a locale') expect(step.emitted).toEqual([]);
        // What the runtime persists is what the machine holds.
        for (const p of step.emitted.filter((e) => e.type === 'SETTINGS.PERSIST')) expect(p).toEqual({ type: 'SETTINGS.PERSIST', locale, confirmed });
        // A refusal of the change that waits puts the previous locale back.
        if (step.event.type === 'SETTINGS.REFUSED' && step.before.matches('UPDATING') && (step.before.context as { locale: string }).locale === 'de-DE') expect(locale).toBe('en-US');
        if (step.after.matches('UPDATING') && !step.before.matches('UPDATING')) expect(names(step)).toEqual(['Settings.SettingsUpdated']);
      },
    });
    expectComplete(f);
  });

  it('system (§11): inactivity in whole hours, exceptions surfaced, SoftwareInfo on connect', async () => {
    const f = await runModel('system', systemMachine, {
      // With a firmware version to report, and without one (§11.3: then no SoftwareInfo at all).
      inputs: [{ startedAt: 0, firmwareVersion: '7' }, { startedAt: 0 }],
      byValue: true,
      drivers: ['reportTimer'],
      events: [
        { ...directiveSample('System.ResetUserInactivity'), receivedAt: 7_200_000 },
        directiveSample('System.SetEndpoint'),
        directiveSample('System.ReportSoftwareInfo'),
        { type: 'DIRECTIVE.Exception', payload: { code: 'THROTTLING_EXCEPTION', description: 'slow down' }, messageId: 'x', receivedAt: 0 },
        { type: 'USER.ACTIVITY', at: 1000 },
        { type: 'INACTIVITY.TICK', at: 3_600_000 * 5 + 1000 },
        { type: 'CONNECTION.CONNECTED' },
        { type: 'CONNECTION.LOST' },
        { type: 'EXCEPTION.REPORT', unparsedDirective: '{}', errorType: 'UNSUPPORTED_OPERATION', message: 'Unsupported operation' },
      ],
      check: (step) => {
        // §11.2: one report timer, at the hourly interval, for the machine's whole life.
        expect(step.drivers.running('reportTimer')).toBe(true);
        expect(step.drivers.calls.filter((c) => c.kind === 'start' && c.driver === 'reportTimer')).toEqual([{ driver: 'reportTimer', kind: 'start', input: { intervalMs: 3_600_000 }, step: 0 }]);
        const { lastActivityAt: last, firmwareVersion: firmware } = step.after.context as { lastActivityAt: number; firmwareVersion?: string };
        switch (step.event.type) {
          case 'INACTIVITY.TICK':
            expect(step.avs.map((e) => e.payload)).toEqual([{ inactiveTimeInSeconds: Math.round((Number(step.event.at) - last) / 3_600_000) * 3600 }]);
            break;
          case 'DIRECTIVE.ResetUserInactivity':
            expect(last).toBe(7_200_000);
            expect(step.emitted).toEqual([]);
            break;
          case 'DIRECTIVE.SetEndpoint':
            expect(step.emitted).toEqual([{ type: 'ENDPOINT.SET', endpoint: (directiveSample('System.SetEndpoint').payload as { endpoint: string }).endpoint }]);
            break;
          case 'DIRECTIVE.Exception':
            // §11.3: surfaced, never answered.
            expect(step.avs).toEqual([]);
            expect(step.emitted).toEqual([{ type: 'SYSTEM.EXCEPTION', code: 'THROTTLING_EXCEPTION', description: 'slow down' }]);
            break;
          case 'EXCEPTION.REPORT':
            expect(names(step)).toEqual(['System.ExceptionEncountered']);
            break;
          case 'DIRECTIVE.ReportSoftwareInfo':
            expect(step.avs.map((e) => e.payload)).toEqual(firmware ? [{ firmwareVersion: '7' }] : []);
            break;
          case 'CONNECTION.CONNECTED':
            expect(names(step)).toEqual(step.before.matches('OFFLINE') && firmware ? ['System.SoftwareInfo'] : []);
            break;
          default:
            expect(step.avs).toEqual([]);
        }
      },
    });
    expectComplete(f);
  });

  it('playback controller (§9): every press is one event of its kind, and user activity', async () => {
    const presses: Record<string, string> = {
      'USER.PLAY': 'PlayCommandIssued',
      'USER.PAUSE': 'PauseCommandIssued',
      'USER.NEXT': 'NextCommandIssued',
      'USER.PREVIOUS': 'PreviousCommandIssued',
      'USER.BUTTON': 'ButtonCommandIssued',
      'USER.TOGGLE': 'ToggleCommandIssued',
    };
    const f = await runModel('playbackController', playbackControllerMachine, {
      byValue: true,
      events: [
        { type: 'USER.PLAY' },
        { type: 'USER.PAUSE' },
        { type: 'USER.NEXT' },
        { type: 'USER.PREVIOUS' },
        { type: 'USER.BUTTON', name: 'SKIPFORWARD' },
        { type: 'USER.TOGGLE', name: 'SHUFFLE', selected: true },
      ],
      check: (step) => {
        if (step.index === 0) return;
        expect(names(step)).toEqual([`PlaybackController.${presses[step.event.type]}`]);
        expect(step.emitted.filter((e) => e.type === 'USER.ACTIVITY')).toHaveLength(1);
        if (step.event.type === 'USER.TOGGLE') expect(step.avs[0]?.payload).toEqual({ name: 'SHUFFLE', action: 'SELECT' });
        if (step.event.type === 'USER.BUTTON') expect(step.avs[0]?.payload).toEqual({ name: 'SKIPFORWARD' });
      },
    });
    expectComplete(f);
  });

  it('focus (§4.1): one foreground, the strongest owned channel; every acquirer answered, losers told first', async () => {
    const owners = CHANNELS.map((c) => `${c}-owner`);
    const events = CHANNELS.flatMap((channel) => [
      { type: 'FOCUS.ACQUIRE', channel, owner: `${channel}-owner` },
      { type: 'FOCUS.ACQUIRE', channel, owner: 'other' },
      { type: 'FOCUS.RELEASE', channel, owner: `${channel}-owner` },
    ]);
    const rank: Record<Focus, number> = { NONE: 0, BACKGROUND: 1, FOREGROUND: 2 };
    const f = await runModel('focus', focusMachine, {
      events: [...events, { type: 'FOCUS.STOP_FOREGROUND' }, { type: 'FOCUS.STOP_ALL' }],
      recorders: [...owners, 'other'],
      check: (step) => {
        const held = (step.after.context as { owners: Owners }).owners;
        const value = step.after.value as Record<Channel, Focus>;
        // §4.1: the foreground is the strongest owned channel; every other owned one is background.
        const strongest = CHANNELS.find((c) => held[c] !== undefined);
        for (const c of CHANNELS) expect(value[c]).toBe(held[c] === undefined ? 'NONE' : c === strongest ? 'FOREGROUND' : 'BACKGROUND');
        // Each owner's actor heard exactly what observers heard, in the same order.
        const told = step.drivers.now(undefined, 'receive').map((c) => ({ ...(c.event as { type: string; channel: Channel; focus: Focus }), owner: c.driver }));
        expect(told).toEqual(step.emitted.map((e) => ({ type: e.type, channel: e.channel, focus: e.focus, owner: e.owner })));
        // Losers first: nobody gains audio before everybody who loses it was told.
        const ranks = told.map((t) => rank[t.focus as Focus]);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
        // Every acquire is answered with the acquirer's focus now.
        if (step.event.type === 'FOCUS.ACQUIRE') {
          const { channel, owner } = step.event as unknown as { channel: Channel; owner: string };
          expect(told.filter((t) => t.owner === owner && t.channel === channel).map((t) => t.focus)).toEqual([value[channel]]);
        }
        // The owner a channel was taken from hears NONE.
        const before = (step.before.context as { owners: Owners }).owners;
        for (const c of CHANNELS)
          if (before[c] !== undefined && before[c] !== held[c]) expect(told.filter((t) => t.owner === before[c] && t.channel === c).map((t) => t.focus)).toEqual(['NONE']);
      },
    });
    expectComplete(f);
  });
});
