/**
 * The soak test's server process (started by scripts/soak.js): a `WebSocketServer` from the
 * built packages/core/dist with its default options, echoing every message, on 127.0.0.1 port 0.
 * It answers the parent's IPC requests with its memory, event-loop delay and close counts.
 */
'use strict';
const http = require('node:http');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
// SOAK_CORE_DIST points at another build of core (to compare two builds under the same load).
const { WebSocketServer } = require(process.env.SOAK_CORE_DIST || path.join(__dirname, '..', 'packages', 'core', 'dist'));

const httpServer = http.createServer((_req, res) => {
  res.statusCode = 426;
  res.end();
});
const wss = new WebSocketServer({ httpServer });
const closes = {};
const upgradeErrors = {};
let accepted = 0;
let messages = 0;

wss.on('request', (request) => {
  const connection = request.accept();
  accepted++;
  connection.on('message', (message) => {
    messages++;
    if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
  connection.on('close', (code) => {
    closes[code] = (closes[code] ?? 0) + 1;
  });
});
wss.on('upgradeError', (error) => {
  upgradeErrors[error.code] = (upgradeErrors[error.code] ?? 0) + 1;
});

// The histogram records the time between two samples: the resolution is subtracted to get the delay.
const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();

/** What the parent asks for: current numbers, optionally resetting the delay histogram after. */
function stats(reset) {
  const memory = process.memoryUsage();
  const ms = (ns) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
  const snapshot = {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    connections: wss.connections.length,
    pendingRequests: wss.pendingRequests.length,
    accepted,
    messages,
    closes: { ...closes },
    upgradeErrors: { ...upgradeErrors },
    eventLoopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean) },
    config: { maxConnections: wss.config.maxConnections, maxBufferedAmount: wss.config.maxBufferedAmount, handshakeTimeout: wss.config.handshakeTimeout },
  };
  if (reset) delay.reset();
  return snapshot;
}

process.on('message', (request) => {
  if (request.type === 'stats') process.send({ type: 'stats', id: request.id, stats: stats(request.reset === true) });
  else if (request.type === 'exit') {
    wss.shutDown();
    httpServer.closeAllConnections();
    httpServer.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

httpServer.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.send({ type: 'ready', port: httpServer.address().port, stats: stats(true) });
});
