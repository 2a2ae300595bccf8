// One full dialog turn, as the dialog and memory figures run it (no runtime module loaded here:
// the lifecycle process times the runtime's own loading).
import { filter, firstValueFrom, timeout } from 'rxjs';
import { waitFor } from 'xstate';
import type { Device } from '../../runtime/device/device';

/** One full dialog turn: a tap, the Recognize, the answer's Speak played to SpeechFinished, the recognizer IDLE again. */
export async function dialogTurn(device: Device): Promise<void> {
  const finished = firstValueFrom(
    device.events$.pipe(
      filter((e) => e.name === 'SpeechSynthesizer.SpeechFinished'),
      timeout(15_000),
    ),
  );
  device.tap();
  await finished;
  await waitFor(device.actors.speechRecognizer, (s) => s.matches('IDLE'), { timeout: 15_000 });
}
