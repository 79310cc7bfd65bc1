#!/usr/bin/env node
/**
 * `npm run soak`: holds many concurrent WebSocket connections on loopback with steady echo
 * traffic, then reports dropped connections, lost messages, the server's RSS per connection
 * and its event-loop delay. The server (scripts/soak-server.js, core's defaults) and the
 * clients (scripts/soak-client.js) are separate processes, each with its file-descriptor
 * limit raised as far as it needs (within the hard limit).
 *
 * Options (flags or environment): --connections N (SOAK_CONNECTIONS, 10000), --duration S
 * (SOAK_DURATION, 180), --interval MS between two messages of a connection (SOAK_INTERVAL,
 * 5000), --clients P processes (SOAK_CLIENTS, 2), --addresses K local addresses 127.0.0.x
 * (SOAK_ADDRESSES, 4), --payload BYTES (SOAK_PAYLOAD, 64); SOAK_CORE_DIST serves another
 * build of core. Exit code 0 only when every connection opened and none was dropped and no
 * message was lost.
 */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const path = require('node:path');
const { setTimeout } = require('node:timers');

const SAMPLE_EVERY_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;
const RAMP_TIMEOUT_MS = 300_000;

function option(flag, env, fallback) {
  const at = process.argv.indexOf(`--${flag}`);
  const raw = at !== -1 ? process.argv[at + 1] : process.env[env];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${flag} (${env}) must be a positive integer, got ${raw}.`);
  return value;
}

const settings = {
  connections: option('connections', 'SOAK_CONNECTIONS', 10_000),
  durationS: option('duration', 'SOAK_DURATION', 180),
  intervalMs: option('interval', 'SOAK_INTERVAL', 5000),
  clients: option('clients', 'SOAK_CLIENTS', 2),
  addresses: option('addresses', 'SOAK_ADDRESSES', 4),
  payloadBytes: option('payload', 'SOAK_PAYLOAD', 64),
};

/** The soft and hard `ulimit -n` of a shell started from here. */
function fileLimits() {
  const [soft, hard] = execFileSync('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
  const parse = (value) => (value === 'unlimited' ? Infinity : Number(value));
  return { soft: parse(soft), hard: parse(hard) };
}

/**
 * Start `script` with an IPC channel and `ulimit -n` raised to `files` (through a shell: Node
 * cannot raise its own limit), or fail when the hard limit does not allow that many.
 */
function startProcess(script, args, files, limits) {
  if (files > limits.hard) {
    throw new Error(`${path.basename(script)} needs ${files} file descriptors; the hard limit (ulimit -Hn) is ${limits.hard}. Use more --clients or fewer --connections.`);
  }
  const limit = Math.max(files, Math.min(limits.soft, limits.hard));
  const quoted = [process.execPath, script, ...args].map((part) => `'${String(part).replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${limit} && exec ${quoted}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`${path.basename(script)} exited early (code ${code}, signal ${signal}).`);
      process.exitCode = 1;
    }
  });
  return child;
}

