#!/usr/bin/env node
// The `avs` command. In a source checkout it runs the TypeScript sources through tsx, so what runs
// is always what is checked in; an installed package (no sources, only dist/) runs the build.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'runtime', 'cli', 'main.ts');
if (existsSync(source) && existsSync(join(root, 'node_modules', 'tsx'))) {
  require('tsx/cjs');
  run(require(source));
} else {
  run(require(join(root, 'dist', 'runtime', 'cli', 'main.js')));
}

function run(cli) {
  cli.runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
