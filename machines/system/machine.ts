// PROTOCOL.md §11.2–§11.4: System — user inactivity, SetEndpoint, the Exception AVS sends,
// ExceptionEncountered for a directive the device could not handle, and SoftwareInfo (1.1).
// SynchronizeState is the connection's own first step (§1.6 step 5, machines/connection).
import { assign, emit, enqueueActions, fromCallback, setup } from 'xstate';
import { outbound, type DirectiveEventsOf, type OutboundEventOf } from '../catalog';
import type { ExceptionErrorType } from './messages';

export interface SystemInput {
  /** When the device started: the inactivity clock starts here (§11.2). */
  readonly startedAt: number;
  /** §11.3 (1.1): the firmware version to report, when the product has one. */
  readonly firmwareVersion?: string;
  /** §11.2: one report an hour. */
  readonly reportIntervalMs?: number;
}

export interface SystemContext {
  lastActivityAt: number;
  readonly firmwareVersion: string | undefined;
  readonly reportIntervalMs: number;
}

export type SystemEvent =
  | DirectiveEventsOf<'System'>
  /** Deliberate use of the device (wake word, a button, entering or leaving RECOGNIZING, §11.2). */
  | { type: 'USER.ACTIVITY'; at: number }
  /** From the invoked report timer, once per interval. */
  | { type: 'INACTIVITY.TICK'; at: number }
  | { type: 'CONNECTION.CONNECTED' }
  | { type: 'CONNECTION.LOST' }
  /** §11.4: the router could not handle a directive. */
  | { type: 'EXCEPTION.REPORT'; unparsedDirective: string; errorType: ExceptionErrorType; message: string };

export type SystemEmitted =
  | OutboundEventOf<'System', 'UserInactivityReport'>
  | OutboundEventOf<'System', 'ExceptionEncountered'>
  | OutboundEventOf<'System', 'SoftwareInfo'>
  /** §11.3 SetEndpoint: the runtime persists it and reconnects there. */
  | { type: 'ENDPOINT.SET'; endpoint: string }
  /** §11.3 / §1.5.3: an error AVS reported, for logs and the embedding application. */
  | { type: 'SYSTEM.EXCEPTION'; code: string; description?: string };

const HOUR_MS = 3_600_000;

/** §11.2 and §16 #1: the inactive time rounded to whole hours, in seconds. */
export const roundedInactiveSeconds = (ms: number): number => Math.round(Math.max(0, ms) / HOUR_MS) * 3600;

/** The default report timer: a tick every interval, with the wall-clock time of the tick. */
const reportTimer = fromCallback<{ type: 'NONE' }, { intervalMs: number }>(({ input, sendBack }) => {
  const timer = setInterval(() => sendBack({ type: 'INACTIVITY.TICK', at: Date.now() }), input.intervalMs);
  timer.unref?.();
  return () => clearInterval(timer);
});

export const systemMachine = setup({
  types: {
    context: {} as SystemContext,
    events: {} as SystemEvent,
    input: {} as SystemInput,
    emitted: {} as SystemEmitted,
  },
  actors: { reportTimer },
  guards: {
    knowsFirmwareVersion: ({ context }) => context.firmwareVersion !== undefined,
  },
  actions: {
    noteActivity: assign((_, params: { at: number }) => ({ lastActivityAt: params.at })),
    reportInactivity: emit(({ context }, params: { at: number }) =>
      outbound('System', 'UserInactivityReport', { inactiveTimeInSeconds: roundedInactiveSeconds(params.at - context.lastActivityAt) }),
    ),
    reportSoftwareInfo: enqueueActions(({ context, enqueue }) => {
      if (context.firmwareVersion !== undefined) enqueue.emit(outbound('System', 'SoftwareInfo', { firmwareVersion: context.firmwareVersion }));
    }),
    setEndpoint: emit((_, params: { endpoint: string }) => ({ type: 'ENDPOINT.SET' as const, endpoint: params.endpoint })),
    surfaceException: emit((_, params: { code: string; description?: string | null }) => ({
      type: 'SYSTEM.EXCEPTION' as const,
      code: params.code,
      ...(params.description ? { description: params.description } : {}),
    })),
    reportException: emit((_, params: { unparsedDirective: string; errorType: ExceptionErrorType; message: string }) =>
      outbound('System', 'ExceptionEncountered', { unparsedDirective: params.unparsedDirective, error: { type: params.errorType, message: params.message } }),
    ),
  },
}).createMachine({
  id: 'system',
  context: ({ input }) => ({
    lastActivityAt: input.startedAt,
    firmwareVersion: input.firmwareVersion,
    reportIntervalMs: input.reportIntervalMs ?? HOUR_MS,
  }),
  // §11.2: the first report one interval after start, then every interval, connected or not (an
  // event that cannot go is dropped, it is not one that must reach AVS).
  invoke: { src: 'reportTimer', input: ({ context }) => ({ intervalMs: context.reportIntervalMs }) },
  initial: 'OFFLINE',
  on: {
    'INACTIVITY.TICK': { actions: { type: 'reportInactivity', params: ({ event }) => ({ at: event.at }) } },
    'USER.ACTIVITY': { actions: { type: 'noteActivity', params: ({ event }) => ({ at: event.at }) } },
    // §11.3: activity happened elsewhere (the app); no event in answer. The directive has no time
    // of its own, so the time is that of its arrival, which the router stamps.
    'DIRECTIVE.ResetUserInactivity': { actions: { type: 'noteActivity', params: ({ event }) => ({ at: event.receivedAt }) } },
    'DIRECTIVE.SetEndpoint': { actions: { type: 'setEndpoint', params: ({ event }) => ({ endpoint: event.payload.endpoint }) } },
    // §11.3: logged and surfaced, never answered with ExceptionEncountered.
    'DIRECTIVE.Exception': { actions: { type: 'surfaceException', params: ({ event }) => event.payload } },
    'EXCEPTION.REPORT': { actions: { type: 'reportException', params: ({ event }) => event } },
    'DIRECTIVE.ReportSoftwareInfo': { guard: 'knowsFirmwareVersion', actions: 'reportSoftwareInfo' },
  },
  states: {
    OFFLINE: {
      on: { 'CONNECTION.CONNECTED': { target: 'ONLINE', actions: 'reportSoftwareInfo' } },
    },
    // §11.2 (1.1): SoftwareInfo at each connect, once the connection is up.
    ONLINE: {
      on: { 'CONNECTION.LOST': 'OFFLINE' },
    },
  },
});