/** The next IPC message of `type` from `child` (rejects after `timeoutMs`). */
function next(child, type, timeoutMs = REQUEST_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.removeListener('message', onMessage);
      reject(new Error(`no '${type}' message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.removeListener('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
  });
}

let statsId = 0;
async function serverStats(server, reset = false) {
  const id = ++statsId;
  const reply = next(server, 'stats');
  server.send({ type: 'stats', id, reset });
  return (await reply).stats;
}

const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
let shuttingDown = false;

async function main() {
  const limits = fileLimits();
  const { connections, durationS, intervalMs, clients, addresses, payloadBytes } = settings;
  console.log(`soak: ${connections} connections from ${clients} client processes over ${addresses} local addresses, one ${payloadBytes}-byte message per connection every ${intervalMs} ms (~${Math.round((connections * 1000) / intervalMs)} msg/s each way), for ${durationS} s`);
  console.log(`file descriptor limit here: soft ${limits.soft}, hard ${limits.hard}; raised per process as needed`);

  const children = [];
  const server = startProcess(path.join(__dirname, 'soak-server.js'), [], connections + 256, limits);
  children.push(server);
  const ready = await next(server, 'ready');
  const baseline = ready.stats;
  console.log(`server ready on 127.0.0.1:${ready.port}; RSS before connections ${mib(baseline.rss)}; limits maxConnections=${baseline.config.maxConnections}, maxBufferedAmount=${baseline.config.maxBufferedAmount}, handshakeTimeout=${baseline.config.handshakeTimeout}`);

  const share = Math.ceil(connections / clients);
  const workers = [];
  for (let i = 0; i < clients; i++) {
    const count = Math.min(share, connections - i * share);
    if (count <= 0) break;
    const args = {
      port: ready.port,
      count,
      firstId: i * share,
      addresses: Array.from({ length: addresses }, (_, k) => `127.0.0.${k + 1}`),
      intervalMs,
      payloadBytes,
      concurrency: 100,
    };
    const worker = startProcess(path.join(__dirname, 'soak-client.js'), [JSON.stringify(args)], count + 256, limits);
    children.push(worker);
    await next(worker, 'ready');
    workers.push(worker);
  }
  const finish = async (code) => {
    shuttingDown = true;
    for (const child of children) if (child.connected) child.send({ type: 'exit' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const child of children) if (child.exitCode === null) child.kill();
    process.exitCode = code;
  };

  const rampStart = Date.now();
  const opened = await Promise.all(workers.map((w) => {
    const reply = next(w, 'opened', RAMP_TIMEOUT_MS);
    w.send({ type: 'open' });
    return reply;
  }));
  const openedCount = opened.reduce((sum, m) => sum + m.totals.opened, 0);
  const failedCount = opened.reduce((sum, m) => sum + m.totals.failed, 0);
  const afterRamp = await serverStats(server, true);
  console.log(`ramp: ${openedCount} opened, ${failedCount} failed, in ${((Date.now() - rampStart) / 1000).toFixed(1)} s; server holds ${afterRamp.connections}; RSS ${mib(afterRamp.rss)} (${kib((afterRamp.rss - baseline.rss) / Math.max(1, afterRamp.connections))} per connection)`);

  for (const w of workers) w.send({ type: 'traffic' });
  const steadyStart = Date.now();
  const samples = [];
  // Bounded: one sample per interval until the duration is over.
  const rounds = Math.ceil((durationS * 1000) / SAMPLE_EVERY_MS);
  for (let round = 0; round < rounds; round++) {
    const wait = Math.min(SAMPLE_EVERY_MS, durationS * 1000 - (Date.now() - steadyStart));
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const stats = await serverStats(server);
    samples.push(stats);
    const progress = await Promise.all(workers.map((w) => {
      const reply = next(w, 'progress');
      w.send({ type: 'progress' });
      return reply;
    }));
    const sent = progress.reduce((s, m) => s + m.totals.sent, 0);
    const received = progress.reduce((s, m) => s + m.totals.received, 0);
    const dropped = progress.reduce((s, m) => s + m.totals.dropped, 0);
    console.log(`  t=${Math.round((Date.now() - steadyStart) / 1000)}s connections=${stats.connections} sent=${sent} echoed=${received} dropped=${dropped} RSS=${mib(stats.rss)} heap=${mib(stats.heapUsed)} loop delay p99=${stats.eventLoopDelay.p99} ms max=${stats.eventLoopDelay.max} ms`);
  }

  const reports = await Promise.all(workers.map((w) => {
    const reply = next(w, 'report', 60_000);
    w.send({ type: 'stop', graceMs: 30_000 });
    return reply;
  }));
  const final = await serverStats(server);
  const sum = (key) => reports.reduce((s, m) => s + m.report[key], 0);
  const result = {
    connections,
    opened: openedCount,
    failedToOpen: failedCount,
    droppedConnections: sum('dropped'),
    messagesSent: sum('sent'),
    messagesEchoed: sum('received'),
    messagesLost: sum('lost'),
    corruptEchoes: sum('corrupt'),
    durationS: Math.round((Date.now() - steadyStart) / 1000),
    serverRssBaseline: baseline.rss,
    serverRssAfterRamp: afterRamp.rss,
    serverRssPeak: Math.max(afterRamp.rss, ...samples.map((s) => s.rss)),
    serverRssEnd: final.rss,
    serverRssPerConnection: Math.round((Math.max(afterRamp.rss, ...samples.map((s) => s.rss)) - baseline.rss) / Math.max(1, openedCount)),
    serverHeapUsedEnd: final.heapUsed,
    serverEventLoopDelayMs: final.eventLoopDelay,
    serverCloseCodesDuringRun: samples.length > 0 ? samples[samples.length - 1].closes : {},
    serverUpgradeErrors: final.upgradeErrors,
    clientEventLoopDelayMs: reports.map((m) => m.report.eventLoopDelay),
  };
  const passed = result.opened === connections && result.failedToOpen === 0 && result.droppedConnections === 0 && result.messagesLost === 0 && result.corruptEchoes === 0;
  console.log('\nsoak report');
  console.log(`  connections held      ${result.opened} / ${connections} (failed to open: ${result.failedToOpen})`);
  console.log(`  dropped connections   ${result.droppedConnections}`);
  console.log(`  messages              ${result.messagesSent} sent, ${result.messagesEchoed} echoed, ${result.messagesLost} lost, ${result.corruptEchoes} corrupt`);
  console.log(`  server RSS            ${mib(result.serverRssBaseline)} before, ${mib(result.serverRssAfterRamp)} after ramp, ${mib(result.serverRssPeak)} peak, ${mib(result.serverRssEnd)} at end`);
  console.log(`  server RSS/connection ${kib(result.serverRssPerConnection)} (peak minus baseline, over connections)`);
  console.log(`  server loop delay     p50 ${result.serverEventLoopDelayMs.p50} ms, p99 ${result.serverEventLoopDelayMs.p99} ms, max ${result.serverEventLoopDelayMs.max} ms, mean ${result.serverEventLoopDelayMs.mean} ms (steady phase)`);
  console.log(`  server close codes    ${JSON.stringify(result.serverCloseCodesDuringRun)} during the run; upgrade errors ${JSON.stringify(result.serverUpgradeErrors)}`);
  console.log(`  result                ${passed ? 'PASS' : 'FAIL'}`);
  console.log(JSON.stringify(result));
  await finish(passed ? 0 : 1);
}

main().catch(async (error) => {
  console.error(error);
  shuttingDown = true;
  process.exit(1);
});
