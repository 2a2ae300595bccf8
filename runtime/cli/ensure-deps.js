#!/usr/bin/env node
// Makes a fresh clone runnable: installs the Debian programs the project runs (when missing, and
// when it may: as root with apt-get), and the locked npm dependencies when they are missing or
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
// Programs the project runs or builds with, by the Debian package that has them: openssl for the
// simulator's certificates; python3, make and g++ for better-sqlite3, which npm builds from source
// here (its prebuilt binaries would be a download); sox, the microphone's recorder
// (node-record-lpcm16), and mpg123, the player of speech and music (play-sound); chromium, the
// browser the inspector's page is tested in (playwright-core drives Debian's, never downloads one);
// lame, which makes the MP3 the MPEG frame reader is checked against.
const PROGRAMS = { openssl: 'openssl', python3: 'python3', make: 'make', 'g++': 'g++', sox: 'sox', mpg123: 'mpg123', lame: 'lame', chromium: 'chromium' };

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = Object.keys(PROGRAMS).filter((cmd) => !onPath(cmd));
if (missing.length > 0) {
  const packages = [...new Set(missing.map((cmd) => PROGRAMS[cmd]))];
  const canInstall = process.getuid?.() === 0 && onPath('apt-get');
  if (!canInstall) {
    console.error(`avs-device: missing ${missing.join(', ')}; install the Debian package(s): apt-get install -y ${packages.join(' ')}`);
    process.exit(1);
  }
  console.error(`avs-device: installing ${packages.join(', ')} (apt-get) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
  if (!install || install.status !== 0) {
    console.error(`avs-device: apt-get install ${packages.join(' ')} failed; see the output above`);
    process.exit(1);
  }
}

const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';

if (want !== have) {
  console.error('avs-device: installing npm dependencies (npm ci) ...');
  const env = { ...process.env, PUPPETEER_SKIP_DOWNLOAD: '1', PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`avs-device: npm ci failed (exit ${r.status}); see the output above`);
    process.exit(r.status || 1);
  }
  writeFileSync(stamp, want + '\n');
}
