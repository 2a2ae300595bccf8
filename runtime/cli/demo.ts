// `avs demo` (what `npm start` runs until the device runtime exists): checks every bundled
// example message and reads a bundled AVS response body, showing what the codecs and the
// multipart reader make of them.
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIo, EXIT_FAILED, EXIT_OK } from './io';
import { parseMultipartCommand } from './parse-multipart';
import { validateCommand } from './validate';

export const demoHelp = `usage: avs demo

Validates every bundled example message (test/fixtures/messages/valid) and parses the bundled
AVS response body (PROTOCOL.md §14.6) and downchannel capture. Exit 0 when all of it checks out.`;

// Shown relative to where the command runs, so the transcript reads well.
const FIXTURES = relative(process.cwd(), join(__dirname, '..', '..', 'test', 'fixtures')) || '.';

export async function demoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.out(demoHelp);
    return EXIT_OK;
  }
  const dir = join(FIXTURES, 'messages', 'valid');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  io.out(`== ${files.length} example messages (avs validate)`);
  const validated = await validateCommand(files.map((f) => join(dir, f)), io);
  io.out('');
  io.out('== an answer to a Recognize: Speak + ExpectSpeech + the MP3 attachment (avs parse-multipart)');
  const response = await parseMultipartCommand([join(FIXTURES, 'multipart', 'recognize-response.multipart')], io);
  io.out('');
  io.out('== a downchannel capture that is still open (avs parse-multipart --open)');
  const downchannel = await parseMultipartCommand(['--open', join(FIXTURES, 'multipart', 'downchannel-open.multipart')], io);
  const ok = validated === EXIT_OK && response === EXIT_OK && downchannel === EXIT_OK;
  io.out('');
  io.out(ok ? 'demo: all checks passed' : 'demo: some checks failed');
  return ok ? EXIT_OK : EXIT_FAILED;
}
