'use strict';
/**
 * Micro-benchmark of the hot path alone: @wsuite/core's FrameParser (masked client frames in
 * 64 KiB socket-sized chunks, as a server reads them) and encodeFrame (unmasked as a server
 * sends, masked as a client sends), in frames/s and payload MB/s, with ws's Receiver and
 * Sender.frame on the same input as a reference; and masking alone (the WebAssembly SIMD kernel,
 * the JavaScript word loop, ws's mask). No sockets, one process.
 *
 *   npm run bench:micro            (builds core first)
 *   node bench/micro/frame-codec.js [--duration S] [--sizes 16,1024,65536] [--json FILE] [--no-ws]
 */
const path = require('node:path');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const DIST = path.resolve(__dirname, '../../packages/core/dist/protocol');
const { FrameParser } = require(path.join(DIST, 'frame-parser.js'));
const { encodeFrame } = require(path.join(DIST, 'frame-encoder.js'));
const { applyMask } = require(path.join(DIST, 'buffer-util.js'));
const { setSimdMaskEnabled } = require(path.join(DIST, 'simd-mask.js'));
const { maskedFrame, payloadOf } = require('../load/frames');

function parseArgs(argv) {
  const o = { duration: 1, rounds: 3, sizes: [16, 1024, 65536], json: null, ws: true, caseIndex: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--duration') o.duration = Number(argv[++i]);
    else if (a === '--sizes') o.sizes = argv[++i].split(',').map(Number);
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--no-ws') o.ws = false;
    else if (a === '--case') o.caseIndex = Number(argv[++i]);
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/micro/frame-codec.js [--duration S] [--rounds N] [--sizes 16,1024,65536] [--json FILE] [--no-ws]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.duration > 0)) throw new Error('--duration must be positive');
  return o;
}

/**
 * Run `fn` (which processes `framesPerCall` frames) repeatedly: a warm-up of a third of the
 * duration, then the measured duration. Returns frames/s.
 */
function time(fn, framesPerCall, seconds) {
  const warmEnd = performance.now() + (seconds * 1000) / 3;
  while (performance.now() < warmEnd) fn();
  let calls = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let now = t0;
  while (now < end) {
    for (let i = 0; i < 8; i++) fn();
    calls += 8;
    now = performance.now();
  }
  return (calls * framesPerCall) / ((now - t0) / 1000);
}

/** A stream of masked binary frames of `size` bytes, about 1 MiB long, cut in 64 KiB chunks. */
function stream(size) {
  const frame = maskedFrame(2, payloadOf(size, false));
  const count = Math.max(16, Math.ceil((1024 * 1024) / frame.length));
  const all = Buffer.concat(new Array(count).fill(frame));
  const chunks = [];
  for (let at = 0; at < all.length; at += 65536) chunks.push(all.subarray(at, Math.min(at + 65536, all.length)));
  return { chunks, count };
}

function wsuiteParse(size) {
  const { chunks, count } = stream(size);
  let frames = 0;
  const parser = new FrameParser(
    { maxFrameSize: 0, expectMasked: true },
    {
      onFrame: () => {
        frames++;
      },
      onError: (error) => {
        throw error;
      },
    },
  );
  const fn = () => {
    // Payloads are unmasked in place: each pass flips them, which a binary frame does not mind.
    for (const chunk of chunks) parser.push(chunk);
  };
  fn();
  if (frames !== count) throw new Error(`wsuite parser: ${frames} frames of ${count}`);
  return { fn, count };
}

function wsReceiverParse(size, ws) {
  const { chunks, count } = stream(size);
  let frames = 0;
  const receiver = new ws.Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer', allowSynchronousEvents: true });
  receiver.on('message', () => {
    frames++;
  });
  receiver.on('error', (error) => {
    throw error;
  });
  const fn = () => {
    for (const chunk of chunks) receiver.write(chunk);
  };
  fn();
  if (frames !== count) throw new Error(`ws receiver: ${frames} frames of ${count} (not synchronous?)`);
  return { fn, count };
}

