#!/usr/bin/env node
/**
 * `npm run fuzz`: the long fuzz run. Runs the properties of packages/core/test/fuzz with their
 * long input counts (WSUITE_FUZZ_LONG=1; over a million inputs in all), then prints how many
 * inputs each property tried and the total. Exits non-zero when a property failed or fewer than
 * 1,000,000 inputs were tried. Replay a failure with WSUITE_FUZZ_SEED=<seed from the report>.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const MINIMUM = 1_000_000;
const root = path.resolve(__dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'wsuite-fuzz-'));
const report = path.join(dir, 'runs.jsonl');
writeFileSync(report, '');

const started = Date.now();
const jest = require.resolve('jest/bin/jest', { paths: [root] });
const result = spawnSync(process.execPath, [jest, 'packages/core/test/fuzz', '--ci', '--verbose'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, WSUITE_FUZZ_LONG: '1', WSUITE_FUZZ_REPORT: report },
});

const lines = readFileSync(report, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
rmSync(dir, { recursive: true, force: true });
let total = 0;
console.log('\nFuzz inputs tried');
for (const { name, runs } of lines) {
  total += runs;
  console.log(`  ${String(runs).padStart(9)}  ${name}`);
}
console.log(`  ${String(total).padStart(9)}  total, in ${Math.round((Date.now() - started) / 1000)} s`);
const passed = result.status === 0;
console.log(passed ? 'All fuzz properties held.' : `A fuzz property failed (jest exit code ${result.status}); see its counterexample and seed above.`);
if (total < MINIMUM) console.log(`Fewer than ${MINIMUM.toLocaleString('en')} inputs were tried.`);
process.exit(passed && total >= MINIMUM ? 0 : 1);
