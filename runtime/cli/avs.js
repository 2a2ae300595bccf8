#!/usr/bin/env node
// The `avs` command (package.json "bin"). The runtime is TypeScript run through tsx (a
// dependency), so what runs is always the checked-in source; there is no build step.
'use strict';
require('tsx/cjs');
require('./main.ts')
  .runCli(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
