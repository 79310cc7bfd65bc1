'use strict';
/**
 * Topics benchmark (`npm run build && node bench/topics.js [--subscribers 1000] [--messages 2000]
 * [--size 64] [--rounds 3] [--redis-messages 50000]`):
 *
 * 1. Local fan-out: one server process with N subscribers (raw TCP clients in this process that
 *    only count frame headers). `wsuite publish` is `server.publish(topic, text)` (framed once);
 *    `ws loop` is the usual `ws` pattern, `for (const client of subscribers) client.send(text)`;
 *    `wsuite sendUTF loop` is the same loop on core's connections, for reference. Reported: the
 *    server's CPU time per published message (what fan-out costs the server) and the delivery
 *    rate seen by the clients (subscribers x messages / wall time).
 * 2. Cross-process: two wsuite server processes on one redis-server (started here on a free port,
 *    persistence off); process A publishes, K subscribers on process B count what arrives.
 *    Reported: messages per second from A's first publish to B's clients having them all.
 *
 * Messages are published in batches of 10 per event-loop turn, as a server handling requests
 * would. Needs packages/core/dist and packages/redis/dist (npm run build) and `redis-server`
 * for part 2 (skipped with a note when missing).
 */
const { fork, spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { upgradeRequest, FrameCounter } = require('./load/frames');

const TOPIC = 'bench';
const BATCH = 10;

// ---------------------------------------------------------------- server roles (child processes)

function serve(impl, redisPort) {
  const http = require('node:http');
  const httpServer = http.createServer();
  let publish;
  let count;
  let close = async () => {};
  if (impl === 'ws') {
    const { WebSocketServer } = require('ws');
    const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });
    const subscribers = new Set();
    wss.on('connection', (ws) => {
      subscribers.add(ws);
      ws.on('close', () => subscribers.delete(ws));
    });
    publish = (text) => {
      for (const ws of subscribers) ws.send(text);
    };
    count = () => subscribers.size;
  } else {
    const { WebSocketServer } = require('@wsuite/core');
    const wss = new WebSocketServer({ httpServer, keepalive: false, maxConnections: Infinity });
    wss.on('request', (request) => request.accept().subscribe(TOPIC));
    if (impl === 'wsuite-loop') {
      publish = (text) => {
        for (const connection of wss.connections) connection.sendUTF(text);
      };
    } else {
      publish = (text) => wss.publish(TOPIC, text);
    }
    count = () => wss.subscriberCount(TOPIC);
    if (redisPort) {
      const { RedisPubSub } = require('@wsuite/redis');
      const pubsub = new RedisPubSub({ redis: { host: '127.0.0.1', port: redisPort } });
      pubsub.on('error', (error) => process.send({ type: 'error', message: error.message }));
      pubsub.on('ready', () => process.send({ type: 'ready' }));
      wss.setPubSub(pubsub);
      close = () => pubsub.close();
    }
  }
  process.on('message', (message) => {
    if (message.cmd === 'count') process.send({ type: 'count', value: count() });
    else if (message.cmd === 'publish') {
      const text = 'x'.repeat(message.size);
      let sent = 0;
      const cpu = process.cpuUsage();
      const started = process.hrtime.bigint();
      const batch = () => {
        for (let i = 0; i < BATCH && sent < message.messages; i++, sent++) publish(text);
        if (sent < message.messages) setImmediate(batch);
        else {
          // Until the last writes were handed to the sockets.
          setImmediate(() => {
            const used = process.cpuUsage(cpu);
            process.send({ type: 'published', cpuMicros: used.user + used.system, wallNs: Number(process.hrtime.bigint() - started) });
          });
        }
      };
      batch();
    } else if (message.cmd === 'exit') close().then(() => process.exit(0));
  });
  httpServer.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: httpServer.address().port }));
}

// ---------------------------------------------------------------- orchestrator

function options(argv) {
  const o = { subscribers: 1000, messages: 2000, size: 64, rounds: 3, redisMessages: 50000, redisSubscribers: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!(key in o)) throw new Error(`unknown option ${argv[i]}`);
    o[key] = Number(argv[i + 1]);
  }
  return o;
}

