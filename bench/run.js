'use strict';
/**
 * The benchmark orchestrator: `npm run bench` (or `node bench/run.js --help`).
 *
 * Every server (wsuite, ws pure JS, ws + bufferutil, websocket) runs in its own process, the
 * load generator (bench/load/client.js) in another. Within a round the servers take turns on
 * each variant (A B C D, then the next variant); rounds repeat that. Each value is the median
 * over rounds, and each ratio the median of per-round ratios to ws measured in the same round,
 * because the machine is shared and absolute numbers drift.
 */
const { fork, spawn, execSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const timers = require('node:timers');

const ROOT = path.resolve(__dirname, '..');
const CLIENT = path.join(__dirname, 'load', 'client.js');
const RESULTS = path.join(__dirname, 'results');
const sleep = (ms) => new Promise((resolve) => timers.setTimeout(resolve, ms));

const SERVERS = {
  wsuite: { script: 'wsuite.js', label: 'wsuite' },
  ws: { script: 'ws.js', label: 'ws (pure JS)', env: { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' } },
  'ws+bufferutil': { script: 'ws.js', label: 'ws + bufferutil', unset: ['WS_NO_BUFFER_UTIL', 'WS_NO_UTF_8_VALIDATE'] },
  websocket: { script: 'websocket.js', label: 'websocket (WebSocket-Node)' },
  net: { script: 'net.js', label: 'raw net echo' },
  'fastify+wsuite': { script: 'fastify.js', label: 'Fastify + @wsuite/fastify-plugin', env: { BENCH_ADAPTER: 'wsuite' } },
  'fastify+ws': { script: 'fastify.js', label: 'Fastify + @fastify/websocket', env: { BENCH_ADAPTER: 'ws' } },
  'express+wsuite': { script: 'express.js', label: 'Express + @wsuite/express-middleware', env: { BENCH_ADAPTER: 'wsuite' } },
  'express+ws': { script: 'express.js', label: 'Express + express-ws', env: { BENCH_ADAPTER: 'ws' } },
  'nest+wsuite': { script: 'nest.js', label: 'Nest + @wsuite/nestjs-adapter', env: { BENCH_ADAPTER: 'wsuite' } },
  'nest+ws': { script: 'nest.js', label: 'Nest + @nestjs/platform-ws', env: { BENCH_ADAPTER: 'ws' } },
};
const WS_SERVERS = ['wsuite', 'ws', 'ws+bufferutil', 'websocket'];
/** Each framework adapter and the ws-based one it replaces, measured in the same round. */
const ADAPTER_PAIRS = { 'fastify+wsuite': 'fastify+ws', 'express+wsuite': 'express+ws', 'nest+wsuite': 'nest+ws' };
const ADAPTER_SERVERS = Object.entries(ADAPTER_PAIRS).flat();
const SCENARIOS = ['validate', 'small', 'large', 'idle', 'handshake', 'broadcast', 'latency', 'compressed', 'compressed-idle', 'adapters', 'adapters-idle'];
// The adapter comparison is its own run (`--scenario adapters,adapters-idle`).
const DEFAULT_SCENARIOS = SCENARIOS.filter((name) => !name.startsWith('adapters'));
const KiB = 1024;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- options

const USAGE = `usage: node bench/run.js [options]   (npm run bench -- [options])

  --scenario LIST   comma-separated, from: ${SCENARIOS.join(', ')}
                    (default: all but adapters and adapters-idle, which compare each framework
                    adapter with the ws-based one it replaces)
  --rounds N        rounds; servers alternate inside each round (default 3; --quick: 1)
  --duration S      measured seconds per timed measurement (default 2; --quick: 0.5)
  --warmup S        unmeasured seconds before each timed window (default 0.5; --quick: 0.2)
  --servers LIST    subset of: ${WS_SERVERS.join(', ')} (default: all; ratios need ws / ws+bufferutil)
  --filter TEXT     only variants whose name contains TEXT (e.g. "16 B")
  --quick           smoke run: one round, short windows, one variant per scenario (< 1 min)
  --profile NAME    run server NAME under node --cpu-prof (profiles in bench/results/profiles/)
  --readme          write the table into the Performance section of the root README.md
  --save-latest     write bench/results/latest.json even for a partial or quick run
  --render FILE     print the table again from a results JSON (no measurement); with
                    --readme, also write it into the README
  --no-snapshot     load packages/core/dist in place (default: a copy taken at start, so a
                    rebuild by someone else during the run cannot mix builds)
  --help`;

function parseArgs(argv) {
  const o = { scenarios: DEFAULT_SCENARIOS, rounds: null, duration: null, warmup: null, servers: WS_SERVERS, filter: null, quick: false, profile: null, readme: false, saveLatest: false, snapshot: true, render: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--scenario' || a === '--scenarios') o.scenarios = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--rounds') o.rounds = positive(a, value());
    else if (a === '--duration') o.duration = positive(a, value());
    else if (a === '--warmup') o.warmup = Number(value());
    else if (a === '--servers') o.servers = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--filter') o.filter = value();
    else if (a === '--quick') o.quick = true;
    else if (a === '--profile') o.profile = value();
    else if (a === '--readme') o.readme = true;
    else if (a === '--save-latest') o.saveLatest = true;
    else if (a === '--no-snapshot') o.snapshot = false;
    else if (a === '--render') o.render = value();
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  for (const s of o.scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}" (known: ${SCENARIOS.join(', ')})`);
  for (const s of o.servers) if (!WS_SERVERS.includes(s)) throw new Error(`unknown server "${s}" (known: ${WS_SERVERS.join(', ')})`);
  if (o.profile && !SERVERS[o.profile]) throw new Error(`unknown server "${o.profile}" for --profile`);
  o.rounds = o.rounds ?? (o.quick ? 1 : 3);
  o.duration = o.duration ?? (o.quick ? 0.5 : 2);
  o.warmup = o.warmup ?? (o.quick ? 0.2 : 0.5);
  // A full run is the default set (the adapter comparison is its own run, saved as adapters-latest.json).
  o.full = !o.quick && DEFAULT_SCENARIOS.every((name) => o.scenarios.includes(name)) && o.servers.length === WS_SERVERS.length && !o.filter;
  o.adaptersOnly = o.scenarios.every((name) => name.startsWith('adapters'));
  return o;
}

function positive(name, v) {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number`);
  return n;
}

// ---------------------------------------------------------------- scenarios

const higher = (key, unit) => ({ key, unit, better: 'higher' });
const lower = (key, unit) => ({ key, unit, better: 'lower' });

/** Every scenario and its variants; `task` is what the load generator receives. */
function buildScenarios(o) {
  const timed = { warmup: Math.round(o.warmup * 1000), duration: Math.round(o.duration * 1000) };
  const q = o.quick;
  const list = [];

  list.push({
    name: 'validate',
    title: 'load generator check (raw net echo, no WebSocket)',
    servers: ['net'],
    variants: [
      { id: 'net echo 16 B x1', task: { type: 'echo', size: 16, opcode: 2, conns: 1, batchBytes: 64 * KiB, ...timed }, metrics: [higher('msgPerSec', 'msg/s')] },
      ...(q ? [] : [{ id: 'net echo 16 B x64', task: { type: 'echo', size: 16, opcode: 2, conns: 64, batchBytes: 8 * KiB, ...timed }, metrics: [higher('msgPerSec', 'msg/s')] }]),
      ...(q ? [] : [{ id: 'net echo 64 KiB x1', task: { type: 'echo', size: 64 * KiB, opcode: 2, conns: 1, batchBytes: 4 * 64 * KiB + 64, ...timed }, metrics: [higher('mbPerSec', 'MB/s')] }]),
      ...(q ? [] : [{ id: 'net broadcast 128 B to 1k', task: { type: 'broadcast', conns: 1000, size: 128, count: 200, warmCount: 20 }, metrics: [higher('deliveriesPerSec', 'msg/s')] }]),
    ],
  });

  const small = [];
  for (const size of [16, 1024]) {
    for (const kind of ['text', 'binary']) {
      for (const conns of [1, 64]) {
        if (q && !(size === 16 && kind === 'binary')) continue;
        small.push({
          id: `echo ${size === 16 ? '16 B' : '1 KiB'} ${kind} x${conns}`,
          task: { type: 'echo', size, opcode: kind === 'text' ? 1 : 2, conns, batchBytes: conns === 1 ? 64 * KiB : 8 * KiB, ...timed },
          metrics: [higher('msgPerSec', 'msg/s')],
        });
      }
    }
  }
  list.push({ name: 'small', title: 'pipelined small-message echo', servers: WS_SERVERS, variants: small });

  const large = [];
  for (const [label, size] of [['64 KiB', 64 * KiB], ['1 MiB', MiB], ['16 MiB', 16 * MiB]]) {
    if (q && size !== 64 * KiB) continue;
    // 64 KiB: four messages per write; 1 MiB and 16 MiB: one message per write. Two writes in flight.
    large.push({ id: `echo ${label} binary x1`, task: { type: 'echo', size, opcode: 2, conns: 1, batchBytes: size < MiB ? 4 * size + 64 : 1, ...timed }, metrics: [higher('mbPerSec', 'MB/s')] });
  }
  list.push({ name: 'large', title: 'large-message echo', servers: WS_SERVERS, variants: large });

  list.push({
    name: 'idle',
    title: 'idle connection memory (server RSS growth / connection, after GC)',
    servers: WS_SERVERS,
    fresh: true,
    variants: [1000, 10000]
      .filter((n) => !q || n === 1000)
      .map((n) => ({ id: `idle ${n / 1000}k conns`, task: { type: 'idle', conns: n, concurrency: 128 }, metrics: [lower('kibPerConn', 'KiB/conn'), lower('heapPerConn', 'KiB heap/conn')] })),
  });

  list.push({
    name: 'handshake',
    title: 'handshake rate (connect + upgrade + close handshake, 32 in parallel)',
    servers: WS_SERVERS,
    variants: [{ id: 'handshakes x32 parallel', task: { type: 'handshake', parallel: 32, ...timed }, metrics: [higher('perSec', 'conn/s')] }],
  });

  list.push({
    name: 'broadcast',
    title: 'broadcast of 128 B to 1,000 clients, 1 or 16 messages per event-loop turn (deliveries/s until every client has every message)',
    servers: WS_SERVERS,
    variants: [
      { id: 'broadcast 128 B to 1k', task: { type: 'broadcast', conns: 1000, size: 128, burst: 1, count: q ? 50 : 200, warmCount: q ? 10 : 20 }, metrics: [higher('deliveriesPerSec', 'msg/s')] },
      ...(q ? [] : [{ id: 'broadcast 128 B to 1k, 16/turn', task: { type: 'broadcast', conns: 1000, size: 128, burst: 16, count: 320, warmCount: 32 }, metrics: [higher('deliveriesPerSec', 'msg/s')] }]),
    ],
  });

  list.push({
    name: 'latency',
    title: 'round-trip latency of 16 B at a fixed 4,000 msg/s over 16 connections',
    servers: WS_SERVERS,
    variants: [{ id: 'latency 16 B @4k/s x16', task: { type: 'latency', conns: 16, rate: 4000, size: 16, ...timed }, metrics: [lower('p50', 'µs p50'), lower('p99', 'µs p99')] }],
  });

  list.push({
    name: 'compressed-idle',
    title: 'idle permessage-deflate connection memory (server RSS growth / connection, after GC)',
    servers: ['wsuite', 'ws'],
    notApplicable: { websocket: 'no permessage-deflate in WebSocket-Node' },
    deflate: true,
    fresh: true,
    variants: [{ id: 'idle 1k deflate conns', task: { type: 'idle', deflate: true, conns: 1000, concurrency: 128 }, metrics: [lower('kibPerConn', 'KiB/conn'), lower('heapPerConn', 'KiB heap/conn')] }],
  });

  list.push({
    name: 'compressed',
    title: 'permessage-deflate echo of JSON text (client_no_context_takeover)',
    servers: ['wsuite', 'ws', 'ws+bufferutil'],
    notApplicable: { websocket: 'no permessage-deflate in WebSocket-Node' },
    deflate: true,
    variants: [
      { id: 'deflate echo 1 KiB text x1', task: { type: 'echo', deflate: true, size: KiB, opcode: 1, conns: 1, batchBytes: 64 * KiB, ...timed }, metrics: [higher('msgPerSec', 'msg/s')] },
      ...(q ? [] : [{ id: 'deflate echo 16 KiB text x1', task: { type: 'echo', deflate: true, size: 16 * KiB, opcode: 1, conns: 1, batchBytes: 64 * KiB, ...timed }, metrics: [higher('msgPerSec', 'msg/s')] }]),
    ],
  });

  // Text only: Nest gateways answer with JSON text whatever came in.
  list.push({
    name: 'adapters',
    title: 'framework adapters: wsuite\'s against the ws-based one each replaces (echo through the framework\'s route handler; Nest: a gateway\'s `echo` event)',
    servers: ADAPTER_SERVERS,
    pairs: ADAPTER_PAIRS,
    variants: [
      { id: 'adapter echo 16 B text x64', task: { type: 'echo', size: 16, opcode: 1, conns: 64, batchBytes: 8 * KiB, ...timed }, metrics: [higher('msgPerSec', 'msg/s')] },
      ...(q ? [] : [{ id: 'adapter echo 1 KiB text x1', task: { type: 'echo', size: KiB, opcode: 1, conns: 1, batchBytes: 64 * KiB, ...timed }, metrics: [higher('msgPerSec', 'msg/s')] }]),
      ...(q ? [] : [{ id: 'adapter handshakes x32 parallel', task: { type: 'handshake', parallel: 32, ...timed }, metrics: [higher('perSec', 'conn/s')] }]),
    ],
  });

  list.push({
    name: 'adapters-idle',
    title: 'framework adapters: idle connection memory (server RSS growth / connection, after GC)',
    servers: ADAPTER_SERVERS,
    pairs: ADAPTER_PAIRS,
    fresh: true,
    variants: [{ id: 'adapter idle 1k conns', task: { type: 'idle', conns: 1000, concurrency: 128 }, metrics: [lower('kibPerConn', 'KiB/conn'), lower('heapPerConn', 'KiB heap/conn')] }],
  });

  return list
    .filter((s) => o.scenarios.includes(s.name))
    .map((s) => ({
      ...s,
      // --servers picks among the WebSocket servers; the validation and adapter scenarios keep theirs.
      servers: s.name === 'validate' || s.pairs ? s.servers : s.servers.filter((name) => o.servers.includes(name)),
      variants: s.variants.filter((v) => !o.filter || v.id.includes(o.filter) || s.name === 'validate'),
    }))
    .filter((s) => s.variants.length > 0);
}

// ---------------------------------------------------------------- processes

let fdSoftLimit = Infinity;
let fdHardLimit = Infinity;
function readFdLimits() {
  try {
    fdSoftLimit = Number(execSync('ulimit -Sn', { shell: '/bin/sh' }).toString().trim()) || Infinity;
    fdHardLimit = Number(execSync('ulimit -Hn', { shell: '/bin/sh' }).toString().trim()) || Infinity;
  } catch {
    // unknown: spawn as is
  }
}

/**
 * Fork a Node script with an IPC channel. When it needs more file descriptors than the soft
 * limit, it is started through `sh -c 'ulimit -n N; exec node …'` (up to the hard limit).
 */
function forkNode(script, { env, execArgv = [], fds = 0, stdio = ['ignore', 'pipe', 'pipe', 'ipc'] }) {
  if (fds + 256 <= fdSoftLimit) return fork(script, [], { env, execArgv, stdio });
  const want = Math.min(fds + 1024, fdHardLimit);
  if (want < fds + 64) console.error(`warning: ${fds} connections need more file descriptors than the hard limit ${fdHardLimit} allows`);
  return spawn('/bin/sh', ['-c', `ulimit -n ${want} 2>/dev/null; exec "$@"`, 'sh', process.execPath, ...execArgv, script], { env, stdio });
}

/**
 * Copy packages/core (package.json + dist) to a temporary folder, so that every round measures
 * the same build even if someone rebuilds core during the run. Returns its entry and a hash.
 */
function snapshotCore() {
  const crypto = require('node:crypto');
  const source = path.join(ROOT, 'packages', 'core');
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'wsuite-bench-core-'));
  fs.cpSync(path.join(source, 'dist'), path.join(target, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.map') });
  fs.copyFileSync(path.join(source, 'package.json'), path.join(target, 'package.json'));
  const hash = crypto.createHash('sha256');
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) hash.update(entry.name).update(fs.readFileSync(full));
    }
  };
  walk(path.join(target, 'dist'));
  return { dir: target, entry: path.join(target, 'dist', 'index.js'), sha256: hash.digest('hex').slice(0, 16) };
}

let coreSnapshot = null;
let profileCount = 0;
/** Start one server; resolves once it printed "ready <port> <info>". */
function startServer(name, { deflate = false, profile = false, fds = 0 } = {}) {
  const def = SERVERS[name];
  const env = { ...process.env, ...(def.env || {}) };
  for (const key of def.unset || []) delete env[key];
  delete env.BENCH_DEFLATE;
  if (deflate) env.BENCH_DEFLATE = '1';
  if (coreSnapshot) env.BENCH_WSUITE_CORE = coreSnapshot.entry;
  const execArgv = ['--expose-gc'];
  if (profile) {
    const dir = path.join(RESULTS, 'profiles');
    fs.mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name.replace(/\W/g, '_')}-${Date.now()}-${++profileCount}.cpuprofile`);
  }
  const child = forkNode(path.join(__dirname, 'servers', def.script), { env, execArgv, fds });
  let nextId = 0;
  const pending = new Map();
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  child.on('message', (m) => {
    const resolve = m && pending.get(m.id);
    if (resolve) {
      pending.delete(m.id);
      resolve(m);
    }
  });
  // A server that dies mid-run: fail its pending and future requests at once, with its stderr.
  const exitReason = () => `${name} server exited (${child.exitCode ?? child.signalCode})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-6).join(' | ')}` : ''}`;
  child.on('error', () => {});
  child.once('exit', () => {
    for (const [id, resolve] of pending) {
      pending.delete(id);
      resolve({ error: exitReason() });
    }
  });
  const handle = {
    name,
    child,
    port: 0,
    info: null,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    exitReason,
    rpc(message, timeoutMs = 180000) {
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        if (handle.exited()) return reject(new Error(exitReason()));
        const timer = timers.setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: no answer to ${message.cmd} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, (m) => {
          timers.clearTimeout(timer);
          if (m.error) reject(new Error(m.error));
          else resolve(m);
        });
        child.send({ ...message, id });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        child.send({ cmd: 'exit' });
      } catch {
        // already gone
      }
      const timer = timers.setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      timers.clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = timers.setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print "ready" within 20 s. stderr: ${stderr}`));
    }, 20000);
    child.stdout.on('data', (d) => {
      if (handle.port) return;
      out += d;
      const match = /^ready (\d+) (.*)$/m.exec(out);
      if (match) {
        timers.clearTimeout(timer);
        handle.port = Number(match[1]);
        handle.info = JSON.parse(match[2]);
        resolve(handle);
      }
    });
    child.once('exit', (code) => {
      timers.clearTimeout(timer);
      if (!handle.port) reject(new Error(`${name} exited (${code}) before "ready". stderr: ${stderr}`));
    });
  });
}

