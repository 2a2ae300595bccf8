#!/usr/bin/env node
// Makes a fresh clone runnable: installs the locked npm dependencies when they are missing or
// older than package-lock.json. Runs before `npm start` and `npm test` (prestart / pretest), so
// the two README commands work on a new machine with nothing but Node and npm.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..', '..');
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.avs-deps-stamp');
const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';

if (want !== have) {
  console.error('avs-device: installing npm dependencies (npm ci) ...');
  const env = { ...process.env, PUPPETEER_SKIP_DOWNLOAD: '1', ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`avs-device: npm ci failed (exit ${r.status}); see the output above`);
    process.exit(r.status || 1);
  }
  writeFileSync(stamp, want + '\n');
}
