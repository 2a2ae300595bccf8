#!/usr/bin/env node
// `npm run test:model` (after the model tests): the coverage figure per machine and in total,
// printed and written to coverage/model.json as
// {"machines":{"<name>":{"states":[covered,total],"transitions":[covered,total]}},"total":{…}}.
'use strict';
const { readdirSync, readFileSync, writeFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const dir = join(__dirname, '..', '..', 'coverage', 'model');
if (!existsSync(dir)) {
  console.error('no model coverage: run the model tests first (npm run test:model)');
  process.exit(1);
}
const machines = {};
const total = { states: [0, 0], transitions: [0, 0] };
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const figure = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const name = file.replace(/\.json$/, '');
  machines[name] = { states: figure.states, transitions: figure.transitions };
  for (const k of ['states', 'transitions']) {
    total[k][0] += figure[k][0];
    total[k][1] += figure[k][1];
  }
  const unreachable = Object.keys(figure.unreachable ?? {}).length;
  console.log(
    `${name.padEnd(20)} states ${`${figure.states[0]}/${figure.states[1]}`.padStart(7)}   transitions ${`${figure.transitions[0]}/${figure.transitions[1]}`.padStart(7)}${unreachable ? `   (${unreachable} unreachable, see coverage/model/${file})` : ''}`,
  );
}
console.log(`${'total'.padEnd(20)} states ${`${total.states[0]}/${total.states[1]}`.padStart(7)}   transitions ${`${total.transitions[0]}/${total.transitions[1]}`.padStart(7)}`);
writeFileSync(join(dir, '..', 'model.json'), `${JSON.stringify({ machines, total })}\n`);
