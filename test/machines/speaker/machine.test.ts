// PROTOCOL.md §10: Speaker directives and local controls → volume/mute, events, output, context.
import { createActor } from 'xstate';
import { decodeEvent, buildEvent } from '../../../machines/catalog';
import { speakerContext, speakerMachine, type SpeakerEmitted, type SpeakerEvent, type SpeakerInput } from '../../../machines/speaker/machine';

function speaker(input: SpeakerInput = {}) {
  const actor = createActor(speakerMachine, { input });
  const emitted: SpeakerEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const send = (e: SpeakerEvent) => {
    emitted.length = 0;
    actor.send(e);
    return [...emitted];
  };
  const state = () => speakerContext(actor.getSnapshot()).payload;
  return { actor, send, state };
}

describe('speaker machine', () => {
  it('starts with the persisted volume and mute state', () => {
    expect(speaker().state()).toEqual({ volume: 50, muted: false });
    expect(speaker({ volume: 30, muted: true }).state()).toEqual({ volume: 30, muted: true });
  });

  it('SetVolume: sets it, drives the output, sends VolumeChanged (§10.2, §10.3)', () => {
    const s = speaker();
    expect(s.send({ type: 'DIRECTIVE.SetVolume', payload: { volume: 40 }, messageId: 'm', receivedAt: 0 })).toEqual([
      { type: 'OUTPUT.VOLUME', volume: 40, muted: false },
      { type: 'AVS.EVENT', namespace: 'Speaker', name: 'VolumeChanged', payload: { volume: 40, muted: false } },
    ]);
    expect(s.state()).toEqual({ volume: 40, muted: false });
  });

  it('AdjustVolume: relative, clamped into 0..100', () => {
    const s = speaker({ volume: 95 });
    s.send({ type: 'DIRECTIVE.AdjustVolume', payload: { volume: 10 }, messageId: 'm', receivedAt: 0 });
    expect(s.state().volume).toBe(100);
    s.send({ type: 'DIRECTIVE.AdjustVolume', payload: { volume: -100 }, messageId: 'm', receivedAt: 0 });
    expect(s.state().volume).toBe(0);
    s.send({ type: 'DIRECTIVE.AdjustVolume', payload: { volume: 35 }, messageId: 'm', receivedAt: 0 });
    expect(s.state().volume).toBe(35);
  });

  it('SetMute: mutes and unmutes without touching the volume, with MuteChanged', () => {
    const s = speaker({ volume: 20 });
    expect(s.send({ type: 'DIRECTIVE.SetMute', payload: { mute: true }, messageId: 'm', receivedAt: 0 })).toEqual([
      { type: 'OUTPUT.VOLUME', volume: 20, muted: true },
      { type: 'AVS.EVENT', namespace: 'Speaker', name: 'MuteChanged', payload: { volume: 20, muted: true } },
    ]);
    expect(s.state()).toEqual({ volume: 20, muted: true });
    expect(s.send({ type: 'DIRECTIVE.SetMute', payload: { mute: false }, messageId: 'm', receivedAt: 0 }).at(-1)).toMatchObject({ name: 'MuteChanged', payload: { muted: false } });
    // Asked for the state it is already in: nothing changes, AVS still hears where it stands.
    expect(s.send({ type: 'DIRECTIVE.SetMute', payload: { mute: false }, messageId: 'm', receivedAt: 0 })).toEqual([
      { type: 'AVS.EVENT', namespace: 'Speaker', name: 'MuteChanged', payload: { volume: 20, muted: false } },
    ]);
  });

  it('a volume change while muted unmutes, and only VolumeChanged tells it (§10.2, SDK)', () => {
    const s = speaker({ volume: 20, muted: true });
    const out = s.send({ type: 'DIRECTIVE.AdjustVolume', payload: { volume: 5 }, messageId: 'm', receivedAt: 0 });
    expect(out.filter((e) => e.type === 'AVS.EVENT')).toEqual([
      { type: 'AVS.EVENT', namespace: 'Speaker', name: 'VolumeChanged', payload: { volume: 25, muted: false } },
    ]);
    expect(s.state()).toEqual({ volume: 25, muted: false });
  });

  it('reports local changes from the device controls too (§10.3)', () => {
    const s = speaker({ volume: 50 });
    expect(s.send({ type: 'USER.ADJUST_VOLUME', by: -10 }).at(-1)).toMatchObject({ name: 'VolumeChanged', payload: { volume: 40 } });
    expect(s.send({ type: 'USER.SET_VOLUME', volume: 70 }).at(-1)).toMatchObject({ name: 'VolumeChanged', payload: { volume: 70 } });
    expect(s.send({ type: 'USER.MUTE' }).at(-1)).toMatchObject({ name: 'MuteChanged', payload: { muted: true } });
    expect(s.send({ type: 'USER.UNMUTE' }).at(-1)).toMatchObject({ name: 'MuteChanged', payload: { muted: false } });
  });

  it('emits events and context the codecs accept', () => {
    const s = speaker({ volume: 7 });
    for (const e of s.send({ type: 'DIRECTIVE.SetVolume', payload: { volume: 100 }, messageId: 'm', receivedAt: 0 })) {
      if (e.type !== 'AVS.EVENT') continue;
      expect(decodeEvent(buildEvent(e.namespace, e.name, e.payload)).kind).toBe('ok');
    }
    const ctx = buildEvent('System', 'SynchronizeState', {}, { context: [speakerContext(s.actor.getSnapshot())] });
    expect(decodeEvent(ctx).kind).toBe('ok');
  });
});
