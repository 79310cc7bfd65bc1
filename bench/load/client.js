'use strict';
/**
 * The load generator. Forked by bench/run.js, it gets one task over IPC, runs it against one
 * server on 127.0.0.1, sends back one result and exits. Raw `net` sockets, a hand-written
 * upgrade, pre-built masked frames written in large pipelined writes, and a counter that reads
 * only frame headers: the client does as little per message as a client can.
 *
 * Tasks (field `type`): echo, latency, handshake, idle, broadcast. See bench/README.md.
 */
const net = require('node:net');
const { performance } = require('node:perf_hooks');
const timers = require('node:timers');
const { ACCEPT, EMPTY, OPCODE, upgradeRequest, maskedFrame, closeFrame, repeat, payloadOf, jsonText, deflateMessage, FrameCounter } = require('./frames');

const HOST = '127.0.0.1';
const sleep = (ms) => new Promise((resolve) => timers.setTimeout(resolve, ms));
const noop = () => {};

function send(message) {
  if (process.send) process.send(message);
}

/** Resolves with the next IPC message from the orchestrator whose `cmd` is `cmd`. */
function nextCommand(cmd, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = timers.setTimeout(() => {
      process.removeListener('message', onMessage);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${cmd}" from the orchestrator`));
    }, timeoutMs);
    function onMessage(message) {
      if (message && message.cmd === cmd) {
        timers.clearTimeout(timer);
        process.removeListener('message', onMessage);
        resolve(message);
      }
    }
    process.on('message', onMessage);
  });
}

/**
 * Open one connection and complete the upgrade by hand. Resolves with the paused socket, the
 * bytes that followed the response head and the response head itself.
 */
function openConnection(port, { raw = false, extensions = null, localAddress, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port, localAddress });
    socket.setNoDelay(true);
    let buffered = EMPTY;
    let done = false;
    const timer = timers.setTimeout(() => finish(new Error('handshake timed out')), timeoutMs);
    function finish(error, value) {
      if (done) return;
      done = true;
      timers.clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.removeListener('connect', onConnect);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        socket.on('error', noop);
        resolve(value);
      }
    }
    function onConnect() {
      if (raw) {
        socket.pause();
        finish(null, { socket, rest: EMPTY, head: '' });
      } else socket.write(upgradeRequest(port, extensions));
    }
    function onData(chunk) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buffered.length > 16384) finish(new Error('response head too long'));
        return;
      }
      const head = buffered.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 101')) return finish(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      if (!head.includes(ACCEPT)) return finish(new Error('wrong Sec-WebSocket-Accept'));
      socket.pause(); // the caller attaches its reader, then resumes
      finish(null, { socket, rest: buffered.subarray(end + 4), head });
    }
    function onError(error) {
      finish(error);
    }
    function onClose() {
      finish(new Error('connection closed during the handshake'));
    }
    socket.on('connect', onConnect);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** Open `count` connections, at most `concurrency` handshakes at a time. */
async function openMany(port, count, { concurrency = 64, sourceAddresses = null, ...options } = {}) {
  const out = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const localAddress = sourceAddresses ? sourceAddresses[i % sourceAddresses.length] : undefined;
      out[i] = await openConnection(port, { ...options, localAddress });
    }
  }
  const workers = [];
  for (let w = 0; w < Math.min(concurrency, count); w++) workers.push(worker());
  await Promise.all(workers);
  return out;
}

function negotiatedExtensions(head) {
  const line = head.split('\r\n').find((l) => /^sec-websocket-extensions:/i.test(l));
  return line ? line.slice(line.indexOf(':') + 1).trim() : '';
}

function closeAll(connections) {
  for (const c of connections) c.socket.destroy();
}

/** CPU time of this process (user+system, µs). */
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Pipelined echo: each connection keeps two batches of pre-built frames in flight and sends a
 * new batch whenever one batch worth of echoes came back. Measures echoed messages and payload
 * bytes per second over `duration` ms after `warmup` ms.
 */
