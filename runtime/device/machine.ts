// The root actor (DESIGN.md "The actor tree"): every interface machine, focus and the attention
// aggregator are its children, each under a systemId, so the device is one XState system — one
// place to inspect and stop, and machines reach each other by systemId (focus → its owners).
// The connection is an actor of its own beside it (runtime/connection): its actors are wired to
// the HTTP/2 session the runtime owns.
import { emit, setup, type ActorRefFrom } from 'xstate';
import { attentionMachine, type AttentionInput } from '../../machines/attention/machine';
import { focusMachine } from '../../machines/focus/machine';
import { settingsMachine, type SettingsInput } from '../../machines/settings/machine';
import { speakerMachine, type SpeakerInput } from '../../machines/speaker/machine';
import { systemMachine, type SystemInput } from '../../machines/system/machine';
import { speechRecognizerMachine, type SpeechRecognizerInput } from '../../machines/speech-recognizer/machine';
import { speechSynthesizerMachine } from '../../machines/speech-synthesizer/machine';
import { audioPlayerMachine, type AudioPlayerInput } from '../../machines/audio-player/machine';
import { playbackControllerMachine } from '../../machines/playback-controller/machine';
import { alertsMachine } from '../../machines/alerts/machine';

export interface DeviceMachineInput {
  readonly speaker: SpeakerInput;
  readonly settings: SettingsInput;
  readonly system: SystemInput;
  readonly attention: AttentionInput;
  readonly speechRecognizer: SpeechRecognizerInput;
  readonly audioPlayer: AudioPlayerInput;
}

export interface DeviceMachineActors {
  readonly system: typeof systemMachine;
  readonly speechRecognizer: typeof speechRecognizerMachine;
  readonly speechSynthesizer: typeof speechSynthesizerMachine;
  readonly audioPlayer: typeof audioPlayerMachine;
  readonly alerts: typeof alertsMachine;
}

/** The device's machine, with the actors of its machines (timer, microphone, output) provided by the runtime. */
export const deviceMachine = (actors: DeviceMachineActors) =>
  setup({
    types: {
      input: {} as DeviceMachineInput,
      context: {} as DeviceMachineInput,
      emitted: {} as { type: 'DEVICE.MACHINE_FAILED'; machine: string; error: string },
    },
    actors: {
      focus: focusMachine,
      speaker: speakerMachine,
      settings: settingsMachine,
      system: actors.system,
      attention: attentionMachine,
      speechRecognizer: actors.speechRecognizer,
      speechSynthesizer: actors.speechSynthesizer,
      audioPlayer: actors.audioPlayer,
      playbackController: playbackControllerMachine,
      alerts: actors.alerts,
    },
    actions: {
      /**
       * One machine failing (an action threw) must not take the device down with it: the root
       * reports it and lives on; the failed machine's directives are answered INTERNAL_ERROR.
       */
      machineFailed: emit(({ event }, params: { machine: string }) => ({
        type: 'DEVICE.MACHINE_FAILED' as const,
        machine: params.machine,
        error: String((event as { error?: unknown }).error),
      })),
    },
  }).createMachine({
    id: 'device',
    context: ({ input }) => input,
    invoke: [
      { id: 'focus', systemId: 'focus', src: 'focus', onError: { actions: { type: 'machineFailed', params: { machine: 'focus' } } } },
      {
        id: 'attention',
        systemId: 'attention',
        src: 'attention',
        input: ({ context }) => context.attention,
        onError: { actions: { type: 'machineFailed', params: { machine: 'attention' } } },
      },
      { id: 'system', systemId: 'system', src: 'system', input: ({ context }) => context.system, onError: { actions: { type: 'machineFailed', params: { machine: 'system' } } } },
      { id: 'speaker', systemId: 'speaker', src: 'speaker', input: ({ context }) => context.speaker, onError: { actions: { type: 'machineFailed', params: { machine: 'speaker' } } } },
      {
        id: 'settings',
        systemId: 'settings',
        src: 'settings',
        input: ({ context }) => context.settings,
        onError: { actions: { type: 'machineFailed', params: { machine: 'settings' } } },
      },
      {
        id: 'speechRecognizer',
        systemId: 'speechRecognizer',
        src: 'speechRecognizer',
        input: ({ context }) => context.speechRecognizer,
        onError: { actions: { type: 'machineFailed', params: { machine: 'speechRecognizer' } } },
      },
      {
        id: 'speechSynthesizer',
        systemId: 'speechSynthesizer',
        src: 'speechSynthesizer',
        onError: { actions: { type: 'machineFailed', params: { machine: 'speechSynthesizer' } } },
      },
      {
        id: 'audioPlayer',
        systemId: 'audioPlayer',
        src: 'audioPlayer',
        input: ({ context }) => context.audioPlayer,
        onError: { actions: { type: 'machineFailed', params: { machine: 'audioPlayer' } } },
      },
      { id: 'alerts', systemId: 'alerts', src: 'alerts', onError: { actions: { type: 'machineFailed', params: { machine: 'alerts' } } } },
      {
        id: 'playbackController',
        systemId: 'playbackController',
        src: 'playbackController',
        onError: { actions: { type: 'machineFailed', params: { machine: 'playbackController' } } },
      },
    ],
  });

/** The device's machines, by name. */
export interface DeviceActors {
  readonly focus: ActorRefFrom<typeof focusMachine>;
  readonly attention: ActorRefFrom<typeof attentionMachine>;
  readonly system: ActorRefFrom<typeof systemMachine>;
  readonly speaker: ActorRefFrom<typeof speakerMachine>;
  readonly settings: ActorRefFrom<typeof settingsMachine>;
  readonly speechRecognizer: ActorRefFrom<typeof speechRecognizerMachine>;
  readonly speechSynthesizer: ActorRefFrom<typeof speechSynthesizerMachine>;
  readonly audioPlayer: ActorRefFrom<typeof audioPlayerMachine>;
  readonly playbackController: ActorRefFrom<typeof playbackControllerMachine>;
  readonly alerts: ActorRefFrom<typeof alertsMachine>;
}
