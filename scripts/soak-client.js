/**
 * A soak test client process (started by scripts/soak.js): opens its share of the connections
 * (raw TCP, frames from the built packages/core/dist), each from one of several local addresses
 * 127.0.0.x, then sends numbered text messages at a steady rate and checks every echo arrives
 * intact and in order. Reports what it sent, received, lost and saw dropped.
 */
'use strict';
const net = require('node:net');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { setInterval, clearInterval, setTimeout } = require('node:timers');
const { FrameParser, encodeFrame, computeAcceptKey } = require(path.join(__dirname, '..', 'packages', 'core', 'dist'));

const TICK_MS = 50;
const settings = JSON.parse(process.argv[2]);
const { port, count, firstId, addresses, intervalMs, payloadBytes, concurrency } = settings;

const connections = [];
const totals = { opened: 0, failed: 0, dropped: 0, sent: 0, received: 0, corrupt: 0, pongs: 0 };
let stopping = false;
let traffic;
// The histogram records the time between two samples: the resolution is subtracted to get the delay.
const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();

/** The text of message `seq` on connection `id`, padded to the configured size. */
function payloadFor(id, seq) {
  const head = `${id}:${seq}:`;
  return head + 'x'.repeat(Math.max(0, payloadBytes - head.length));
}

function maskedFrame(opcode, payload) {
  return Buffer.concat(encodeFrame(opcode, payload, { maskKey: randomBytes(4) }));
}

/** One connection: handshake, then numbered messages and their echoes. */
function open(index) {
  return new Promise((resolve) => {
    const id = firstId + index;
    const conn = { id, socket: null, nextSend: 0, nextExpected: 0, open: false };
    const key = randomBytes(16).toString('base64');
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: addresses[index % addresses.length] });
    conn.socket = socket;
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    let settled = false;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      if (ok) totals.opened++;
      else totals.failed++;
      resolve();
    };
    const parser = new FrameParser(
      { maxFrameSize: 0, expectMasked: false },
      {
        onFrame: (opcode, _fin, _rsv1, payload) => {
          if (opcode === 0x1) {
            if (payload.toString('utf8') === payloadFor(id, conn.nextExpected)) {
              conn.nextExpected++;
              totals.received++;
            } else totals.corrupt++;
          } else if (opcode === 0x9) {
            totals.pongs++;
            socket.write(maskedFrame(0xa, Buffer.from(payload)));
          }
        },
        onError: () => {
          totals.corrupt++;
          socket.destroy();
        },
      },
    );
    socket.on('connect', () => {
      socket.write(
        `GET /soak HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk) => {
      if (conn.open) {
        parser.push(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const text = head.subarray(0, end).toString('latin1');
      if (!text.startsWith('HTTP/1.1 101') || !text.includes(`Sec-WebSocket-Accept: ${computeAcceptKey(key)}`)) {
        socket.destroy();
        settle(false);
        return;
      }
      conn.open = true;
      connections.push(conn);
      settle(true);
      if (end + 4 < head.length) parser.push(head.subarray(end + 4));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!conn.open) settle(false);
      else if (!stopping) totals.dropped++;
      conn.open = false;
    });
  });
}

/** Open every connection, at most `concurrency` handshakes at a time. */
async function openAll() {
  let next = 0;
  const worker = async () => {
    while (next < count) await open(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Each tick, the next slice of connections sends one message: every connection sends once per interval. */
function startTraffic() {
  const perTick = Math.max(1, Math.ceil((connections.length * TICK_MS) / intervalMs));
  let cursor = 0;
  traffic = setInterval(() => {
    for (let i = 0; i < perTick && connections.length > 0; i++) {
      const conn = connections[cursor];
      cursor = (cursor + 1) % connections.length;
      if (!conn.open) continue;
      conn.socket.write(maskedFrame(0x1, Buffer.from(payloadFor(conn.id, conn.nextSend++))));
      totals.sent++;
    }
  }, TICK_MS);
}

/** Stop sending, give the last echoes up to `graceMs` to arrive, and report. */
async function stop(graceMs) {
  clearInterval(traffic);
  const deadline = Date.now() + graceMs;
  while (totals.received + totals.corrupt < totals.sent && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stopping = true;
  const ms = (ns) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
  const report = { ...totals, lost: totals.sent - totals.received, eventLoopDelay: { p99: ms(delay.percentile(99)), max: ms(delay.max) } };
  for (const conn of connections) conn.socket.destroy();
  return report;
}

process.on('message', (message) => {
  if (message.type === 'open') openAll().then(() => process.send({ type: 'opened', totals: { ...totals } }));
  else if (message.type === 'traffic') {
    delay.reset();
    startTraffic();
  } else if (message.type === 'progress') process.send({ type: 'progress', totals: { ...totals } });
  else if (message.type === 'stop') stop(message.graceMs).then((report) => process.send({ type: 'report', report }));
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
