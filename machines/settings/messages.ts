// PROTOCOL.md §11.1: Settings 1.0.
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { LocaleTag, withRule } from '../envelope/primitives';

/** §11.1: `locale` is the one accepted key; its value is an `ll-CC` tag from an open set (§16 #15). */
export const Setting = t.type({ key: t.literal('locale'), value: LocaleTag }, 'Setting');

export const SettingsUpdated = t.type(
  {
    settings: withRule(t.array(Setting, 'Setting[]'), (list) =>
      list.length === 0 ? { path: [], message: 'at least one setting must be reported' } : undefined,
    ),
  },
  'SettingsUpdatedPayload',
);
export type SettingsUpdated = t.TypeOf<typeof SettingsUpdated>;

export const Settings = defineInterface({
  namespace: 'Settings',
  version: '1.0',
  directives: {},
  events: { SettingsUpdated },
  context: {},
  eventsWithContext: [],
  eventsWithDialogRequestId: [],
});