async function runEcho(task) {
  const { port, raw = false, conns, size, warmup, duration } = task;
  const text = task.opcode === OPCODE.text;
  let frame;
  let extensions = null;
  if (task.deflate) {
    const payload = jsonText(size);
    frame = maskedFrame(task.opcode, deflateMessage(payload), { rsv1: true });
    extensions = 'permessage-deflate; client_no_context_takeover';
  } else {
    frame = maskedFrame(task.opcode, payloadOf(size, text));
  }
  const batchMsgs = Math.max(1, Math.floor(task.batchBytes / frame.length));
  const batch = repeat(frame, batchMsgs);
  const inflight = task.inflight || 2; // batches in flight per connection
  const refill = (inflight - 1) * batchMsgs;

  const connections = await openMany(port, conns, { raw, extensions, concurrency: 16 });
  if (task.deflate) {
    const offer = negotiatedExtensions(connections[0].head);
    if (!/permessage-deflate/i.test(offer)) {
      closeAll(connections);
      return { na: true, reason: 'server did not negotiate permessage-deflate' };
    }
  }

  let stopping = false;
  const states = connections.map((c) => {
    const state = { socket: c.socket, counter: new FrameCounter(), sent: 0 };
    const { socket, counter } = state;
    socket.on('data', (chunk) => {
      counter.feed(chunk);
      if (stopping) return;
      while (state.sent - counter.messages <= refill) {
        socket.write(batch);
        state.sent += batchMsgs;
      }
    });
    if (c.rest.length) counter.feed(c.rest);
    return state;
  });
  const totals = () => {
    let messages = 0;
    let bytes = 0;
    for (const s of states) {
      messages += s.counter.messages;
      bytes += s.counter.payloadBytes;
    }
    return { messages, bytes, t: performance.now(), cpu: cpuMicros() };
  };
  for (const s of states) {
    for (let i = 0; i < inflight; i++) s.socket.write(batch);
    s.sent = inflight * batchMsgs;
    s.socket.resume();
  }
  await sleep(warmup);
  const a = totals();
  send({ type: 'window', phase: 'start' });
  await sleep(duration);
  const b = totals();
  send({ type: 'window', phase: 'end' });
  stopping = true;

  const errors = [];
  for (const s of states) {
    if (s.counter.closed) errors.push(`server sent a close frame (${s.counter.closeReason})`);
    if (s.counter.firstOpcode !== -1 && s.counter.firstOpcode !== task.opcode) errors.push(`echo came back with opcode ${s.counter.firstOpcode}`);
    if (s.socket.destroyed) errors.push('socket closed during the run');
    // Sanity: never more echoes than sent; payload bytes consistent with whole messages.
    if (s.counter.messages > s.sent) errors.push(`more echoes (${s.counter.messages}) than messages sent (${s.sent})`);
    if (!task.deflate && !raw) {
      const low = s.counter.messages * size;
      const high = (s.counter.messages + inflight * batchMsgs) * size;
      if (s.counter.payloadBytes < low || s.counter.payloadBytes > high) errors.push(`echoed payload bytes (${s.counter.payloadBytes}) do not match ${s.counter.messages} messages of ${size} B`);
    }
  }
  closeAll(connections);
  const seconds = (b.t - a.t) / 1000;
  const messages = b.messages - a.messages;
  if (messages === 0) errors.push('no message echoed in the measured window');
  return {
    msgPerSec: messages / seconds,
    mbPerSec: (b.bytes - a.bytes) / seconds / 1e6,
    messages,
    seconds,
    batchMsgs,
    frameBytes: frame.length,
    clientCpu: (b.cpu - a.cpu) / 1e6 / seconds,
    errors: [...new Set(errors)],
  };
}

/**
 * Round-trip latency at a fixed rate: `rate` messages per second spread round-robin over
 * `conns` connections, each message timed from its write to its echo (echoes of one
 * connection come back in order). Percentiles from the sorted samples of the window.
 */
