// Model-based tests of the Speaker, Settings, System, PlaybackController and focus machines.
import { fromCallback } from 'xstate';
import { focusMachine } from '../../machines/focus/machine';
import { playbackControllerMachine } from '../../machines/playback-controller/machine';
import { settingsMachine } from '../../machines/settings/machine';
import { speakerMachine } from '../../machines/speaker/machine';
import { systemMachine } from '../../machines/system/machine';
import { directiveSample, runModel } from './harness';

describe('model-based: small machines', () => {
  it('speaker (§10)', async () => {
    const f = await runModel('speaker', speakerMachine, {
      input: { volume: 50, muted: false },
      byValue: true,
      events: [
        directiveSample('Speaker.SetVolume'),
        directiveSample('Speaker.AdjustVolume'),
        { ...directiveSample('Speaker.SetMute'), payload: { mute: true } },
        { ...directiveSample('Speaker.SetMute'), payload: { mute: false } },
        { type: 'USER.SET_VOLUME', volume: 30 },
        { type: 'USER.ADJUST_VOLUME', by: -10 },
        { type: 'USER.MUTE' },
        { type: 'USER.UNMUTE' },
      ],
    });
    expect(f.states[0]).toBe(f.states[1]);
  });

  it('settings (§11.1)', async () => {
    const f = await runModel('settings', settingsMachine, {
      // Never confirmed: the first connect reports the locale (the SYNCED → UPDATING on connect).
      input: { locale: 'en-US' },
      byValue: true,
      events: [
        { type: 'USER.SET_LOCALE', locale: 'de-DE' },
        { type: 'SETTINGS.ACCEPTED', locale: 'de-DE' },
        { type: 'SETTINGS.REFUSED', locale: 'de-DE' },
        { type: 'CONNECTION.CONNECTED' },
      ],
    });
    expect(f.states[0]).toBe(f.states[1]);
  });

  it('system (§11)', async () => {
    const machine = systemMachine.provide({ actors: { reportTimer: fromCallback(() => undefined) } });
    const f = await runModel('system', machine, {
      input: { startedAt: 0, firmwareVersion: '7' },
      byValue: true,
      events: [
        directiveSample('System.ResetUserInactivity'),
        directiveSample('System.SetEndpoint'),
        directiveSample('System.ReportSoftwareInfo'),
        { type: 'DIRECTIVE.Exception', payload: { code: 'THROTTLING_EXCEPTION', description: 'slow down' }, messageId: 'x', receivedAt: 0 },
        { type: 'USER.ACTIVITY', at: 1000 },
        { type: 'INACTIVITY.TICK', at: 3_600_000 },
        { type: 'CONNECTION.CONNECTED' },
        { type: 'CONNECTION.LOST' },
        { type: 'EXCEPTION.REPORT', unparsedDirective: '{}', errorType: 'UNSUPPORTED_OPERATION', message: 'Unsupported operation' },
      ],
    });
    expect(f.states[0]).toBe(f.states[1]);
  });

  it('playback controller (§9)', async () => {
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
    });
    expect(f.transitions[0]).toBe(f.transitions[1]);
  });

  it('focus (§4.1)', async () => {
    const events = (['Dialog', 'Alerts', 'Content'] as const).flatMap((channel) => [
      { type: 'FOCUS.ACQUIRE', channel, owner: `${channel}-owner` },
      { type: 'FOCUS.ACQUIRE', channel, owner: 'other' },
      { type: 'FOCUS.RELEASE', channel, owner: `${channel}-owner` },
    ]);
    const f = await runModel('focus', focusMachine, {
      events: [...events, { type: 'FOCUS.STOP_FOREGROUND' }, { type: 'FOCUS.STOP_ALL' }],
      unreachable: {
        // §4.1: Dialog is the strongest channel — nothing can put it in the background.
        'focus.Dialog.NONE ----> focus.Dialog.BACKGROUND': 'Dialog outranks every channel',
        'focus.Dialog.FOREGROUND ----> focus.Dialog.BACKGROUND': 'Dialog outranks every channel',
      },
    });
    expect(f.states[0]).toBe(f.states[1]);
    expect(f.transitions[0]).toBe(f.transitions[1] - 2);
  });
});
