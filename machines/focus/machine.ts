// PROTOCOL.md §4.1: the focus manager — three channels, Dialog > Alerts > Content. Who holds a
// channel is context; each channel's focus is the state value of its own region, derived from the
// owners through `always` guards, so a chart shows exactly who may make sound.
// Owners learn their focus two ways: an emitted FOCUS.CHANGED for runtime observers, and a
// FOCUS.CHANGED sent to the actor registered under the owner's systemId (§4.2: the interface
// machines, siblings under the same root actor, act on it).
import { assign, enqueueActions, setup, type SnapshotFrom } from 'xstate';

/** §4.1: strongest first. */
export const CHANNELS = ['Dialog', 'Alerts', 'Content'] as const;
export type Channel = (typeof CHANNELS)[number];
export type Focus = 'FOREGROUND' | 'BACKGROUND' | 'NONE';

/** Each channel's owner, by the systemId-style name the owner acquired it with. */
export type Owners = { readonly [C in Channel]?: string };

export interface FocusContext {
  owners: Owners;
}

export type FocusEvent =
  /** §4.1: a new owner displaces the channel's old one. */
  | { type: 'FOCUS.ACQUIRE'; channel: Channel; owner: string }
  /** Ignored unless `owner` holds the channel (a late release must not free its successor). */
  | { type: 'FOCUS.RELEASE'; channel: Channel; owner: string }
  /** §4.1 "stop foreground activity" (a local Stop button): frees the foreground channel. */
  | { type: 'FOCUS.STOP_FOREGROUND' }
  /** Frees every channel. */
  | { type: 'FOCUS.STOP_ALL' };

/** What an owner's actor receives (§4.2 says what it does with it). */
export type FocusChangedEvent = { type: 'FOCUS.CHANGED'; channel: Channel; focus: Focus };

/** What runtime observers hear: the same, with the owner it was sent to. */
export type FocusEmitted = { type: 'FOCUS.CHANGED'; channel: Channel; owner: string; focus: Focus };

interface FocusChange {
  readonly channel: Channel;
  readonly owner: string;
  readonly focus: Focus;
}

/** §4.1: foreground is the strongest owned channel; every other owned channel is background. */
function focusIn(owners: Owners, channel: Channel): Focus {
  if (owners[channel] === undefined) return 'NONE';
  const stronger = CHANNELS.slice(0, CHANNELS.indexOf(channel));
  return stronger.some((c) => owners[c] !== undefined) ? 'BACKGROUND' : 'FOREGROUND';
}

function foregroundChannel(owners: Owners): Channel | undefined {
  return CHANNELS.find((c) => owners[c] !== undefined);
}

function without(owners: Owners, channel: Channel): Owners {
  const next = { ...owners };
  delete next[channel];
  return next;
}

/** The owners after a request; the guard on FOCUS.RELEASE has already checked the releaser holds it. */
function nextOwners(owners: Owners, event: FocusEvent): Owners {
  switch (event.type) {
    case 'FOCUS.ACQUIRE':
      return { ...owners, [event.channel]: event.owner };
    case 'FOCUS.RELEASE':
      return without(owners, event.channel);
    case 'FOCUS.STOP_FOREGROUND': {
      const channel = foregroundChannel(owners);
      return channel === undefined ? owners : without(owners, channel);
    }
    case 'FOCUS.STOP_ALL':
      return {};
  }
}

// Losing audio is told before gaining it, so two owners never play at once: stops first, then
// ducking/pausing, then the one taking the foreground.
const ORDER: Record<Focus, number> = { NONE: 0, BACKGROUND: 1, FOREGROUND: 2 };

/**
 * Every owner whose focus differs between the two ownerships; a displaced owner hears NONE. An
 * acquire is always answered: the acquirer hears its focus even when it held the channel already
 * (a machine that starts over waits for that answer), and nobody else hears an unchanged focus.
 */