/** Run one load-generator task against one server, relaying its events. */
async function measure(server, task, hooks = {}) {
  const client = forkNode(CLIENT, { env: process.env, fds: task.conns || 0, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const cpu = {};
  const side = [];
  const result = await new Promise((resolve, reject) => {
    let done = false;
    const guard = timers.setTimeout(() => {
      client.kill('SIGKILL');
      reject(new Error('load generator timed out'));
    }, 10 * 60 * 1000);
    client.on('message', (m) => {
      if (m.type === 'window') {
        side.push(server.rpc({ cmd: 'cpu' }).then((r) => (cpu[m.phase] = r)));
      } else if (m.type === 'event' && hooks.onEvent) {
        side.push(
          Promise.resolve(hooks.onEvent(m, client)).catch((error) => {
            client.kill('SIGKILL');
            reject(error);
          }),
        );
      } else if (m.type === 'result') {
        done = true;
        timers.clearTimeout(guard);
        resolve(m.result);
      }
    });
    client.once('exit', (code) => {
      if (!done) {
        timers.clearTimeout(guard);
        reject(new Error(`load generator exited (${code}) without a result`));
      }
    });
    client.send({ ...task, port: server.port, raw: server.name === 'net' });
  });
  await Promise.allSettled(side);
  if (server.exited()) result.errors = [...(result.errors || []), server.exitReason()];
  if (cpu.start && cpu.end) result.serverCpu = (cpu.end.cpu - cpu.start.cpu) / 1000 / (cpu.end.t - cpu.start.t);
  return result;
}

/** Scenario-specific measurement: idle memory and broadcast drive the server over IPC. */
async function measureVariant(scenario, variant, server) {
  const task = variant.task;
  if (task.type === 'idle') {
    const before = await server.rpc({ cmd: 'mem' });
    let after = null;
    let openMs = 0;
    const result = await measure(server, task, {
      async onEvent(m, client) {
        if (m.name !== 'connected') return;
        openMs = m.openMs;
        await sleep(1000);
        after = await server.rpc({ cmd: 'mem' });
        client.send({ cmd: 'release' });
      },
    });
    if (!after) return { ...result, errors: [...(result.errors || []), 'no memory reading'] };
    const n = task.conns;
    const errors = [...(result.errors || [])];
    if (after.connections !== n) errors.push(`server counted ${after.connections} connections, expected ${n}`);
    return {
      ...result,
      openMs,
      kibPerConn: (after.rss - before.rss) / n / KiB,
      heapPerConn: (after.heapUsed - before.heapUsed) / n / KiB,
      externalPerConn: (after.external - before.external) / n / KiB,
      rssBefore: before.rss,
      rssAfter: after.rss,
      errors,
    };
  }
  if (task.type === 'broadcast') {
    const serverLoops = [];
    const result = await measure(server, task, {
      async onEvent(m) {
        if (m.name !== 'broadcast') return;
        // The server may not have registered the last accepted sockets yet.
        for (let i = 0; i < 100; i++) {
          const { connections } = await server.rpc({ cmd: 'info' });
          if (connections >= task.conns) break;
          await sleep(50);
        }
        const r = await server.rpc({ cmd: 'broadcast', count: m.count, size: m.size, burst: task.burst || 1 });
        serverLoops.push({ phase: m.phase, ms: r.elapsedMs, connections: r.connections });
      },
    });
    return { ...result, serverLoops };
  }
  return measure(server, task);
}

// ---------------------------------------------------------------- statistics and output

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function geomean(values) {
  const v = values.filter((x) => typeof x === 'number' && x > 0);
  if (v.length === 0) return null;
  return Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);
}

function formatValue(value, unit) {
  if (value === null || value === undefined) return 'n/a';
  if (/msg\/s|conn\/s/.test(unit)) return Math.round(value).toLocaleString('en-US');
  if (/KiB/.test(unit)) return value.toFixed(2);
  if (value >= 100) return value.toFixed(0);
  return value.toFixed(1);
}

const formatRatio = (r) => (r === null || r === undefined ? '–' : `${r.toFixed(2)}x`);
const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');

/** A measurement counts only when it ran and reported no error (errors are listed, not averaged). */
const valid = (r) => !!r && !r.na && !r.failed && !(r.errors && r.errors.length);

/** Median value and median same-round ratios for every (variant, metric, server). */
function summarize(scenarios, records, rounds) {
  const rows = [];
  for (const scenario of scenarios) {
    for (const variant of scenario.variants) {
      const rec = records[variant.id] || {};
      for (const metric of variant.metrics) {
        const names = [...scenario.servers, ...Object.keys(scenario.notApplicable || {}).filter((n) => WS_SERVERS.includes(n))];
        for (const name of names) {
          const perRound = rec[name] || [];
          const na = (scenario.notApplicable || {})[name] || perRound.find((r) => r && r.na)?.reason || null;
          const values = perRound.map((r) => (valid(r) ? r[metric.key] : null));
          const ratio = (ref) => {
            const refRounds = rec[ref] || [];
            const ratios = [];
            for (let i = 0; i < rounds; i++) {
              const a = values[i];
              const b = valid(refRounds[i]) ? refRounds[i][metric.key] : null;
              if (typeof a === 'number' && typeof b === 'number' && b > 0) ratios.push(a / b);
            }
            return { values: ratios, median: median(ratios) };
          };
          // Throughput per second of server CPU: much less sensitive to what else the machine runs.
          const efficiency = perRound.map((r, i) => (metric.better === 'higher' && r && typeof values[i] === 'number' && r.serverCpu > 0 ? values[i] / r.serverCpu : null));
          const effRatio = (ref) => {
            const refRounds = rec[ref] || [];
            const ratios = [];
            for (let i = 0; i < rounds; i++) {
              const b = refRounds[i];
              const bEff = valid(b) && b.serverCpu > 0 && typeof b[metric.key] === 'number' ? b[metric.key] / b.serverCpu : null;
              if (typeof efficiency[i] === 'number' && bEff) ratios.push(efficiency[i] / bEff);
            }
            return median(ratios);
          };
          const isRef = name === 'net';
          const peer = scenario.pairs && scenario.pairs[name];
          rows.push({
            scenario: scenario.name,
            variant: variant.id,
            metric: metric.key,
            unit: metric.unit,
            better: metric.better,
            server: name,
            label: SERVERS[name].label,
            values,
            median: median(values),
            notApplicable: na,
            peer: peer || null,
            vsPeer: peer ? ratio(peer) : null,
            perServerCpuSecondVsPeer: peer ? effRatio(peer) : null,
            vsWs: isRef ? null : ratio('ws'),
            vsWsBufferutil: isRef ? null : ratio('ws+bufferutil'),
            perServerCpuSecond: median(efficiency),
            perServerCpuSecondVsWs: isRef ? null : effRatio('ws'),
            perServerCpuSecondVsWsBufferutil: isRef ? null : effRatio('ws+bufferutil'),
            serverCpu: median(perRound.map((r) => (valid(r) ? r.serverCpu : null))),
            clientCpu: median(perRound.map((r) => (valid(r) ? r.clientCpu : null))),
            errors: [...new Set(perRound.flatMap((r) => (r && r.errors) || []))],
          });
        }
      }
    }
  }
  return rows;
}

function markdownTable(rows) {
  const lines = [
    '| scenario | server | median | unit | vs ws | vs ws+bufferutil | CPU server / client | per server CPU-s vs ws / ws+bufferutil |',
    '|---|---|---:|---|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const arrow = r.better === 'higher' ? '↑' : '↓';
    const value = r.notApplicable
      ? `n/a (${r.notApplicable})`
      : r.median === null && r.errors.length
        ? `failed ⚠ (${r.errors[0].slice(0, 60)})`
        : formatValue(r.median, r.unit) + (r.errors.length ? ` ⚠ (${r.values.filter((v) => v === null).length} of ${r.values.length} rounds failed)` : '');
    const cpu = r.serverCpu !== null || r.clientCpu !== null ? `${pct(r.serverCpu)} / ${pct(r.clientCpu)}` : '';
    const eff = r.perServerCpuSecondVsWs !== null || r.perServerCpuSecondVsWsBufferutil !== null ? `${formatRatio(r.perServerCpuSecondVsWs)} / ${formatRatio(r.perServerCpuSecondVsWsBufferutil)}` : '';
    lines.push(`| ${r.variant} | ${r.label} | ${value} | ${r.unit} ${arrow} | ${formatRatio(r.vsWs && r.vsWs.median)} | ${formatRatio(r.vsWsBufferutil && r.vsWsBufferutil.median)} | ${cpu} | ${eff} |`);
  }
  return lines.join('\n');
}

/** Adapter rows: each wsuite adapter beside the ws-based one it replaces, with their ratio. */
function adapterTable(rows) {
  const lines = [
    '| scenario | framework adapter | median | ws-based adapter | median | unit | wsuite / ws-based | per server CPU-s |',
    '|---|---|---:|---|---:|---|---:|---:|',
  ];
  const shown = (r) => (r.median === null && r.errors.length ? `failed ⚠ (${r.errors[0].slice(0, 60)})` : formatValue(r.median, r.unit) + (r.errors.length ? ' ⚠' : ''));
  for (const r of rows.filter((x) => x.peer)) {
    const other = rows.find((x) => x.variant === r.variant && x.metric === r.metric && x.server === r.peer);
    if (!other) continue;
    const arrow = r.better === 'higher' ? '↑' : '↓';
    lines.push(`| ${r.variant} | ${r.label} | ${shown(r)} | ${other.label} | ${shown(other)} | ${r.unit} ${arrow} | ${formatRatio(r.vsPeer && r.vsPeer.median)} | ${formatRatio(r.perServerCpuSecondVsPeer)} |`);
  }
  return lines.join('\n');
}

/** The issue's targets for wsuite, read off the rows. */
function targets(rows) {
  const w = (pred) => rows.filter((r) => r.server === 'wsuite' && pred(r));
  const pick = (list, ref) => list.map((r) => (ref === 'ws' ? r.vsWs : r.vsWsBufferutil)?.median ?? null);
  const defs = [
    { name: 'small echo (geomean of variants)', rows: w((r) => r.scenario === 'small'), goal: '≥ 3x ws', ref: 'ws', ok: (x) => x >= 3, agg: geomean },
    { name: 'large echo (worst size)', rows: w((r) => r.scenario === 'large'), goal: '≥ 1x ws+bufferutil', ref: 'ws+bufferutil', ok: (x) => x >= 1, agg: (v) => (v.some((x) => x !== null) ? Math.min(...v.filter((x) => x !== null)) : null) },
    // The issue sets this target at 10k connections; at 1k, one-off costs (code, first-use
    // allocations) still weigh on the per-connection figure, which the table shows too.
    { name: 'idle memory RSS at 10k', rows: w((r) => r.variant === 'idle 10k conns' && r.metric === 'kibPerConn'), goal: '≤ 0.85x ws', ref: 'ws', ok: (x) => x <= 0.85, agg: (v) => v[0] ?? null },
    { name: 'handshake rate', rows: w((r) => r.scenario === 'handshake'), goal: '≥ 1.3x ws', ref: 'ws', ok: (x) => x >= 1.3, agg: (v) => v[0] ?? null },
    { name: 'broadcast (1 message per turn)', rows: w((r) => r.variant === 'broadcast 128 B to 1k'), goal: '≥ 1.3x ws', ref: 'ws', ok: (x) => x >= 1.3, agg: (v) => v[0] ?? null },
    { name: 'latency p50', rows: w((r) => r.scenario === 'latency' && r.metric === 'p50'), goal: '≤ 1x ws', ref: 'ws', ok: (x) => x <= 1, agg: (v) => v[0] ?? null },
    { name: 'compressed echo 1 KiB', rows: w((r) => r.variant === 'deflate echo 1 KiB text x1'), goal: '≥ 1x ws', ref: 'ws', ok: (x) => x >= 1, agg: (v) => v[0] ?? null },
  ];
  return defs
    .filter((d) => d.rows.length > 0)
    .map((d) => {
      const vsWs = d.agg(pick(d.rows, 'ws'));
      const vsBu = d.agg(pick(d.rows, 'ws+bufferutil'));
      const judged = d.ref === 'ws' ? vsWs : vsBu;
      // A wsuite variant without any valid measurement (it failed) fails the target.
      const missing = d.rows.filter((r) => r.median === null && !r.notApplicable).length;
      return {
        target: missing ? `${d.name}; ${missing} variant(s) failed` : d.name,
        goal: d.goal,
        vsWs,
        vsWsBufferutil: vsBu,
        perVariant: d.rows.map((r) => ({ variant: r.variant, vsWs: r.vsWs?.median ?? null, vsWsBufferutil: r.vsWsBufferutil?.median ?? null })),
        met: missing ? false : judged === null ? null : d.ok(judged),
      };
    });
}

function targetsTable(list) {
  const lines = ['| target | goal | wsuite vs ws | wsuite vs ws+bufferutil | met |', '|---|---|---:|---:|---|'];
  for (const t of list) lines.push(`| ${t.target} | ${t.goal} | ${formatRatio(t.vsWs)} | ${formatRatio(t.vsWsBufferutil)} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}

function machine() {
  const cpus = os.cpus();
  let commit = '';
  let dirty = 0;
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    dirty = execSync('git status --porcelain -- packages/core', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().split('\n').filter(Boolean).length;
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    commit,
    coreFilesChangedSinceCommit: dirty,
  };
}

/** Write `markdown` between the `<!-- {block}:begin -->` and `<!-- {block}:end -->` marks of the README. */
function updateReadme(markdown, block = 'bench') {
  const file = path.join(ROOT, 'README.md');
  const text = fs.readFileSync(file, 'utf8');
  const begin = `<!-- ${block}:begin -->`;
  const end = `<!-- ${block}:end -->`;
  const section = `${begin}\n${markdown}\n${end}`;
  let next;
  if (text.includes(begin) && text.includes(end)) {
    next = text.slice(0, text.indexOf(begin)) + section + text.slice(text.indexOf(end) + end.length);
  } else if (block !== 'bench') {
    throw new Error(`README.md has no ${begin} … ${end} section to update.`);
  } else {
    next = `${text.trimEnd()}\n\n## Performance\n\nMeasured with \`npm run bench\` (see [bench/README.md](bench/README.md)). Ratios compare wsuite with \`ws\` measured in the same round on the same machine; absolute numbers drift on a shared machine, ratios much less.\n\n${section}\n`;
  }
  fs.writeFileSync(file, next);
}

/** Rows, targets, load-generator check and the markdown of a run. */
function report(scenarios, records, o, info, date) {
  const rows = summarize(scenarios, records, o.rounds);
  const goalList = targets(rows);
  const validation = rows.find((r) => r.scenario === 'validate' && r.variant === 'net echo 16 B x1');
  const fastestWs = Math.max(0, ...rows.filter((r) => r.scenario === 'small' && r.variant.startsWith('echo 16 B') && r.median).map((r) => r.median));
  const check = validation && validation.median
    ? {
        netEcho16BMsgPerSec: validation.median,
        pass: validation.median >= 1e6,
        headroomOverFastestWebSocket: fastestWs ? validation.median / fastestWs : null,
      }
    : null;

  const lines = [];
  lines.push(`Date: ${date} · machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB RAM, ${info.os}, Node ${info.node} · shared machine, load average at start ${info.loadAverageAtStart.join(' ')} · ${o.rounds} round(s), ${o.duration} s windows · commit ${info.commit}${info.coreFilesChangedSinceCommit ? ` (+${info.coreFilesChangedSinceCommit} uncommitted core files)` : ''}${info.coreBuild ? `, core build ${info.coreBuild}` : ''}`);
  lines.push('');
  if (check) {
    lines.push(
      `Load generator check: raw net echo of 16 B frames on 1 connection: ${formatValue(check.netEcho16BMsgPerSec, 'msg/s')} msg/s (${check.pass ? 'PASS' : 'BELOW'} the 1M msg/s bar${check.headroomOverFastestWebSocket ? `; ${check.headroomOverFastestWebSocket.toFixed(1)}x the fastest WebSocket server's 16 B echo` : ''}).`,
    );
    lines.push('');
  }
  const mainRows = rows.filter((r) => !r.scenario.startsWith('adapters'));
  const adapterRows = rows.filter((r) => r.scenario.startsWith('adapters'));
  if (mainRows.length) lines.push(markdownTable(mainRows));
  if (adapterRows.length) {
    if (mainRows.length) lines.push('');
    lines.push('Framework adapters (each against the ws-based adapter it replaces, same round; ratios are medians of same-round ratios):');
    lines.push('');
    lines.push(adapterTable(adapterRows));
  }
  if (goalList.length) {
    lines.push('');
    lines.push('Targets (ratios are medians of same-round ratios; ↑ higher is better, ↓ lower is better):');
    lines.push('');
    lines.push(targetsTable(goalList));
  }
  const markdown = lines.join('\n');
  return { rows, goalList, check, markdown };

}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.render) {
    const saved = JSON.parse(fs.readFileSync(o.render, 'utf8'));
    const so = { ...parseArgs([]), ...saved.options, scenarios: saved.options.scenarios, servers: saved.options.servers };
    const { markdown } = report(buildScenarios(so), saved.raw, so, saved.machine, saved.date);
    console.log(`\n${markdown}\n`);
    if (o.readme) updateReadme(markdown, so.scenarios.every((name) => name.startsWith('adapters')) ? 'bench-adapters' : 'bench');
    return;
  }
  readFdLimits();
  const scenarios = buildScenarios(o);
  const started = new Date();
  const info = machine();
  if (o.snapshot && scenarios.some((s) => s.servers.includes('wsuite'))) {
    coreSnapshot = snapshotCore();
    info.coreBuild = coreSnapshot.sha256;
    process.on('exit', () => fs.rmSync(coreSnapshot.dir, { recursive: true, force: true }));
  }
  const log = (s) => process.stderr.write(`${s}\n`);
  log(`wsuite bench: ${scenarios.map((s) => s.name).join(', ')}; ${o.rounds} round(s), ${o.duration} s windows after ${o.warmup} s warm-up; servers: ${[...new Set(scenarios.flatMap((s) => s.servers))].join(', ')}`);
  log(`machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, ${info.os}, Node ${info.node}, load ${info.loadAverageAtStart.join(' ')}; fd limit ${fdSoftLimit}/${fdHardLimit}`);

  const records = {}; // variant id -> server -> per-round result
  const serverInfo = {};
  const t0 = Date.now();
  for (const scenario of scenarios) {
    log(`\n== ${scenario.name}: ${scenario.title}`);
    const maxConns = Math.max(0, ...scenario.variants.map((v) => v.task.conns || 0));
    const serverOptions = (name) => ({ deflate: !!scenario.deflate, profile: o.profile === name, fds: maxConns });
    for (let round = 0; round < o.rounds; round++) {
      let running = {};
      if (!scenario.fresh) {
        for (const name of scenario.servers) running[name] = await startServer(name, serverOptions(name));
      }
      try {
        for (const variant of scenario.variants) {
          for (const name of scenario.servers) {
            if (!scenario.fresh && running[name].exited()) running[name] = await startServer(name, serverOptions(name));
            const server = scenario.fresh ? await startServer(name, serverOptions(name)) : running[name];
            serverInfo[`${name}${scenario.deflate ? ' (deflate)' : ''}`] = server.info;
            let result;
            try {
              result = await measureVariant(scenario, variant, server);
            } catch (error) {
              result = { failed: true, errors: [error.message, ...(server.exited() ? [server.exitReason()] : [])] };
            } finally {
              if (scenario.fresh) await server.stop();
            }
            ((records[variant.id] ||= {})[name] ||= [])[round] = result;
            const shown = result.na
              ? `n/a (${result.reason})`
              : variant.metrics.map((m) => `${formatValue(result[m.key], m.unit)} ${m.unit}`).join(', ');
            const cpu = result.serverCpu !== undefined || result.clientCpu !== undefined ? `  [cpu server ${pct(result.serverCpu)}, client ${pct(result.clientCpu)}]` : '';
            const errors = result.errors && result.errors.length ? `  ERRORS: ${result.errors.join('; ')}` : '';
            log(`  r${round + 1} ${variant.id.padEnd(32)} ${SERVERS[name].label.padEnd(27)} ${shown}${cpu}${errors}`);
          }
        }
      } finally {
        await Promise.all(Object.values(running).map((s) => s.stop()));
        running = {};
      }
    }
  }
  const elapsed = (Date.now() - t0) / 1000;

  const date = started.toISOString().replace(/\.\d+Z$/, 'Z');
  const { rows, goalList, check, markdown } = report(scenarios, records, o, info, date);
  console.log(`\n${markdown}\n`);
  log(`finished in ${elapsed.toFixed(0)} s`);

  const json = {
    date,
    elapsedSeconds: Math.round(elapsed),
    machine: { ...info, loadAverageAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))) },
    options: { scenarios: o.scenarios, rounds: o.rounds, duration: o.duration, warmup: o.warmup, servers: o.servers, filter: o.filter, quick: o.quick, profile: o.profile },
    servers: serverInfo,
    loadGeneratorCheck: check,
    targets: goalList,
    rows,
    raw: records,
    scenarios: scenarios.map((s) => ({ name: s.name, title: s.title, servers: s.servers, variants: s.variants.map((v) => ({ id: v.id, task: v.task })) })),
  };
  fs.mkdirSync(RESULTS, { recursive: true });
  const stamp = date.replace(/[:]/g, '-');
  const dated = path.join(RESULTS, `${stamp}${o.full ? '' : '-partial'}.json`);
  fs.writeFileSync(dated, `${JSON.stringify(json, null, 2)}\n`);
  log(`results: ${path.relative(ROOT, dated)}`);
  if (o.full || o.saveLatest || (o.adaptersOnly && !o.quick && !o.filter)) {
    const latest = o.adaptersOnly ? 'adapters-latest.json' : 'latest.json';
    fs.writeFileSync(path.join(RESULTS, latest), `${JSON.stringify(json, null, 2)}\n`);
    log(`results: bench/results/${latest}`);
  }
  if (o.readme) {
    updateReadme(markdown, o.adaptersOnly ? 'bench-adapters' : 'bench');
    log('README.md: Performance section updated');
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