async function runLatency(task) {
  const { port, conns, rate, size, warmup, duration } = task;
  const frame = maskedFrame(OPCODE.binary, payloadOf(size, false));
  const connections = await openMany(port, conns, { concurrency: 16 });
  const capacity = Math.ceil((rate * (warmup + duration)) / 1000) + 10000;
  const samples = new Float64Array(capacity);
  let sampleCount = 0;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const RING = 1 << 16;
  const states = connections.map((c) => {
    const state = { socket: c.socket, ring: new Float64Array(RING), head: 0, tail: 0, counter: null };
    state.counter = new FrameCounter(() => {
      const now = performance.now();
      const sentAt = state.ring[state.head & (RING - 1)];
      state.head++;
      if (sentAt >= windowStart && sentAt < windowEnd && sampleCount < capacity) samples[sampleCount++] = now - sentAt;
    });
    c.socket.on('data', (chunk) => state.counter.feed(chunk));
    c.socket.resume();
    return state;
  });

  const t0 = performance.now();
  windowStart = t0 + warmup;
  windowEnd = windowStart + duration;
  let sent = 0;
  let rr = 0;
  let maxLagMs = 0; // how far behind its schedule the sender ever was (a starved client)
  const a = { cpu: 0 };
  await new Promise((resolve) => {
    function tick() {
      const now = performance.now();
      if (now >= windowEnd) return resolve();
      const due = Math.floor(((now - t0) * rate) / 1000) - sent;
      if (now >= windowStart && due > 0) maxLagMs = Math.max(maxLagMs, (due * 1000) / rate);
      for (let i = 0; i < due; i++) {
        const s = states[rr];
        rr = rr + 1 === states.length ? 0 : rr + 1;
        if (s.tail - s.head >= RING) continue; // hopelessly behind: do not overwrite
        s.ring[s.tail & (RING - 1)] = performance.now();
        s.tail++;
        s.socket.write(frame);
      }
      sent += due;
      if (a.cpu === 0 && now >= windowStart) {
        a.cpu = cpuMicros();
        send({ type: 'window', phase: 'start' });
      }
      timers.setTimeout(tick, 1);
    }
    tick();
  });
  const clientCpu = (cpuMicros() - a.cpu) / 1e6 / (duration / 1000);
  send({ type: 'window', phase: 'end' });
  await sleep(Math.min(200, 50 + duration / 10)); // let the last echoes arrive
  const errors = [];
  let lost = 0;
  for (const s of states) {
    lost += s.tail - s.head;
    if (s.counter.closed) errors.push(`server sent a close frame (${s.counter.closeReason})`);
  }
  closeAll(connections);
  const sorted = samples.subarray(0, sampleCount).sort();
  const pct = (p) => (sampleCount ? sorted[Math.min(sampleCount - 1, Math.floor((p / 100) * sampleCount))] * 1000 : NaN);
  let sum = 0;
  for (let i = 0; i < sampleCount; i++) sum += sorted[i];
  if (sampleCount === 0) errors.push('no sample');
  // Timer ticks are ~1 ms apart; a sender that fell far behind sent a burst, and the latencies
  // then measure that burst's queue (the machine was too busy to measure latency).
  if (maxLagMs > 50) errors.push(`load generator fell ${maxLagMs.toFixed(0)} ms behind its send schedule (machine overloaded)`);
  return {
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    p999: pct(99.9),
    max: sampleCount ? sorted[sampleCount - 1] * 1000 : NaN,
    mean: sampleCount ? (sum / sampleCount) * 1000 : NaN,
    samples: sampleCount,
    achievedRate: sampleCount / (duration / 1000),
    maxLagMs,
    unanswered: lost,
    clientCpu,
    errors: [...new Set(errors)],
  };
}

/**
 * Handshake rate: `parallel` loops, each connecting, upgrading, sending a close frame and
 * waiting for the server to close the TCP connection, then starting over.
 */
async function runHandshake(task) {
  const { port, parallel, warmup, duration, sourceAddresses = null } = task;
  const request = upgradeRequest(port, null);
  const close = closeFrame();
  let completed = 0;
  let failed = 0;
  let closeTimeouts = 0;
  let lastError = '';
  let stop = false;
  let n = 0;
  function cycle() {
    return new Promise((resolve) => {
      const localAddress = sourceAddresses ? sourceAddresses[n++ % sourceAddresses.length] : undefined;
      const socket = net.connect({ host: HOST, port, localAddress });
      socket.setNoDelay(true);
      let upgraded = false;
      let buffered = EMPTY;
      const guard = timers.setTimeout(() => {
        closeTimeouts++;
        socket.destroy();
      }, 5000);
      socket.on('connect', () => socket.write(request));
      socket.on('data', (chunk) => {
        if (upgraded) return;
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        if (!buffered.toString('latin1', 0, 12).startsWith('HTTP/1.1 101')) {
          lastError = buffered.toString('latin1', 0, Math.min(end, 80));
          socket.destroy();
          return;
        }
        upgraded = true;
        socket.write(close);
      });
      socket.on('error', (error) => {
        lastError = error.code || error.message;
      });
      socket.on('close', () => {
        timers.clearTimeout(guard);
        if (upgraded) completed++;
        else failed++;
        resolve();
      });
    });
  }
  async function loop() {
    while (!stop) await cycle();
  }
  const loops = [];
  for (let i = 0; i < parallel; i++) loops.push(loop());
  await sleep(warmup);
  const a = { n: completed, t: performance.now(), cpu: cpuMicros() };
  send({ type: 'window', phase: 'start' });
  await sleep(duration);
  const b = { n: completed, t: performance.now(), cpu: cpuMicros() };
  send({ type: 'window', phase: 'end' });
  stop = true;
  await Promise.all(loops);
  const seconds = (b.t - a.t) / 1000;
  const errors = [];
  if (failed > 0) errors.push(`${failed} handshakes failed (last: ${lastError})`);
  if (closeTimeouts > 0) errors.push(`${closeTimeouts} connections not closed by the server within 5 s of the close frame`);
  return { perSec: (b.n - a.n) / seconds, completed: b.n - a.n, failed, closeTimeouts, seconds, clientCpu: (b.cpu - a.cpu) / 1e6 / seconds, errors };
}

