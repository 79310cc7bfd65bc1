/**
 * Slow consumers over real sockets: a client that stops reading while the server keeps sending.
 * The connection's outgoing buffer stays within `maxBufferedAmount` (plus one message) and the
 * server's memory with it; the policy closes with 1008 or drops and reports; `broadcast` keeps
 * serving every other client in full.
 */
import WebSocket from 'ws';
import { RawPeer, startServer, type TestServer } from '../helpers/raw-peer';
import { waitUntil } from '../helpers/integration-kit';
import { nextEvent } from '../helpers/server-harness';
import { collectGarbage } from '../helpers/collect-garbage';
import type { WebSocketServerOptions } from '../../src/server';
import { SendBufferFullError, type WebSocketConnection } from '../../src/connection';

const MESSAGE = 4000;
const COUNT = 16384;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Omit<WebSocketServerOptions, 'httpServer'>): Promise<TestServer> {
  const server = await startServer({ keepalive: false, ...options });
  cleanups.push(() => server.close());
  server.wss.on('request', (request) => request.accept());
  return server;
}

/** A raw client that stops reading right after the handshake, and its server-side connection. */
async function stalledClient(server: TestServer): Promise<{ peer: RawPeer; connection: WebSocketConnection }> {
  const accepted = nextEvent<[WebSocketConnection]>(server.wss, 'connect');
  const peer = await RawPeer.connect(server.port);
  cleanups.push(() => peer.destroy());
  peer.socket.pause();
  const [connection] = await accepted;
  return { peer, connection };
}

// One buffer for every message: payloads this small are copied when sent, and a fresh buffer per
// message would make the test's own garbage part of the memory it measures.
const scratch = Buffer.alloc(MESSAGE, 0x61);

/** A 4000-byte message carrying its sequence number (valid until the next call). */
function numbered(seq: number): Buffer {
  scratch.writeUInt32BE(seq, 0);
  return scratch;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Flood {
  accepted: number[];
  refused: SendBufferFullError[];
  /** Largest `bufferedAmount` seen after a send. */
  peakBuffered: number;
  /** Growth of the process's reachable ArrayBuffer memory over the flood (see {@link liveMemory}). */
  memoryGrowth: number;
  /** The process's reachable ArrayBuffer memory right after the flood. */
  memoryAfter: number;
}

/**
 * ArrayBuffer memory still reachable, after a full collection, so that garbage (of this test or
 * an earlier one, freed whenever the collector runs) never counts.
 */
function liveMemory(): number {
  collectGarbage();
  return process.memoryUsage().arrayBuffers;
}

/** Send COUNT numbered 4000-byte messages (64 MB), a few at a time, while the client reads nothing. */
async function flood(connection: WebSocketConnection): Promise<Flood> {
  const result: Flood = { accepted: [], refused: [], peakBuffered: 0, memoryGrowth: 0, memoryAfter: 0 };
  const before = liveMemory();
  for (let seq = 0; seq < COUNT; seq++) {
    if (connection.state !== 'open') break;
    connection.sendBytes(numbered(seq), (error) => {
      if (!error) result.accepted.push(seq);
      else if (error instanceof SendBufferFullError) result.refused.push(error);
    });
    result.peakBuffered = Math.max(result.peakBuffered, connection.bufferedAmount);
    if (seq % 64 === 63) await turn();
  }
  await turn();
  result.memoryAfter = liveMemory();
  result.memoryGrowth = result.memoryAfter - before;
  return result;
}

describe('a client that stops reading', () => {
  it("with the 'drop' policy: the buffer and memory stay bounded, refused messages are reported, accepted ones all arrive in order", async () => {
    const limit = 256 * 1024;
    const server = await serve({ maxBufferedAmount: limit, bufferOverflowPolicy: 'drop' });
    const { peer, connection } = await stalledClient(server);
    const dropped: SendBufferFullError[] = [];
    connection.on('messageDropped', (error) => dropped.push(error));

    const result = await flood(connection);
    expect(connection.state).toBe('open');
    expect(result.peakBuffered).toBeLessThanOrEqual(limit + MESSAGE + 14);
    // 64 MiB were offered; without the limit nearly all of it would sit in this process.
    expect(result.memoryGrowth).toBeLessThan(16 * 1024 * 1024);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped[0].code).toBe('WS_ERR_SEND_BUFFER_FULL');
    expect(dropped[0].limit).toBe(limit);
    expect(dropped[0].bufferedAmount).toBeGreaterThanOrEqual(limit);
    await waitUntil(() => result.refused.length === dropped.length, 5000, 'a callback error per dropped message');

    // Once the client reads again, exactly the accepted messages arrive, in order.
    const admitted = COUNT - result.refused.length;
    peer.socket.resume();
    await waitUntil(() => peer.frames.length === admitted, 20000, 'the accepted messages');
    const received = peer.frames.map((frame) => frame.payload.readUInt32BE(0));
    await waitUntil(() => result.accepted.length === admitted, 5000, 'write callbacks');
    expect(received).toEqual(result.accepted);
    for (const frame of peer.frames) expect(frame.payload.length).toBe(MESSAGE);
  }, 30000);

  it("with the 'close' policy (the default): the connection closes with 1008 at the limit, memory stays bounded", async () => {
    const limit = 256 * 1024;
    const server = await serve({ maxBufferedAmount: limit, closeTimeout: 10000 });
    expect(server.wss.config?.bufferOverflowPolicy).toBe('close');
    const { peer, connection } = await stalledClient(server);
    const closes: Array<[number, string]> = [];
    connection.on('close', (code, description) => closes.push([code, description]));

    const result = await flood(connection);
    expect(closes).toEqual([[1008, 'Send buffer limit exceeded.']]);
    expect(result.refused).toHaveLength(1);
    expect(result.peakBuffered).toBeLessThanOrEqual(limit + MESSAGE + 14);
    expect(result.memoryGrowth).toBeLessThan(16 * 1024 * 1024);
    expect(server.wss.connections).toEqual([]);

    // The client that reads again gets what was accepted, then the close frame.
    peer.socket.resume();
    const close = await peer.waitForClose(20000);
    expect(close).toEqual({ code: 1008, reason: 'Send buffer limit exceeded.' });
    expect(peer.frames.filter((f) => f.opcode === 0x2).map((f) => f.payload.readUInt32BE(0))).toEqual(result.accepted);
  }, 30000);

  it('without a limit the same flood stays in memory (what the limit prevents)', async () => {
    const server = await serve({ maxBufferedAmount: Infinity });
    const { connection } = await stalledClient(server);
    const result = await flood(connection);
    expect(result.refused).toEqual([]);
    expect(result.peakBuffered).toBeGreaterThan(32 * 1024 * 1024);
    // The flood sits in this process until the connection goes. (Measured by its release, as
    // growth from the start can hide it behind memory an earlier test frees meanwhile.)
    connection.drop(1000, 'done', true);
    await waitUntil(() => result.memoryAfter - liveMemory() > 32 * 1024 * 1024, 5000, 'the flood to be released with the connection');
  }, 30000);
});