function focusChanges(before: Owners, after: Owners, acquirer?: { channel: Channel; owner: string }): FocusChange[] {
  const changes: FocusChange[] = [];
  if (acquirer && before[acquirer.channel] === acquirer.owner && focusIn(before, acquirer.channel) === focusIn(after, acquirer.channel)) {
    changes.push({ channel: acquirer.channel, owner: acquirer.owner, focus: focusIn(after, acquirer.channel) });
  }
  for (const channel of CHANNELS) {
    const was = before[channel];
    const is = after[channel];
    if (was !== undefined && was !== is) changes.push({ channel, owner: was, focus: 'NONE' });
    if (is !== undefined && (is !== was || focusIn(before, channel) !== focusIn(after, channel))) {
      changes.push({ channel, owner: is, focus: focusIn(after, channel) });
    }
  }
  // Array.prototype.sort is stable: within one rank, stronger channels first.
  return changes.sort((a, b) => ORDER[a.focus] - ORDER[b.focus]);
}

const to = (channel: Channel, focus: Focus) => ({ guard: { type: 'focusIs', params: { channel, focus } }, target: focus }) as const;

/** One channel's region: it follows the owners to whichever focus they now give it. */
function region(channel: Exclude<Channel, 'Dialog'>) {
  return {
    initial: 'NONE',
    states: {
      NONE: { always: [to(channel, 'FOREGROUND'), to(channel, 'BACKGROUND')] },
      FOREGROUND: { always: [to(channel, 'BACKGROUND'), to(channel, 'NONE')] },
      BACKGROUND: { always: [to(channel, 'FOREGROUND'), to(channel, 'NONE')] },
    },
  } as const;
}

/** §4.1: Dialog, the strongest channel, is never in the background — its region has no such state. */
const dialogRegion = {
  initial: 'NONE',
  states: {
    NONE: { always: [to('Dialog', 'FOREGROUND')] },
    FOREGROUND: { always: [to('Dialog', 'NONE')] },
  },
} as const;

export const focusMachine = setup({
  types: {
    context: {} as FocusContext,
    events: {} as FocusEvent,
    emitted: {} as FocusEmitted,
  },
  guards: {
    focusIs: ({ context }, params: { channel: Channel; focus: Focus }) => focusIn(context.owners, params.channel) === params.focus,
    /** §4.1: only the holder releases a channel. */
    holdsChannel: ({ context, event }) => event.type === 'FOCUS.RELEASE' && context.owners[event.channel] === event.owner,
  },
  actions: {
    // Runs before `arbitrate`, so `context` is still the ownership the request changes. The emits
    // and sends are delivered after the transition, when the regions already show the new focus.
    notify: enqueueActions(({ context, event, system, enqueue }) => {
      for (const { channel, owner, focus } of focusChanges(context.owners, nextOwners(context.owners, event), event.type === 'FOCUS.ACQUIRE' ? event : undefined)) {
        enqueue.emit({ type: 'FOCUS.CHANGED', channel, owner, focus });
        // §4.2: an interface machine registered under its owner name acts on its focus itself.
        const ref = system.get(owner);
        const changed: FocusChangedEvent = { type: 'FOCUS.CHANGED', channel, focus };
        if (ref) enqueue.sendTo(ref, changed);
      }
    }),
    arbitrate: assign(({ context, event }) => ({ owners: nextOwners(context.owners, event) })),
  },
}).createMachine({
  id: 'focus',
  type: 'parallel',
  context: { owners: {} },
  on: {
    'FOCUS.ACQUIRE': { actions: ['notify', 'arbitrate'] },
    'FOCUS.RELEASE': { guard: 'holdsChannel', actions: ['notify', 'arbitrate'] },
    'FOCUS.STOP_FOREGROUND': { actions: ['notify', 'arbitrate'] },
    'FOCUS.STOP_ALL': { actions: ['notify', 'arbitrate'] },
  },
  states: {
    Dialog: dialogRegion,
    Alerts: region('Alerts'),
    Content: region('Content'),
  },
});

export type FocusSnapshot = SnapshotFrom<typeof focusMachine>;

/** A channel's focus, as its region shows it. */
export function focusOf(snapshot: FocusSnapshot, channel: Channel): Focus {
  return snapshot.value[channel] as Focus;
}

/** Who holds a channel (undefined when it is free). */
export function ownerOf(snapshot: FocusSnapshot, channel: Channel): string | undefined {
  return snapshot.context.owners[channel];
}
