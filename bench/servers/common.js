'use strict';
/**
 * What every benchmark server shares: an HTTP server on 127.0.0.1 (port 0), the "ready <port>
 * <info>" line the orchestrator waits for, and the IPC commands it sends (memory, CPU time,
 * broadcast, info, exit). A server exits when the orchestrator goes away.
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const timers = require('node:timers');

/** Limits are raised so that 16 MiB messages pass through every server. */
const MAX_MESSAGE = 32 * 1024 * 1024;
const DEFLATE = process.env.BENCH_DEFLATE === '1';

function reply(id, body) {
  if (process.send) process.send({ id, ...body });
}

function gcTwice() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

/**
 * `setup(httpServer)` mounts the WebSocket server and returns (or resolves with)
 * `{ broadcast(buffer), connections(): number, info(): object }`.
 * With `raw` (a raw net server, or a framework that makes its own HTTP server), `setup()` gets
 * no server and returns the one to listen on as `server`.
 */
async function run(name, setup, { raw = false } = {}) {
  let server;
  let impl;
  if (raw) {
    impl = await setup();
    server = impl.server;
  } else {
    server = http.createServer((request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' });
      response.end('WebSocket only\n');
    });
    impl = await setup(server);
  }
  server.on('error', (error) => {
    console.error(`${name}: ${error.message}`);
    process.exit(1);
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const info = { name, pid: process.pid, node: process.version, deflate: DEFLATE, ...impl.info() };
    process.stdout.write(`ready ${server.address().port} ${JSON.stringify(info)}\n`);
  });

  process.on('message', (message) => {
    if (!message || typeof message !== 'object') return;
    const { id, cmd } = message;
    if (cmd === 'mem') {
      gcTwice();
      // Let finalizers and freed native memory settle before reading RSS.
      timers.setTimeout(() => {
        gcTwice();
        const m = process.memoryUsage();
        reply(id, { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, connections: impl.connections() });
      }, 200);
    } else if (cmd === 'cpu') {
      const u = process.cpuUsage();
      reply(id, { cpu: u.user + u.system, t: performance.now() });
    } else if (cmd === 'info') {
      reply(id, { info: impl.info(), connections: impl.connections() });
    } else if (cmd === 'broadcast') {
      // `count` messages of `size` bytes, one per event-loop turn (as a server relaying
      // events would), to every connected client.
      const payload = Buffer.alloc(message.size, 0x62);
      const burst = message.burst || 1;
      const t0 = performance.now();
      let sent = 0;
      const step = () => {
        for (let k = 0; k < burst && sent < message.count; k++, sent++) impl.broadcast(payload);
        if (sent < message.count) setImmediate(step);
        else reply(id, { elapsedMs: performance.now() - t0, connections: impl.connections() });
      };
      step();
    } else if (cmd === 'heapsnapshot') {
      // For investigations (see bench/README.md): a heap snapshot written to message.file.
      gcTwice();
      reply(id, { file: require('node:v8').writeHeapSnapshot(message.file) });
    } else if (cmd === 'exit') {
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  // Bounded: a server never outlives a benchmark run.
  timers.setTimeout(() => process.exit(4), 60 * 60 * 1000).unref();
}

/** Echo every message on a connection with the WebSocket-Node API (wsuite, websocket, the wsuite adapters). */
function echoMessages(connection) {
  connection.on('message', (message) => {
    if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
}

/** Which native helpers ended up loaded in this process (bufferutil, utf-8-validate). */
function nativeModules() {
  const keys = Object.keys(require.cache);
  const has = (pkg) => keys.some((k) => k.includes(`/node_modules/${pkg}/`));
  const native = (pkg) => keys.some((k) => k.includes(`/node_modules/${pkg}/`) && k.endsWith('.node'));
  const describe = (pkg) => (has(pkg) ? (native(pkg) ? 'native' : 'js-fallback') : 'not loaded');
  return { bufferutil: describe('bufferutil'), 'utf-8-validate': describe('utf-8-validate') };
}

module.exports = { run, MAX_MESSAGE, DEFLATE, nativeModules, echoMessages };
