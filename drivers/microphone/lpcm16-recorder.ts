// The recorder module handed to node-record-lpcm16 by absolute path (see lpcm16-microphone.ts).
// The library require()s it and calls the module itself, so it is CommonJS-shaped: `export =`.
import { recorderCommand } from './recorder-command';

export = recorderCommand;
