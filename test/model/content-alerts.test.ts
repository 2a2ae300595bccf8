// Model-based tests of music and alerts: the AudioPlayer (§8), the Alerts machine (§7) with its
// real alert children, and one alert alone (its reports to the Alerts machine recorded by the
// host), with recording fakes for the stream, the clock driver and the sound.
import { assign } from 'xstate';
import { alertMachine } from '../../machines/alerts/alert';
import { alertsMachine } from '../../machines/alerts/machine';
import { audioPlayerMachine } from '../../machines/audio-player/machine';
import { directiveSample, expectComplete, runModel, type SampleEvent, type Step } from './harness';

const focus = (channel: string) => (['FOREGROUND', 'BACKGROUND', 'NONE'] as const).map((f) => ({ type: 'FOCUS.CHANGED', channel, focus: f }));
const focusRequests = (step: Step) => step.drivers.told('focus').map((e) => `${e.type.replace('FOCUS.', '')} ${String(e.channel)}`);
const avsNames = (step: Step) => step.avs.map((e) => e.name);
const top = (value: unknown) => (typeof value === 'string' ? value : Object.keys(value as object)[0]);

describe('model-based: music and alerts', () => {
  it('audio player (§8): one stream at a time, started only in the foreground, every event with its item', async () => {
    const play = directiveSample('AudioPlayer.Play');
    const payload = play.payload as { audioItem: { stream: Record<string, unknown> } };
    const withStream = (behavior: string, stream: Record<string, unknown>) => ({
      ...play,
      payload: { ...payload, playBehavior: behavior, audioItem: { ...payload.audioItem, stream: { ...payload.audioItem.stream, ...stream } } },
    });
    const unreachable = {
      // Nothing leads back to IDLE, and FINISHED moves on at once while anything is queued: an
      // inactive player with a queue is only ever STOPPED, so "enqueue behind what waits" happens there.
      'audioPlayer.IDLE --DIRECTIVE.Play #5--> ': 'IDLE never has a queue',
      'audioPlayer.FINISHED --DIRECTIVE.Play #5--> ': 'FINISHED never rests with a queue',
    };
    const f = await runModel('audioPlayer', audioPlayerMachine, {
      unreachable,
      // §4.2: 1.0 pauses in the background; a ducking product plays on, quieter.
      inputs: [{ interruptedBehavior: 'PAUSE' }, { interruptedBehavior: 'ATTENUATE' }],
      byValue: true,
      // What waits in the queue decides where an ending item goes (§8.7).
      summary: (s) => [Math.min(1, (s.context.queue as unknown[]).length), s.context.interruptedBehavior, s.context.attenuated],
      drivers: ['playStream'],
      events: [
        withStream('REPLACE_ALL', { token: 'one' }),
        withStream('ENQUEUE', { token: 'two', expectedPreviousToken: undefined }),
        withStream('ENQUEUE', { token: 'three', expectedPreviousToken: 'not-the-last-one' }),
        withStream('REPLACE_ENQUEUED', { token: 'four' }),
        directiveSample('AudioPlayer.Stop'),
        { ...directiveSample('AudioPlayer.ClearQueue'), payload: { clearBehavior: 'CLEAR_ENQUEUED' } },
        { ...directiveSample('AudioPlayer.ClearQueue'), payload: { clearBehavior: 'CLEAR_ALL' } },
        ...focus('Content'),
        { type: 'PLAYBACK.STARTED' },
        { type: 'PLAYBACK.PROGRESS', offsetMs: 1500 },
        { type: 'PLAYBACK.BUFFERED' },
        { type: 'PLAYBACK.UNDERRUN' },
        { type: 'PLAYBACK.RECOVERED', durationMs: 300 },
        { type: 'PLAYBACK.METADATA', metadata: { title: 'Song' } },
        { type: 'PLAYBACK.FINISHED', offsetMs: 3000 },
        { type: 'PLAYBACK.FAILED', errorType: 'MEDIA_ERROR_INVALID_REQUEST', message: 'HTTP 404' },
      ],
      check: (step) => {
        const ctx = step.after.context as { current?: { token: string }; token: string; queue: { token: string }[]; attenuated: boolean };
        const activity = top(step.after.value);
        // One stream at most, and none once nothing is under way.
        expect(step.drivers.count('playStream')).toBeLessThanOrEqual(1);
        if (['IDLE', 'FINISHED', 'STOPPED'].includes(activity ?? '') || step.after.matches({ PLAYING: 'WAITING_FOR_FOCUS' })) expect(step.drivers.count('playStream')).toBe(0);
        // §8.3: a stream starts only on the foreground, with the item that is current.
        for (const input of step.drivers.startedWith('playStream')) {
          expect(step.event).toMatchObject({ type: 'FOCUS.CHANGED', focus: 'FOREGROUND' });
          expect(input).toEqual({ item: ctx.current });
        }
        // Every §8.6 event names the item it is about.
        for (const e of step.avs) if (e.name !== 'PlaybackQueueCleared') expect((e.payload as { token: string }).token).toBe(step.before.context.current?.token ?? ctx.token);
        // §8.6: PlaybackStarted once per item; Stopped only for an item that had started.
        const started = new Map<string, number>();
        for (const e of step.allEmitted.filter((x) => x.type === 'AVS.EVENT') as unknown as { name: string; payload: { token: string } }[]) {
          if (e.name === 'PlaybackStarted') started.set(e.payload.token, (started.get(e.payload.token) ?? 0) + 1);
        }
        if (avsNames(step).includes('PlaybackStarted')) expect(step.before.context.startedReported).toBe(false);
        if (avsNames(step).includes('PlaybackStopped')) expect(step.before.context.startedReported).toBe(true);
        // §4.2: background pauses the stream (PlaybackPaused) or, ducking, attenuates it; the foreground resumes.
        if (step.event.type === 'FOCUS.CHANGED' && step.before.matches({ PLAYING: 'STREAMING' })) {
          if (step.event.focus === 'BACKGROUND' && ctx.attenuated) expect(step.drivers.told('playStream')).toEqual([{ type: 'ATTENUATE' }]);
          if (step.event.focus === 'BACKGROUND' && !ctx.attenuated) {
            expect(step.drivers.told('playStream')).toEqual([{ type: 'PAUSE' }]);
            expect(avsNames(step)).toEqual(['PlaybackPaused']);
          }
        }
        if (step.before.matches('PAUSED') && step.after.matches({ PLAYING: 'STREAMING' })) {
          expect(step.drivers.told('playStream')).toEqual([{ type: 'RESUME' }]);
          expect(avsNames(step)).toEqual(['PlaybackResumed']);
        }
        // §8.3: PLAYING waits for the Content channel; STOPPED gives it back (§8.7 FINISHED when nothing follows).
        if (step.after.matches({ PLAYING: 'WAITING_FOR_FOCUS' }) && !step.before.matches({ PLAYING: 'WAITING_FOR_FOCUS' })) expect(focusRequests(step)).toContain('ACQUIRE Content');
        if (step.after.matches('STOPPED') && !step.before.matches('STOPPED')) expect(focusRequests(step)).toEqual(['RELEASE Content']);
        // §8.3: an ENQUEUE whose expectedPreviousToken does not follow is ignored silently.
        if (step.event.type === 'DIRECTIVE.Play' && (step.event.payload as { audioItem: { stream: { token: string } } }).audioItem.stream.token === 'three') {
          expect(step.emitted).toEqual([]);
          expect(step.after.value).toEqual(step.before.value);
        }
        // §8.5: ClearQueue is always answered PlaybackQueueCleared, and leaves the queue empty.
        if (step.event.type === 'DIRECTIVE.ClearQueue') {
          expect(avsNames(step)).toContain('PlaybackQueueCleared');
          expect(ctx.queue).toEqual([]);
        }
        // §8.7: focus NONE stops and clears the queue.
        if (step.event.type === 'FOCUS.CHANGED' && step.event.focus === 'NONE' && ['PLAYING', 'PAUSED', 'BUFFER_UNDERRUN'].includes(top(step.before.value) ?? '') && !step.before.matches({ PLAYING: 'WAITING_FOR_FOCUS' })) {
          expect(step.after.value).toBe('STOPPED');
          expect(ctx.queue).toEqual([]);
        }
      },
    });
    expectComplete(f, unreachable);
  });

  it('alerts (§7): stored before reported, one sounding at a time on the Alerts channel, each ended with AlertStopped', async () => {
    const set = directiveSample('Alerts.SetAlert');
    const setPayload = set.payload as { token: string; scheduledTime: string };
    const at = Date.parse(setPayload.scheduledTime);
    const setA = { ...set, messageId: 'set-a', payload: { ...setPayload, token: 'A' }, receivedAt: at };
    const setB = { ...set, messageId: 'set-b', payload: { ...setPayload, token: 'B' }, receivedAt: at };
    const tooLate = { ...set, messageId: 'set-late', payload: { ...setPayload, token: 'late' }, receivedAt: at + 31 * 60_000 };
    const del = (token: string) => ({ ...directiveSample('Alerts.DeleteAlert'), messageId: `delete-${token}`, payload: { token } });
    const kept = { token: 'K', type: 'TIMER', scheduledTime: setPayload.scheduledTime, scheduledAt: at, details: {}, active: false };
    // The alerts' own children are the real alert machine (alone, it never comes due: ALERT.BECAME_DUE is sent for it).
    const f = await runModel('alerts', alertsMachine, {
      byValue: true,
      // Which alerts exist, which is sounding and which wait their turn.
      summary: (s) => [Object.keys(s.context.alerts).sort(), s.context.active, s.context.due],
      events: [
        setA,
        setB,
        tooLate,
        del('A'),
        { type: 'USER.STOP' },
        { type: 'ALERT.BECAME_DUE', token: 'A' },
        { type: 'ALERT.BECAME_DUE', token: 'B' },
        { type: 'ALERT.ENDED', token: 'A', reason: 'loops done' },
        { type: 'SETALERT.INVALID', token: 'bad' },
        // §7.6 on boot: one kept alert, and one more than 30 minutes overdue (dropped, AlertStopped).
        { type: 'ALERTS.LOAD', alerts: [kept, { ...kept, token: 'old', scheduledAt: at - 3600_000 }], now: at },
        { type: 'ALERT.REPORT', event: { type: 'AVS.EVENT', namespace: 'Alerts', name: 'AlertStarted', payload: { token: 'A' } } },
        ...focus('Alerts'),
      ],
      check: (step) => {
        const ctx = step.after.context as { alerts: Record<string, { ref: { getSnapshot(): { status: string } } }>; active?: string; due: string[] };
        const types = step.emitted.map((e) => (e.type === 'AVS.EVENT' ? String(e.name) : e.type));
        // ALERTING exactly while one alert is sounding (§7.1), and it is one of the stored ones.
        expect(step.after.matches('ALERTING')).toBe(ctx.active !== undefined);
        if (ctx.active !== undefined) expect(ctx.alerts[ctx.active]).toBeDefined();
        for (const t of ctx.due) expect(ctx.alerts[t]).toBeDefined();
        // Every stored alert has its live child; a deleted one's child is gone.
        for (const entry of Object.values(ctx.alerts)) expect(entry.ref.getSnapshot().status).toBe('active');
        // §7.3: each SetAlert answered once; stored (ALERTS.PUT) before SetAlertSucceeded.
        if (step.event.type === 'DIRECTIVE.SetAlert') {
          const token = (step.event.payload as { token: string }).token;
          const ok = token !== 'late';
          expect(types.filter((t) => t.startsWith('SetAlert'))).toEqual([ok ? 'SetAlertSucceeded' : 'SetAlertFailed']);
          if (ok) {
            expect(types.indexOf('ALERTS.PUT')).toBeGreaterThanOrEqual(0);
            expect(types.indexOf('ALERTS.PUT')).toBeLessThan(types.indexOf('SetAlertSucceeded'));
            expect(ctx.alerts[token]).toBeDefined();
          }
        }
        // §7.4: DeleteAlertSucceeded always; a sounding alert is stopped first; the store forgets it before AVS hears.
        if (step.event.type === 'DIRECTIVE.DeleteAlert') {
          const token = (step.event.payload as { token: string }).token;
          expect(types.filter((t) => t.startsWith('DeleteAlert'))).toEqual(['DeleteAlertSucceeded']);
          if (step.before.context.active === token) expect(types.indexOf('AlertStopped')).toBeLessThan(types.indexOf('DeleteAlertSucceeded'));
          if (step.before.context.alerts[token]) expect(types.indexOf('ALERTS.DELETE')).toBeLessThan(types.indexOf('DeleteAlertSucceeded'));
          expect(ctx.alerts[token]).toBeUndefined();
        }
        // The sounding alert ended: AlertStopped for it, and the channel is given back unless another waits.
        if (step.before.context.active !== undefined && step.before.context.active !== ctx.active) {
          expect(step.avs.filter((e) => e.name === 'AlertStopped').map((e) => (e.payload as { token: string }).token)).toContain(step.before.context.active);
          if (ctx.due.length === 0 && ctx.active === undefined) expect(focusRequests(step)).toContain('RELEASE Alerts');
        }
        // §7.6: a new sounding alert takes the Alerts channel, its state persisted first.
        if (ctx.active !== undefined && ctx.active !== step.before.context.active) {
          expect(focusRequests(step)).toContain('ACQUIRE Alerts');
          expect(step.emitted).toContainEqual({ type: 'ALERTS.ACTIVE', token: ctx.active, active: true });
        }
        // §4.2: the channel's news reaches the sounding alert only.
        if (step.event.type === 'FOCUS.CHANGED' && ctx.active === undefined) expect(step.emitted).toEqual([]);
        // §7.6: more than 30 minutes overdue on boot: dropped with AlertStopped, and forgotten.
        if (step.event.type === 'ALERTS.LOAD' && !step.before.context.alerts.old) {
          expect(step.emitted.filter((e) => e.type === 'ALERTS.DELETE' || e.type === 'AVS.EVENT')).toEqual([
            { type: 'ALERTS.DELETE', token: 'old' },
            expect.objectContaining({ name: 'AlertStopped', payload: { token: 'old' } }),
          ]);
          expect(ctx.alerts.K).toBeDefined();
        }
      },
    });
    expectComplete(f);
  });

  it('one alert (§7.5, §7.6): due, then sounding in the foreground or the background, reported to the Alerts machine', async () => {
    const input = { token: 'T', type: 'ALARM', scheduledTime: '2026-11-26T07:00:00+0000', scheduledAt: Date.parse('2026-11-26T07:00:00Z'), loopCount: 2 };
    const f = await runModel('alert', alertMachine, {
      input,
      byValue: true,
      // Whether AlertStarted has gone decides what a focus change reports.
      summary: (s) => s.context.started,
      drivers: ['waitUntil', 'render'],
      systemId: 'alert:T',
      // Traversed without its reports (sendParent needs a parent, which the graph walk has not);
      // the real runs are hosted, so every report is checked below.
      traversal: alertMachine.provide({
        actions: { becameDue: () => undefined, ended: () => undefined, entered: () => undefined, soundStarted: assign({ started: true }) },
      }),
      events: [
        { type: 'ALERT.DUE' },
        { type: 'ALERT.ACTIVATE' },
        { type: 'ALERT.SILENCE' },
        { type: 'ALERT.RESCHEDULE', scheduledTime: '2026-11-26T07:09:00+0000', scheduledAt: Date.parse('2026-11-26T07:09:00Z') },
        ...focus('Alerts'),
        { type: 'RENDER.STARTED' },
        { type: 'RENDER.FINISHED' },
        { type: 'RENDER.FAILED', message: 'no sound card' },
      ],
      check: (step) => {
        const ctx = step.after.context as { scheduledAt: number; started: boolean };
        const reports = step.toParent.map((r) => (r.type === 'ALERT.REPORT' ? String((r.event as SampleEvent).name) : r.type));
        // It waits on the clock driver exactly while SET, for its own time.
        expect(step.drivers.count('waitUntil')).toBe(step.after.matches('SET') ? 1 : 0);
        for (const i of step.drivers.startedWith('waitUntil')) expect(i).toEqual({ at: ctx.scheduledAt, token: 'T' });
        // Its sound plays exactly while ACTIVE, with its loop count; each focus answer sets the sound's mode.
        expect(step.drivers.count('render')).toBe(step.after.matches('ACTIVE') ? 1 : 0);
        for (const i of step.drivers.startedWith('render')) expect(i).toEqual({ type: 'ALARM', loopCount: 2, loopPauseMs: undefined });
        if (step.after.matches({ ACTIVE: 'FOREGROUND' }) && !step.before.matches({ ACTIVE: 'FOREGROUND' })) expect(step.drivers.told('render')).toEqual([{ type: 'SOUND', mode: 'foreground' }]);
        if (step.after.matches({ ACTIVE: 'BACKGROUND' }) && !step.before.matches({ ACTIVE: 'BACKGROUND' })) expect(step.drivers.told('render')).toEqual([{ type: 'SOUND', mode: 'background' }]);
        // It tells the Alerts machine it came due, once, on becoming DUE.
        expect(reports.filter((r) => r === 'ALERT.BECAME_DUE')).toHaveLength(step.after.matches('DUE') && !step.before.matches('DUE') ? 1 : 0);
        // §7.6: AlertStarted once its sound really started, once per scheduling; then, if it started under speech, AlertEnteredBackground.
        if (reports.includes('AlertStarted')) {
          expect(step.event.type).toBe('RENDER.STARTED');
          expect(step.before.context.started).toBe(false);
          expect(reports).toEqual(step.after.matches({ ACTIVE: 'BACKGROUND' }) ? ['AlertStarted', 'AlertEnteredBackground'] : ['AlertStarted']);
        }
        // §7.5: foreground/background changes are reported only after AlertStarted.
        if (reports.includes('AlertEnteredForeground') || (reports.includes('AlertEnteredBackground') && !reports.includes('AlertStarted'))) expect(step.before.context.started).toBe(true);
        // Stopping by itself (time up, loops done, sound failed, channel taken) is reported; being silenced is not (the Alerts machine did it).
        if (step.after.matches('STOPPED') && !step.before.matches('STOPPED')) {
          expect(reports.filter((r) => r === 'ALERT.ENDED')).toHaveLength(step.event.type === 'ALERT.SILENCE' ? 0 : 1);
        }
      },
    });
    expectComplete(f);
  });
});
