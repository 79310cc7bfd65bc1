/**
 * Fuzzing a live server over real sockets: each input is a connection that sends a random or
 * mutated byte stream (in random pieces), then leaves with a reset or a FIN. The server must
 * answer exactly as the pure receive model predicts (echoes, pongs, the close code of the first
 * violation), emit `close` exactly once, and keep serving a well-behaved client throughout.
 */
import { isUtf8 } from 'node:buffer';
import { constants as zlib, deflateRawSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import WebSocket from 'ws';
import { RawPeer, startServer, type TestServer } from '../helpers/raw-peer';
import { waitUntil } from '../helpers/integration-kit';
import type { WebSocketConnection } from '../../src/connection';
import { InputCounter, params, runsFor, timeoutFor } from './budget';
import { chunk, cuts, encodeSpec, hostileFrame, mutate, mutation, validStream } from './wire';
import { receive, type ModelLimits } from './receive-model';

const LIMITS: ModelLimits = { maxFrameSize: 600, maxMessageSize: 400 };
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** What the server side of one fuzz connection did. */
interface Side {
  closes: Array<{ code: number; description: string }>;
  /** Resolves at the first close event. */
  closed: Promise<void>;
}

function newSide(): { side: Side; onClose: () => void } {
  let onClose!: () => void;
  const closed = new Promise<void>((resolve) => {
    onClose = resolve;
  });
  return { side: { closes: [], closed }, onClose };
}

/** A server that echoes everything, and records each connection's close events by the client's port. */
async function fuzzServer(options: Record<string, unknown>): Promise<{ server: TestServer; sides: Map<number, Side>; witnessSide: () => Side | undefined }> {
  const server = await startServer({
    maxReceivedFrameSize: LIMITS.maxFrameSize,
    maxReceivedMessageSize: LIMITS.maxMessageSize,
    keepalive: false,
    closeTimeout: 2000,
    ...options,
  });
  const sides = new Map<number, Side>();
  let witness: Side | undefined;
  server.wss.on('request', (request) => {
    const connection: WebSocketConnection = request.accept();
    const { side, onClose } = newSide();
    if (request.resource === '/witness') witness = side;
    else sides.set(connection.socket.remotePort as number, side);
    connection.on('message', (message) => {
      if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
      else connection.sendBytes(message.binaryData);
    });
    connection.on('close', (code, description) => {
      side.closes.push({ code, description });
      onClose();
    });
  });
  return { server, sides, witnessSide: () => witness };
}

/** A well-behaved client that must be served throughout: one echo per fuzz input. */
class Witness {
  readonly echoes: string[] = [];
  readonly sent: string[] = [];
  closed = false;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.echoes.push(data.toString()));
    ws.on('close', () => {
      this.closed = true;
    });
  }

  static async open(port: number): Promise<Witness> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/witness`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Witness(ws);
  }

  ping(): void {
    const text = `witness ${this.sent.length}`;
    this.sent.push(text);
    this.ws.send(text);
  }

  async check(): Promise<void> {
    await waitUntil(() => this.echoes.length === this.sent.length, 5000, 'witness echoes');
    expect(this.echoes).toEqual(this.sent);
    expect(this.closed).toBe(false);
  }
}

/** Write `chunks`, sometimes letting the event loop turn between them so the server reads them apart. */
async function writeInPieces(peer: RawPeer, chunks: Buffer[], pauses: boolean[]): Promise<void> {
  // Without this, Nagle holds each small piece until the previous one is acknowledged.
  peer.socket.setNoDelay(true);
  for (let i = 0; i < chunks.length; i++) {
    if (peer.socket.destroyed) return;
    peer.socket.write(chunks[i]);
    if (pauses[i % Math.max(1, pauses.length)]) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Leave: a TCP reset or a FIN. */
function leave(peer: RawPeer, reset: boolean): void {
  if (reset) peer.socket.resetAndDestroy();
  else peer.socket.end();
}

/** `promise`, or a rejection naming `what` after 5 s. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 5000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function closesOf(sides: Map<number, Side>, port: number): Promise<Side['closes']> {
  const side = sides.get(port);
  if (!side) throw new Error(`no server side for port ${port}`);
  await within(side.closed, `the close event of port ${port}`);
  // A second close event would come from the same turn or a later socket event: give it one.
  await new Promise((resolve) => setImmediate(resolve));
  return side.closes;
}

const hostileBytes = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(validStream({ maxBytes: 800 }), fc.array(mutation, { maxLength: 2 })).map(([s, ms]) => ms.reduce((b, m) => mutate(b, m), s.bytes)) },
  { weight: 2, arbitrary: fc.array(hostileFrame, { minLength: 1, maxLength: 3 }).map((frames) => Buffer.concat(frames.map(encodeSpec))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
);

describe('live server fuzzing', () => {
  const counters: InputCounter[] = [];
  afterAll(() => counters.forEach((c) => c.report()));

  it('answers every hostile stream as the receive model predicts, closes once, and keeps serving others', async () => {
    const inputs = new InputCounter('live server: hostile streams');
    counters.push(inputs);
    const { server, sides, witnessSide } = await fuzzServer({});
    const witness = await Witness.open(server.port);
    try {
      await fc.assert(
        fc.asyncProperty(hostileBytes, cuts, fc.array(fc.boolean(), { maxLength: 4 }), fc.boolean(), async (bytes, at, pauses, reset) => {
          inputs.tick();
          witness.ping();
          const model = receive([bytes], LIMITS);
          const expected: Array<{ opcode: number; payload: string }> = [];
          for (const event of model.events) {
            if (event.kind === 'message') expected.push({ opcode: event.isText ? 0x1 : 0x2, payload: event.data.toString('hex') });
            else if (event.kind === 'ping') expected.push({ opcode: 0xa, payload: event.payload.toString('hex') });
          }
          const closeCode = model.error ? model.error.closeCode : model.close ? (model.close.code === 1005 ? 1000 : model.close.code) : null;

          const peer = await RawPeer.connect(server.port);
          const port = peer.socket.localPort as number;
          await writeInPieces(peer, chunk(bytes, at), pauses);
          if (closeCode !== null) {
            // The server closes: replies, then its close frame, then TCP.
            await within(peer.closed, 'the server to close the connection');
          } else {
            await peer.waitFor((frames) => frames.length >= expected.length);
            leave(peer, reset);
          }
          const replies = peer.frames.filter((f) => f.opcode !== 0x8).map((f) => ({ opcode: f.opcode, payload: f.payload.toString('hex') }));
          expect(replies).toEqual(expected);
          const closeFrames = peer.frames.filter((f) => f.opcode === 0x8);
          const closes = await closesOf(sides, port);
          expect(closes).toHaveLength(1);
          if (closeCode !== null) {
            expect(closeFrames.map((f) => f.payload.readUInt16BE(0))).toEqual([closeCode]);
            expect(closes[0].code).toBe(model.error ? model.error.closeCode : (model.close as { code: number }).code);
          } else {
            expect(closeFrames).toEqual([]);
            expect(closes[0].code).toBe(1006);
          }
          sides.delete(port);
        }),
        params(runsFor(300, 100_000), { shrink: false }),
      );
      await witness.check();
      expect(witnessSide()?.closes).toEqual([]);
      expect(server.wss.pendingRequests).toEqual([]);
      await waitUntil(() => server.wss.connections.length === 1, 5000, 'only the witness left');
    } finally {
      witness.ws.terminate();
      await server.close();
    }
  }, timeoutFor(60_000));

  it('closes on bad compressed data with 1007 (or 1009 past the size limit), never crashing, and keeps serving others', async () => {
    const inputs = new InputCounter('live server: compressed payloads');
    counters.push(inputs);
    // Compressed input is inflated; replies go out uncompressed (the threshold is never reached).
    const { server, sides, witnessSide } = await fuzzServer({ perMessageDeflate: { threshold: 1 << 30 } });
    const witness = await Witness.open(server.port);
    const compressedPayload = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.uint8Array({ maxLength: 700 }), fc.nat(), fc.boolean()).map(([plain, bit, flip]) => {
        const deflated = deflateRawSync(Buffer.from(plain), { finishFlush: zlib.Z_SYNC_FLUSH });
        const payload = deflated.subarray(0, deflated.length - 4);
        if (flip && payload.length > 0) payload[(bit >> 3) % payload.length] ^= 1 << (bit & 7);
        return Buffer.from(payload);
      }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(compressedPayload, fc.boolean(), fc.uint8Array({ minLength: 4, maxLength: 4 }), cuts, async (payload, isText, mask, at) => {
          inputs.tick();
          witness.ping();
          let inflated: Buffer | null = null;
          try {
            inflated = inflateRawSync(Buffer.concat([payload, TRAILER]), { finishFlush: zlib.Z_SYNC_FLUSH });
          } catch {
            inflated = null;
          }
          const peer = await RawPeer.connect(server.port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
          expect(peer.header('Sec-WebSocket-Extensions')).toBe('permessage-deflate');
          const port = peer.socket.localPort as number;
          const frame = encodeSpec({ opcode: isText ? 0x1 : 0x2, fin: true, rsv: 4, mask, payload });
          await writeInPieces(peer, chunk(frame, at), []);
          await peer.waitFor((frames) => frames.length >= 1);
          const [reply] = peer.frames;
          if (reply.opcode === 0x8) {
            const code = reply.payload.readUInt16BE(0);
            if (inflated === null) expect([1007, 1009]).toContain(code);
            else if (inflated.length > LIMITS.maxMessageSize) expect(code).toBe(1009);
            else expect({ code, utf8: isUtf8(inflated), isText }).toEqual({ code: 1007, utf8: false, isText: true });
            await within(peer.closed, 'the server to close the connection');
            expect((await closesOf(sides, port)).map((c) => c.code)).toEqual([code]);
          } else {
            // Delivered: it inflated within the limit (and is UTF-8 when text), and came back as sent.
            expect(inflated).not.toBeNull();
            expect(reply.opcode).toBe(isText ? 0x1 : 0x2);
            expect(reply.payload.toString('hex')).toBe((inflated as Buffer).toString('hex'));
            leave(peer, true);
            expect((await closesOf(sides, port)).map((c) => c.code)).toEqual([1006]);
          }
          sides.delete(port);
        }),
        params(runsFor(150, 50_000), { shrink: false }),
      );
      await witness.check();
      expect(witnessSide()?.closes).toEqual([]);
    } finally {
      witness.ws.terminate();
      await server.close();
    }
  }, timeoutFor(60_000));
});
