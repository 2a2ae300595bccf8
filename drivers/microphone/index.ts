export * from './microphone';
export * from './file-microphone';
export * from './stream-microphone';
export * from './lpcm16-microphone';
export { RECORDER_PACKAGES, type RecorderProgram } from './recorder-command';
export { looksLikeWav, parseWav } from './wav';