function cases(o) {
  let ws = null;
  if (o.ws) {
    try {
      const root = path.dirname(require.resolve('ws/package.json'));
      let native = false;
      try {
        native = !process.env.WS_NO_BUFFER_UTIL && !!require.resolve('bufferutil');
      } catch {
        native = false;
      }
      const version = `${require('ws/package.json').version}${native ? '+bufferutil' : ' pure JS'}`;
      ws = { Receiver: require(path.join(root, 'lib/receiver.js')), Sender: require(path.join(root, 'lib/sender.js')), bufferUtil: require(path.join(root, 'lib/buffer-util.js')), version };
    } catch {
      ws = null;
    }
  }
  const maskKey = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  const list = [];
  for (const size of o.sizes) {
    const payload = payloadOf(size, false);
    const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
    list.push({ name: `parse masked ${label}`, impl: 'wsuite FrameParser', size, make: () => wsuiteParse(size) });
    if (ws) list.push({ name: `parse masked ${label}`, impl: `ws ${ws.version} Receiver`, size, make: () => wsReceiverParse(size, ws) });
    list.push({ name: `encode unmasked ${label}`, impl: 'wsuite encodeFrame', size, noCopy: size > 1024, make: () => ({ fn: () => encodeFrame(2, payload, {}), count: 1 }) });
    if (ws) list.push({ name: `encode unmasked ${label}`, impl: `ws ${ws.version} Sender.frame`, size, noCopy: true, make: () => ({ fn: () => ws.Sender.frame(payload, { fin: true, rsv1: false, opcode: 2, mask: false, readOnly: true }), count: 1 }) });
    list.push({ name: `encode masked ${label}`, impl: 'wsuite encodeFrame', size, make: () => ({ fn: () => encodeFrame(2, payload, { maskKey }), count: 1 }) });
    if (ws) list.push({ name: `encode masked ${label}`, impl: `ws ${ws.version} Sender.frame`, size, make: () => ({ fn: () => ws.Sender.frame(payload, { fin: true, rsv1: false, opcode: 2, mask: true, readOnly: true }), count: 1 }) });
  }
  // Masking alone, as a payload that spans socket chunks is unmasked: from a chunk into the
  // message buffer at a different alignment (the 14-byte header of a large frame shifts it by 2).
  for (const size of [...o.sizes, 1024 * 1024]) {
    const label = size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
    const source = Buffer.alloc(size + 16, 0x61);
    const target = Buffer.alloc(size + 16);
    const simd = (enabled) => () => {
      setSimdMaskEnabled(enabled);
      return { fn: () => applyMask(source, 2, target, 0, size, maskKey, 0), count: 1 };
    };
    list.push({ name: `mask ${label}`, impl: 'wsuite applyMask, SIMD kernel', size, make: simd(true) });
    list.push({ name: `mask ${label}`, impl: 'wsuite applyMask, JS words', size, make: simd(false) });
    if (ws) list.push({ name: `mask ${label}`, impl: `ws ${ws.version} mask`, size, make: () => ({ fn: () => ws.bufferUtil.mask(source.subarray(2, 2 + size), maskKey, target, 0, size), count: 1 }) });
  }
  return list;
}

/** Each case runs in its own process (fresh JIT state, and a hung case is killed). */
function runCase(index, o) {
  const { execFileSync } = require('node:child_process');
  const args = [path.join(__dirname, 'frame-codec.js'), '--case', String(index), '--duration', String(o.duration), '--sizes', o.sizes.join(',')];
  if (!o.ws) args.push('--no-ws');
  try {
    const out = execFileSync(process.execPath, args, { timeout: (o.duration * 2 + 20) * 1000, stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out.toString());
  } catch (error) {
    return { error: error.killed || error.signal ? 'timed out (hung?)' : String(error.message).split('\n')[0] };
  }
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const list = cases(o);
  if (o.caseIndex !== null) {
    const c = list[o.caseIndex];
    const { fn, count } = c.make();
    const framesPerSec = time(fn, count, o.duration);
    process.stdout.write(JSON.stringify({ framesPerSec }));
    return;
  }
  const bufferutil = process.env.WS_NO_BUFFER_UTIL ? 'off (WS_NO_BUFFER_UTIL)' : 'on if installed';
  console.error(`frame codec micro-benchmark: ${o.duration} s per case, one process each, ${o.rounds} rounds (cases alternate; median), Node ${process.version}; ws's bufferutil ${bufferutil}`);
  const perCase = list.map(() => []);
  const errors = list.map(() => null);
  for (let round = 0; round < o.rounds; round++) {
    list.forEach((c, index) => {
      const r = runCase(index, o);
      if (r.error) errors[index] = r.error;
      else perCase[index].push(r.framesPerSec);
      const shown = r.error ? `ERROR: ${r.error}` : `${Math.round(r.framesPerSec).toLocaleString('en-US').padStart(12)} frames/s`;
      console.error(`  r${round + 1} ${c.name.padEnd(22)} ${c.impl.padEnd(34)} ${shown}`);
    });
  }
  const results = list.map((c, index) => {
    const sorted = perCase[index].slice().sort((a, b) => a - b);
    const framesPerSec = sorted.length ? sorted[sorted.length >> 1] : null;
    const mbPerSec = framesPerSec === null || c.noCopy ? null : (framesPerSec * c.size) / 1e6;
    return { case: c.name, impl: c.impl, size: c.size, framesPerSec, mbPerSec, rounds: perCase[index], error: errors[index] || undefined };
  });
  const lines = ['| case | implementation | frames/s | payload MB/s | vs ws |', '|---|---|---:|---:|---:|'];
  for (const r of results) {
    const ref = results.find((x) => x.case === r.case && x.impl.startsWith('ws '));
    const ratio = ref && ref.framesPerSec && r.framesPerSec ? `${(r.framesPerSec / ref.framesPerSec).toFixed(2)}x` : '–';
    const value = r.error ? `error: ${r.error}` : Math.round(r.framesPerSec).toLocaleString('en-US');
    lines.push(`| ${r.case} | ${r.impl} | ${value} | ${r.mbPerSec === null ? (r.error ? '–' : 'header only') : r.mbPerSec.toFixed(1)} | ${ratio} |`);
  }
  console.log(`\n${lines.join('\n')}\n`);
  if (o.json) {
    fs.mkdirSync(path.dirname(path.resolve(o.json)), { recursive: true });
    fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, duration: o.duration, results }, null, 2)}\n`);
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main();
