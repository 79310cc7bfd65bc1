'use strict';
/**
 * Summarize V8 .cpuprofile files (node --cpu-prof): self time per function and per file,
 * summed over every file given (e.g. one per round).
 *
 *   node bench/tools/cpuprofile-top.js bench/results/profiles/wsuite-*.cpuprofile [--top 25]
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

function shortUrl(url) {
  if (!url) return '';
  const file = url.replace(/^file:\/\//, '');
  // bench/run.js loads core from a temporary copy of packages/core/dist.
  const snapshot = /^.*\/wsuite-bench-core-[^/]+\//.exec(file);
  if (snapshot) return `packages/core/${file.slice(snapshot[0].length)}`;
  return file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
}

function main() {
  const args = process.argv.slice(2);
  let top = 25;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else files.push(args[i]);
  }
  if (files.length === 0) {
    console.error('usage: node bench/tools/cpuprofile-top.js FILE.cpuprofile... [--top N]');
    process.exit(2);
  }
  const byFunction = new Map();
  const byFile = new Map();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    // timeDeltas[i] is the time elapsed before sample i; attribute it to that sample's node.
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i];
      const dt = profile.timeDeltas[i] || 0;
      self.set(id, (self.get(id) || 0) + dt);
    }
    for (const [id, micros] of self) {
      const n = nodes.get(id);
      const cf = n.callFrame;
      const where = shortUrl(cf.url);
      const name = cf.functionName || (where ? '(anonymous)' : cf.url || '(program)');
      const key = where ? `${name}  ${where}:${cf.lineNumber + 1}` : name;
      byFunction.set(key, (byFunction.get(key) || 0) + micros);
      const fileKey = where || name;
      byFile.set(fileKey, (byFile.get(fileKey) || 0) + micros);
      total += micros;
    }
  }
  const idle = byFunction.get('(idle)') || 0;
  const busy = total - idle;
  const print = (title, map, n) => {
    console.log(`\n${title}`);
    console.log('| self ms | % of busy | function / file |');
    console.log('|---:|---:|---|');
    const entries = [...map].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]);
    for (const [key, micros] of entries.slice(0, n)) {
      console.log(`| ${(micros / 1000).toFixed(1)} | ${((micros / busy) * 100).toFixed(1)}% | ${key.replace(/\|/g, '\\|')} |`);
    }
  };
  console.log(`${files.length} profile(s): ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (not idle); percentages are of busy time`);
  print(`Top ${top} functions by self time`, byFunction, top);
  print('Top 15 files by self time', byFile, 15);
}

main();
