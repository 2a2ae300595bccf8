#!/usr/bin/env node
// `npm test` runs jest through this: everything the run prints (test output, logs, errors) is
// passed through and checked for a token — the simulator's tokens (`Atza|sim-…`, `Atzr|sim-…`)
// must never appear in anything the device writes (CONVENTIONS.md; PROTOCOL.md §12). A token
// printed fails the run even when every test passed.
'use strict';
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const TOKEN = /Atz[ar]\|sim-[A-Za-z0-9_-]{8,}/;
const jest = join(__dirname, '..', '..', 'node_modules', 'jest', 'bin', 'jest.js');
const child = spawn(process.execPath, [jest, ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'pipe'] });
let leaked;
// A token split across two chunks is still seen: each stream keeps the tail of its last chunk.
const watch = (stream, out) => {
  let tail = '';
  stream.on('data', (chunk) => {
    out.write(chunk);
    const text = tail + chunk.toString('utf8');
    const m = TOKEN.exec(text);
    if (m && !leaked) leaked = m[0].slice(0, 12);
    tail = text.slice(-200);
  });
};
watch(child.stdout, process.stdout);
watch(child.stderr, process.stderr);
child.on('close', (code, signal) => {
  if (leaked) {
    process.stderr.write(`\nrun-jest: a token (${leaked}…) appeared in the test run's output: nothing may print a token\n`);
    process.exit(1);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
