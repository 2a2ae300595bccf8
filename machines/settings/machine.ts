// PROTOCOL.md §11.1: Settings 1.0 — the device's locale. A change (from the API or the device's own
// menu) is reported with SettingsUpdated; AVS accepts it (204) or refuses it (an error body), and
// on a refusal the previous locale is kept.
import { assign, emit, setup } from 'xstate';
import { outbound, type OutboundEventOf } from '../catalog';
import { LocaleTag } from '../envelope/primitives';

export interface SettingsInput {
  /** The persisted locale (or the product's default). */
  readonly locale: string;
  /** The last locale AVS accepted, if one ever was. */
  readonly confirmed?: string;
}

export interface SettingsContext {
  locale: string;
  /** The locale before the change AVS has not answered yet: kept if AVS refuses the change. */
  previous: string;
  confirmed: string | undefined;
}

export type SettingsEvent =
  | { type: 'USER.SET_LOCALE'; locale: string }
  /** The answer to a SettingsUpdated, from the event sender. */
  | { type: 'SETTINGS.ACCEPTED'; locale: string }
  | { type: 'SETTINGS.REFUSED'; locale: string }
  | { type: 'CONNECTION.CONNECTED' };

export type SettingsEmitted =
  | OutboundEventOf<'Settings', 'SettingsUpdated'>
  /** What the runtime keeps across restarts. */
  | { type: 'SETTINGS.PERSIST'; locale: string; confirmed: string | undefined };

export const settingsMachine = setup({
  types: {
    context: {} as SettingsContext,
    events: {} as SettingsEvent,
    input: {} as SettingsInput,
    emitted: {} as SettingsEmitted,
  },
  guards: {
    /** §11.1: an `ll-CC` tag (the set is open, §16 #15), and a change. */
    isNewLocale: ({ context, event }) => event.type === 'USER.SET_LOCALE' && LocaleTag.is(event.locale) && event.locale !== context.locale,
    /** The answer is about the change that waits (an older one may be answered after a newer one was made). */
    answersPending: ({ context, event }) => (event.type === 'SETTINGS.ACCEPTED' || event.type === 'SETTINGS.REFUSED') && event.locale === context.locale,
    /** AVS was never told this device's locale (the Java sample reports it after each connect). */
    neverConfirmed: ({ context }) => context.confirmed !== context.locale,
  },
  actions: {
    change: assign(({ context }, params: { locale: string }) => ({ locale: params.locale, previous: context.locale })),
    confirm: assign((_, params: { locale: string }) => ({ confirmed: params.locale })),
    revert: assign(({ context }) => ({ locale: context.previous })),
    /** §11.1 */
    report: emit(({ context }) => outbound('Settings', 'SettingsUpdated', { settings: [{ key: 'locale', value: context.locale }] })),
    persist: emit(({ context }) => ({ type: 'SETTINGS.PERSIST' as const, locale: context.locale, confirmed: context.confirmed })),
  },
}).createMachine({
  id: 'settings',
  // A change refused after a restart falls back to what AVS last accepted (§11.1).
  context: ({ input }) => ({ locale: input.locale, previous: input.confirmed ?? input.locale, confirmed: input.confirmed }),
  initial: 'SYNCED',
  on: {
    'USER.SET_LOCALE': {
      guard: 'isNewLocale',
      target: '.UPDATING',
      reenter: true,
      actions: [{ type: 'change', params: ({ event }) => ({ locale: event.locale }) }, 'persist', 'report'],
    },
  },
  states: {
    /** Nothing waits for AVS's answer. */
    SYNCED: {
      on: {
        'CONNECTION.CONNECTED': { guard: 'neverConfirmed', target: 'UPDATING', actions: 'report' },
        // A late answer to a change made before a restart.
        'SETTINGS.ACCEPTED': { guard: 'answersPending', actions: [{ type: 'confirm', params: ({ event }) => ({ locale: event.locale }) }, 'persist'] },
      },
    },
    /** A SettingsUpdated is on its way (it must reach AVS: it waits in the outbox while offline). */
    UPDATING: {
      on: {
        'SETTINGS.ACCEPTED': [
          { guard: 'answersPending', target: 'SYNCED', actions: [{ type: 'confirm', params: ({ event }) => ({ locale: event.locale }) }, 'persist'] },
          { actions: [{ type: 'confirm', params: ({ event }) => ({ locale: event.locale }) }, 'persist'] },
        ],
        // §11.1: AVS refused it — keep the previous locale.
        'SETTINGS.REFUSED': { guard: 'answersPending', target: 'SYNCED', actions: ['revert', 'persist'] },
      },
    },
  },
});

/** The locale the device uses now. */
export const localeOf = (snapshot: { context: SettingsContext }): string => snapshot.context.locale;