/**
 * Idle connections: open `conns`, report, hold them until the orchestrator has read the
 * server's memory, then close them.
 */
async function runIdle(task) {
  const { port, conns, concurrency = 128, sourceAddresses = null } = task;
  const t0 = performance.now();
  // With `deflate`, every connection negotiates permessage-deflate (memory per compressed connection).
  const extensions = task.deflate ? 'permessage-deflate; client_max_window_bits' : null;
  const connections = await openMany(port, conns, { concurrency, sourceAddresses, extensions });
  const openMs = performance.now() - t0;
  let closedByServer = 0;
  for (const c of connections) {
    c.socket.on('close', () => closedByServer++);
    c.socket.resume();
  }
  send({ type: 'event', name: 'connected', count: connections.length, openMs });
  await nextCommand('release', 120000);
  const errors = closedByServer ? [`${closedByServer} connections closed by the server while idle`] : [];
  closeAll(connections);
  return { opened: connections.length, openMs, errors };
}

/**
 * Broadcast: `conns` clients connect, the orchestrator makes the server broadcast `count`
 * messages (after a warm-up broadcast), and the time until every client has every message
 * is measured from the moment this process asked for the broadcast.
 */
async function runBroadcast(task) {
  const { port, raw = false, conns, count, warmCount, size, timeoutMs = 120000 } = task;
  const connections = await openMany(port, conns, { raw, concurrency: 64 });
  let received = 0;
  let target = 0;
  let wake = null;
  const onMessage = () => {
    if (++received === target && wake) wake();
  };
  const counters = connections.map((c) => {
    const counter = new FrameCounter(onMessage);
    c.socket.on('data', (chunk) => counter.feed(chunk));
    c.socket.resume();
    return counter;
  });
  const phase = (n, name) =>
    new Promise((resolve, reject) => {
      target += n * conns;
      const timer = timers.setTimeout(() => reject(new Error(`broadcast ${name}: ${received} of ${target} deliveries after ${timeoutMs} ms`)), timeoutMs);
      wake = () => {
        timers.clearTimeout(timer);
        wake = null;
        resolve();
      };
      send({ type: 'event', name: 'broadcast', count: n, size, phase: name });
      if (received === target) wake();
    });
  if (warmCount > 0) await phase(warmCount, 'warmup');
  send({ type: 'window', phase: 'start' });
  await sleep(20); // let the server's CPU reading arrive before the broadcast starts
  const t0 = performance.now();
  const cpu0 = cpuMicros();
  await phase(count, 'measured');
  const seconds = (performance.now() - t0) / 1000;
  const clientCpu = (cpuMicros() - cpu0) / 1e6 / seconds;
  send({ type: 'window', phase: 'end' });
  const closedBy = counters.find((c) => c.closed);
  const errors = closedBy ? [`server sent a close frame (${closedBy.closeReason})`] : [];
  closeAll(connections);
  return { deliveriesPerSec: (count * conns) / seconds, messagesPerClientPerSec: count / seconds, seconds, deliveries: count * conns, clientCpu, errors };
}

const RUNNERS = { echo: runEcho, latency: runLatency, handshake: runHandshake, idle: runIdle, broadcast: runBroadcast };

process.once('message', async (task) => {
  let result;
  try {
    const runner = RUNNERS[task.type];
    if (!runner) throw new Error(`unknown task type ${task.type}`);
    result = await runner(task);
  } catch (error) {
    result = { errors: [error && error.message ? error.message : String(error)], failed: true };
  }
  send({ type: 'result', result });
  timers.setTimeout(() => process.exit(0), 50);
});
process.on('disconnect', () => process.exit(0));
// Bounded: no task may outlive this.
timers.setTimeout(() => process.exit(3), 10 * 60 * 1000).unref();
