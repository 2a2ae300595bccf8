// PROTOCOL.md §11.2–§11.4 and §1.5.3: System 1.0 (+1.1 SoftwareInfo), and the System.Exception body.
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { EmptyPayload, EndpointUrl, NonEmptyString, NonNegativeLong, oneOf } from '../envelope/primitives';

/** §11.2: the docs want whole hours (a multiple of 3600); older clients sent raw seconds, so both decode. */
export const UserInactivityReport = t.type({ inactiveTimeInSeconds: NonNegativeLong }, 'UserInactivityReportPayload');

/** §11.4 error.type */
export const ExceptionErrorType = oneOf(['UNEXPECTED_INFORMATION_RECEIVED', 'UNSUPPORTED_OPERATION', 'INTERNAL_ERROR']);
export type ExceptionErrorType = t.TypeOf<typeof ExceptionErrorType>;

export const ExceptionEncountered = t.type(
  { unparsedDirective: t.string, error: t.type({ type: ExceptionErrorType, message: t.string }) },
  'ExceptionEncounteredPayload',
);
export type ExceptionEncountered = t.TypeOf<typeof ExceptionEncountered>;

/** §11.3 (1.1): a positive 32-bit signed integer written as a string; "0" is invalid. */
export const FirmwareVersion = new t.Type<string, string, unknown>(
  'positive 32-bit integer as a string ("1".."2147483647")',
  (u): u is string => typeof u === 'string' && /^[1-9]\d{0,9}$/.test(u) && Number(u) <= 2147483647,
  (u, c) => (typeof u === 'string' && /^[1-9]\d{0,9}$/.test(u) && Number(u) <= 2147483647 ? t.success(u) : t.failure(u, c)),
  t.identity,
);
export const SoftwareInfo = t.type({ firmwareVersion: FirmwareVersion }, 'SoftwareInfoPayload');

/** §11.3 SetEndpoint: a base URL, possibly with scheme and port. */
export const SetEndpoint = t.type({ endpoint: EndpointUrl }, 'SetEndpointPayload');
export type SetEndpoint = t.TypeOf<typeof SetEndpoint>;

/** §11.3 / §1.5.4: the System.Exception codes known today. */
export const KnownExceptionCode = oneOf([
  'INVALID_REQUEST_EXCEPTION',
  'UNAUTHORIZED_REQUEST_EXCEPTION',
  'THROTTLING_EXCEPTION',
  'INTERNAL_SERVICE_EXCEPTION',
  'N/A',
]);
export type KnownExceptionCode = t.TypeOf<typeof KnownExceptionCode>;

/**
 * §1.5.3: `code` is a string (§11.3 types it so, and §1.5.4 handles codes it does not list: an
 * error body with a new code must still be read); description is optional and may be null.
 */
export const ExceptionPayload = t.intersection(
  [t.type({ code: t.string }), t.partial({ description: t.union([t.string, t.null], 'string | null') })],
  'ExceptionPayload',
);

/** §1.5.3: the error body of a failed request — a bare message, not wrapped in "directive". */
export const SystemExceptionBody = t.type(
  {
    header: t.type({ namespace: t.literal('System'), name: t.literal('Exception'), messageId: NonEmptyString }),
    payload: ExceptionPayload,
  },
  'System.Exception',
);
export type SystemExceptionBody = t.TypeOf<typeof SystemExceptionBody>;

export const System = defineInterface({
  namespace: 'System',
  version: '1.1',
  directives: {
    ResetUserInactivity: EmptyPayload,
    SetEndpoint,
    ReportSoftwareInfo: EmptyPayload,
    // §11.3: may also arrive as a directive part (unverified); it is logged, never answered.
    Exception: ExceptionPayload,
  },
  events: {
    SynchronizeState: EmptyPayload,
    UserInactivityReport,
    ExceptionEncountered,
    SoftwareInfo,
  },
  context: {},
  eventsWithContext: ['SynchronizeState', 'ExceptionEncountered'],
  eventsWithDialogRequestId: [],
});