function startServer(impl, redisPort) {
  const child = fork(path.join(__dirname, 'topics.js'), ['--role', 'server', impl, String(redisPort || 0)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = [];
  const reports = [];
  child.on('message', (message) => {
    reports.push(message);
    for (const waiter of waiters.splice(0)) waiter();
  });
  const next = async (type) => {
    for (;;) {
      const index = reports.findIndex((r) => r.type === type);
      if (index !== -1) return reports.splice(index, 1)[0];
      await new Promise((resolve) => waiters.push(resolve));
    }
  };
  return { child, next, send: (message) => child.send(message) };
}

/** Open `n` raw WebSocket clients to `port` that count the messages they receive. */
async function openClients(port, n) {
  const clients = [];
  for (let i = 0; i < n; i++) {
    const counter = new FrameCounter();
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (chunk) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.removeListener('data', onData);
        if (!head.subarray(0, 12).toString().includes('101')) return reject(new Error(`upgrade refused: ${head.toString().split('\r\n')[0]}`));
        socket.on('data', (data) => counter.feed(data));
        if (head.length > end + 4) counter.feed(head.subarray(end + 4));
        resolve();
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.write(upgradeRequest(port));
    });
    clients.push({ socket, counter });
  }
  return clients;
}

async function untilCount(server, expected) {
  for (;;) {
    server.send({ cmd: 'count' });
    if ((await server.next('count')).value >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitDelivered(clients, perClient) {
  for (;;) {
    if (clients.every((c) => c.counter.messages >= perClient)) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function localRound(impl, o) {
  const server = startServer(impl);
  const { port } = await server.next('listening');
  const clients = await openClients(port, o.subscribers);
  await untilCount(server, o.subscribers);
  // Warm-up, then the measured run.
  for (const [messages, measured] of [[Math.min(200, o.messages), false], [o.messages, true]]) {
    const base = clients.map((c) => c.counter.messages);
    const started = process.hrtime.bigint();
    server.send({ cmd: 'publish', messages, size: o.size });
    const published = await server.next('published');
    for (;;) {
      if (clients.every((c, i) => c.counter.messages - base[i] >= messages)) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const wallNs = Number(process.hrtime.bigint() - started);
    if (measured) {
      for (const c of clients) c.socket.destroy();
      server.send({ cmd: 'exit' });
      return { cpuPerMessageUs: published.cpuMicros / messages, deliveriesPerSec: (messages * o.subscribers) / (wallNs / 1e9) };
    }
  }
  return null;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function redisRound(o) {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    const a = startServer('wsuite', port);
    const b = startServer('wsuite', port);
    await Promise.all([a.next('listening'), b.next('ready'), a.next('ready')]);
    const { port: bPort } = await b.next('listening');
    const clients = await openClients(bPort, o.redisSubscribers);
    await untilCount(b, o.redisSubscribers);
    // B subscribes in Redis when its first subscriber arrives: give the SUBSCRIBE a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = process.hrtime.bigint();
    a.send({ cmd: 'publish', messages: o.redisMessages, size: o.size });
    await waitDelivered(clients, o.redisMessages);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const c of clients) c.socket.destroy();
    a.send({ cmd: 'exit' });
    b.send({ cmd: 'exit' });
    return o.redisMessages / seconds;
  } finally {
    redis.kill('SIGKILL');
  }
}

async function main() {
  const o = options(process.argv.slice(2));
  const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log(`topics benchmark: ${o.subscribers} subscribers, ${o.messages} messages of ${o.size} B, ${o.rounds} rounds (median), node ${process.version}`);
  const impls = ['wsuite', 'ws', 'wsuite-loop'];
  const labels = { wsuite: 'wsuite publish (framed once)', ws: 'ws loop (client.send per client)', 'wsuite-loop': 'wsuite sendUTF loop' };
  const results = Object.fromEntries(impls.map((impl) => [impl, []]));
  for (let round = 0; round < o.rounds; round++) {
    for (const impl of impls) results[impl].push(await localRound(impl, o));
  }
  console.log('\n| local fan-out | server CPU per publish | deliveries/s (client-observed) |');
  console.log('|---|---|---|');
  for (const impl of impls) {
    const cpu = median(results[impl].map((r) => r.cpuPerMessageUs));
    const rate = median(results[impl].map((r) => r.deliveriesPerSec));
    console.log(`| ${labels[impl]} | ${fmt(cpu, 1)} µs | ${fmt(rate)} |`);
  }
  if (spawnSync('redis-server', ['--version']).error) {
    console.log('\ncross-process: skipped (redis-server is not installed)');
    return;
  }
  const rates = [];
  for (let round = 0; round < o.rounds; round++) rates.push(await redisRound(o));
  console.log(`\ncross-process through Redis (A publishes, ${o.redisSubscribers} subscribers on B, ${o.redisMessages} messages of ${o.size} B): ${fmt(median(rates))} messages/s (median of ${o.rounds})`);
}

if (process.argv[2] === '--role') {
  process.chdir(path.join(__dirname, '..'));
  serve(process.argv[4], Number(process.argv[5]));
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
