// The message of whatever was thrown or emitted. Not `instanceof Error`: errors from Node's own
// modules fail that test inside a jest sandbox, and node-record-lpcm16 emits plain strings.
export function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
    return error.message;
  }
  return String(error);
}