describe('broadcast with a client that stops reading', () => {
  async function clients(server: TestServer, count: number): Promise<Array<{ ws: WebSocket; got: number[] }>> {
    const list: Array<{ ws: WebSocket; got: number[] }> = [];
    for (let i = 0; i < count; i++) {
      const ws = new WebSocket(`${server.url}/fast`);
      cleanups.push(() => ws.terminate());
      const got: number[] = [];
      ws.on('message', (data: Buffer) => got.push(data.readUInt32BE(0)));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      list.push({ ws, got });
    }
    return list;
  }

  it.each(['close', 'drop'] as const)("policy '%s': the stalled client is closed or skipped, every other client gets every message", async (policy) => {
    const limit = 128 * 1024;
    const server = await serve({ maxBufferedAmount: limit, bufferOverflowPolicy: policy });
    const fast = await clients(server, 2);
    const { peer, connection } = await stalledClient(server);
    const more = await clients(server, 2);
    const everyone = [...fast, ...more];
    await waitUntil(() => server.wss.connections.length === 5, 5000, 'five connections');
    const closes: number[] = [];
    connection.on('close', (code) => closes.push(code));
    let dropped = 0;
    connection.on('messageDropped', () => dropped++);

    // 16 messages (64 KB) a turn: each turn's burst fits every reader's limit.
    const count = 4096;
    for (let seq = 0; seq < count; seq++) {
      // A fresh buffer each time: broadcast frames keep a reference to large payloads.
      server.wss.broadcast(Buffer.from(numbered(seq)));
      if (seq % 16 === 15) await turn();
    }
    // All of it reaches the readers while the stalled client still reads nothing.
    await waitUntil(() => everyone.every((c) => c.got.length === count), 20000, 'every fast client to get everything');
    for (const client of everyone) expect(client.got).toEqual([...Array(count).keys()]);
    expect(peer.socket.isPaused()).toBe(true);
    if (policy === 'close') {
      expect(closes).toEqual([1008]);
      expect(server.wss.connections).toHaveLength(4);
    } else {
      expect(closes).toEqual([]);
      expect(dropped).toBeGreaterThan(0);
      expect(connection.bufferedAmount).toBeLessThanOrEqual(limit + MESSAGE + 14);
    }
  }, 30000);
});
