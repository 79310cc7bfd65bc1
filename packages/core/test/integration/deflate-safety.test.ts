/**
 * permessage-deflate safety over real sockets: decompression bombs refused with 1009 while memory
 * stays flat, corrupt data and bad UTF-8 refused with 1007, RSV1 misuse refused with 1002 (server
 * and client roles), other connections unaffected; and connections that close or are dropped in
 * the middle of a zlib job.
 */
import { createDeflateRaw, constants as zlibConstants } from 'node:zlib';
import { startServer, RawPeer, type TestServer } from '../helpers/raw-peer';
import { EvilServer, acceptResponse, type EvilPeer, type FrameSpec } from '../helpers/evil-server';
import { waitUntil, delay } from '../helpers/integration-kit';
import { AsyncQueue, Cleanup, compressibleText, connectOurs, deflateMessage, inflateMessage, randomData, type OurClient } from '../helpers/deflate-kit';
import { PerMessageDeflate, zlibLimiterFor, DEFLATE_DEFAULTS, type ZlibLimiter } from '../../src/permessage-deflate';
import type { Message, WebSocketConnection } from '../../src/connection';

const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

/** The limiter of connections with the default `concurrencyLimit`, which these tests use. */
const zlibLimiter = zlibLimiterFor(DEFLATE_DEFAULTS.concurrencyLimit);

/** Take every slot of `limiter`, so the next zlib job waits; returns the release of them all. */
function occupy(limiter: ZlibLimiter): () => void {
  const releases: Array<() => void> = [];
  for (let i = 0; i < limiter.limit; i++) limiter.run((done) => releases.push(done));
  return () => {
    for (const done of releases.splice(0)) done();
  };
}

interface Served extends TestServer {
  connections: AsyncQueue<WebSocketConnection>;
}

function echoing(connection: WebSocketConnection): void {
  connection.on('message', (message) => {
    if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
}

/** A deflate-enabled server; `setup` runs on each connection (default: echo). */
async function serve(options: Record<string, unknown> = {}, setup: (c: WebSocketConnection) => void = echoing): Promise<Served> {
  const server = cleanup.add(await startServer({ keepalive: false, closeTimeout: 1000, perMessageDeflate: true, ...options }), (s) => s.close());
  const connections = new AsyncQueue<WebSocketConnection>();
  server.wss.on('request', (request) => {
    const connection = request.accept();
    connection.on('error', () => undefined);
    setup(connection);
    connections.push(connection);
  });
  return Object.assign(server, { connections });
}

/** A raw client offering `offer` (null: no Sec-WebSocket-Extensions). */
async function raw(port: number, offer: string | null = 'permessage-deflate'): Promise<RawPeer> {
  const peer = await RawPeer.connect(port, offer === null ? {} : { headers: { 'Sec-WebSocket-Extensions': offer } });
  return cleanup.add(peer, (p) => p.destroy());
}

async function ours(url: string, config: Record<string, unknown> = {}): Promise<OurClient> {
  return cleanup.add(await connectOurs(url, config), (c) => c.connection.socket.destroy());
}

/** A raw server answering with `extensionsHeader` (null: no Sec-WebSocket-Extensions). */
async function evilServer(extensionsHeader: string | null = 'permessage-deflate'): Promise<EvilServer> {
  const extra = extensionsHeader === null ? [] : [`Sec-WebSocket-Extensions: ${extensionsHeader}`];
  return cleanup.add(await EvilServer.start((request) => acceptResponse(request, extra)), (s) => s.close());
}

/** A compressed round trip on `client` (which must still work after another connection misbehaved). */
async function stillWorks(client: OurClient): Promise<void> {
  const text = `still here ${compressibleText(5000)}`;
  client.connection.sendUTF(text);
  expect(await client.messages.next('witness echo')).toEqual({ type: 'utf8', utf8Data: text });
  expect(client.connection.state).toBe('open');
}

/** Split `payload` into frames of at most `size` bytes: RSV1 on the first only. */
function fragments(opcode: number, payload: Buffer, size: number): Array<{ opcode: number; payload: Buffer; rsv1: boolean; fin: boolean }> {
  const out = [];
  for (let offset = 0; offset < payload.length || offset === 0; offset += size) {
    const end = Math.min(offset + size, payload.length);
    out.push({ opcode: offset === 0 ? opcode : CONTINUATION, payload: payload.subarray(offset, end), rsv1: offset === 0, fin: end === payload.length });
    if (end === payload.length) break;
  }
  return out;
}

function memory(): { rss: number; arrayBuffers: number } {
  const { rss, arrayBuffers } = process.memoryUsage();
  return { rss, arrayBuffers };
}

// ---- decompression bombs ----------------------------------------------------------------------

/** 1 GiB of zeros deflated at level 9 (about 1,040,000 bytes, the most DEFLATE can squeeze), streamed so it is never in memory. */
let bomb: Buffer;
let bombInflatedSize = 0;

beforeAll(async () => {
  const deflate = createDeflateRaw({ level: 9, memLevel: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const zeros = Buffer.alloc(16 * MiB);
  for (let written = 0; written < GiB; written += zeros.length) {
    bombInflatedSize += zeros.length;
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  await new Promise<void>((resolve) => deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve()));
  deflate.close();
  const all = Buffer.concat(out);
  bomb = all.subarray(0, all.length - 4);
}, 60000);

describe('decompression bombs', () => {
  it('the bomb really is 1 GiB in less than 1 MiB (so only inflating can reveal its size)', () => {
    expect(bombInflatedSize).toBe(GiB);
    expect(bomb.length).toBeLessThan(MiB);
    expect(bomb.length).toBeGreaterThan(1000 * 1024); // DEFLATE's ratio tops out near 1032:1
  });

  it('a server with maxReceivedMessageSize 1 MiB refuses a 1 GiB bomb with 1009 while its memory stays flat', async () => {
    const server = await serve({ maxReceivedMessageSize: MiB });
    const witness = await ours(server.url);
    await server.connections.next('witness');
    const peer = await raw(server.port);
    const victim = await server.connections.next('victim');
    const closed = new Promise<number>((resolve) => victim.on('close', (code) => resolve(code)));
    const messages: Message[] = [];
    victim.on('message', (m) => messages.push(m));

    const before = memory();
    // 16 frames of 64 KiB (the server's default maxReceivedFrameSize): RSV1 on the first.
    for (const spec of fragments(BINARY, bomb, 0x10000)) peer.sendFrame(spec.opcode, spec.payload, { rsv1: spec.rsv1, fin: spec.fin });
    expect((await peer.waitForClose(15000)).code).toBe(1009);
    expect(await closed).toBe(1009);
    const after = memory();

    expect(messages).toEqual([]);
    expect(after.rss - before.rss).toBeLessThan(64 * MiB);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * MiB);
    await stillWorks(witness);
  });

  it('a client with maxReceivedMessageSize 1 MiB refuses a 1 GiB bomb with 1009 while its memory stays flat', async () => {
    const evil = await evilServer();
    const server = await serve();
    const witness = await ours(server.url);
    const { connection, closed } = await ours(evil.url(), { maxReceivedMessageSize: MiB });
    const peer = await evil.nextPeer();
    const messages: Message[] = [];
    connection.on('message', (m) => messages.push(m));

    const before = memory();
    peer.send(...fragments(TEXT, bomb, 0x10000));
    expect((await peer.waitForClose(15000)).code).toBe(1009);
    expect((await closed).code).toBe(1009);
    const after = memory();

    expect(messages).toEqual([]);
    expect(after.rss - before.rss).toBeLessThan(64 * MiB);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * MiB);
    await stillWorks(witness);
  });

  it('the limit applies to the inflated size exactly: 1 MiB passes, 1 MiB + 1 byte is refused', async () => {
    const server = await serve({ maxReceivedMessageSize: MiB, maxReceivedFrameSize: MiB });
    const peer = await raw(server.port, 'permessage-deflate; client_no_context_takeover');
    peer.sendFrame(BINARY, deflateMessage(Buffer.alloc(MiB, 0x61)), { rsv1: true });
    // The echo: 1 MiB of one byte compresses to one small frame.
    const [echo] = (await peer.waitFor((frames) => frames.some((f) => f.opcode === BINARY))).filter((f) => f.opcode === BINARY);
    expect(echo).toMatchObject({ rsv1: true, fin: true });
    expect(inflateMessage(echo.payload).equals(Buffer.alloc(MiB, 0x61))).toBe(true);
    peer.sendFrame(BINARY, deflateMessage(Buffer.alloc(MiB + 1, 0x61)), { rsv1: true });
    expect((await peer.waitForClose()).code).toBe(1009);
  });

  it('compressed bytes count too: a compressed payload larger than the limit is refused with 1009', async () => {
    const server = await serve({ maxReceivedMessageSize: 64 * 1024 });
    const peer = await raw(server.port);
    const payload = deflateMessage(randomData(80 * 1024)); // incompressible: more than 64 KiB compressed
    for (const spec of fragments(BINARY, payload, 16 * 1024)) peer.sendFrame(spec.opcode, spec.payload, { rsv1: spec.rsv1, fin: spec.fin });
    expect((await peer.waitForClose()).code).toBe(1009);
  });
});

// ---- protocol violations ----------------------------------------------------------------------

interface Violation {
  name: string;
  frames: FrameSpec[];
  code: number;
  /** When false, the peer does not negotiate permessage-deflate. */
  negotiated?: boolean;
}

const badUtf8 = Buffer.from([0x68, 0x69, 0xc3, 0x28, 0x21]); // "hi", an invalid 2-byte sequence, "!"
const violations: Violation[] = [
  { name: 'corrupt compressed data (invalid block type)', frames: [{ opcode: BINARY, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), rsv1: true }], code: 1007 },
  { name: 'corrupt compressed text (bad distance)', frames: [{ opcode: TEXT, payload: Buffer.from([0x4b, 0x04, 0x02, 0xff, 0xff, 0x00, 0x00]), rsv1: true }], code: 1007 },
  { name: 'compressed text that inflates to invalid UTF-8', frames: [{ opcode: TEXT, payload: deflateMessage(badUtf8), rsv1: true }], code: 1007 },
  {
    name: 'compressed, fragmented text that inflates to invalid UTF-8',
    frames: fragments(TEXT, deflateMessage(Buffer.concat([Buffer.from(compressibleText(3000)), badUtf8])), 100),
    code: 1007,
  },
  { name: 'RSV1 on a ping', frames: [{ opcode: PING, payload: 'x', rsv1: true }], code: 1002 },
  { name: 'RSV1 on a close frame', frames: [{ opcode: CLOSE, payload: Buffer.from([0x03, 0xe8]), rsv1: true }], code: 1002 },
  { name: 'RSV1 on a pong', frames: [{ opcode: PONG, rsv1: true }], code: 1002 },
  {
    name: 'RSV1 on a continuation frame',
    frames: [
      { opcode: BINARY, payload: deflateMessage('hello ').subarray(0, 3), rsv1: true, fin: false },
      { opcode: CONTINUATION, payload: deflateMessage('hello ').subarray(3), rsv1: true },
    ],
    code: 1002,
  },
  {
    name: 'RSV1 on a continuation frame of an uncompressed message',
    frames: [
      { opcode: TEXT, payload: 'hello ', fin: false },
      { opcode: CONTINUATION, payload: 'world', rsv1: true },
    ],
    code: 1002,
  },
  { name: 'RSV2 with deflate negotiated', frames: [{ opcode: TEXT, payload: 'x', rsv2: true }], code: 1002 },
  { name: 'RSV3 with deflate negotiated', frames: [{ opcode: TEXT, payload: deflateMessage('x'), rsv1: true, rsv3: true }], code: 1002 },
  { name: 'RSV1 without negotiation', frames: [{ opcode: TEXT, payload: deflateMessage('hello'), rsv1: true }], code: 1002, negotiated: false },
  { name: 'RSV1 on a ping without negotiation', frames: [{ opcode: PING, rsv1: true }], code: 1002, negotiated: false },
];

/** Encode client frames (masked) for the raw peer, with any RSV bits. */
function writeClientFrames(peer: RawPeer, frames: FrameSpec[]): void {
  for (const spec of frames) {
    const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
    const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    const extended = payload.length < 126 ? 0 : payload.length < 0x10000 ? 2 : 8;
    const header = Buffer.alloc(2 + extended + 4);
    header[0] = (spec.fin === false ? 0 : 0x80) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) | spec.opcode;
    header[1] = 0x80 | (extended === 0 ? payload.length : extended === 2 ? 126 : 127);
    if (extended === 2) header.writeUInt16BE(payload.length, 2);
    if (extended === 8) header.writeBigUInt64BE(BigInt(payload.length), 2);
    key.copy(header, 2 + extended);
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
    peer.write(Buffer.concat([header, masked]));
  }
}

describe('protocol violations on a server (raw client)', () => {
  it.each(violations)('$name → $code, and another connection keeps working', async ({ frames, code, negotiated = true }) => {
    const server = await serve();
    const witness = await ours(server.url);
    await server.connections.next('witness');
    const peer = await raw(server.port, negotiated ? 'permessage-deflate' : null);
    const victim = await server.connections.next('victim');
    expect(victim.compressed).toBe(negotiated);
    const messages: Message[] = [];
    victim.on('message', (m) => messages.push(m));
    const closed = new Promise<number>((resolve) => victim.on('close', (c) => resolve(c)));
    writeClientFrames(peer, frames);
    expect((await peer.waitForClose()).code).toBe(code);
    expect(await closed).toBe(code);
    expect(messages).toEqual([]);
    // No pong for a bad ping: the connection failed first.
    expect(peer.frames.filter((f) => f.opcode === PONG)).toEqual([]);
    await stillWorks(witness);
  });

  it('RSV1 is refused when the server has deflate on but the client did not offer it, and when the server has it off', async () => {
    for (const options of [{ perMessageDeflate: true }, { perMessageDeflate: false }]) {
      const server = await serve(options);
      const peer = await raw(server.port, options.perMessageDeflate ? null : 'permessage-deflate');
      expect(peer.header('Sec-WebSocket-Extensions')).toBeUndefined();
      peer.sendFrame(TEXT, deflateMessage('hello'), { rsv1: true });
      expect((await peer.waitForClose()).code).toBe(1002);
    }
  });
});

describe('protocol violations on a client (raw server)', () => {
  it.each(violations)('$name → $code, and another connection keeps working', async ({ frames, code, negotiated = true }) => {
    const server = await serve();
    const witness = await ours(server.url);
    const evil = await evilServer(negotiated ? 'permessage-deflate' : null);
    const { connection, closed } = await ours(evil.url(), negotiated ? {} : { perMessageDeflate: false });
    expect(connection.compressed).toBe(negotiated);
    const peer: EvilPeer = await evil.nextPeer();
    const messages: Message[] = [];
    connection.on('message', (m) => messages.push(m));
    peer.send(...frames);
    expect((await peer.waitForClose()).code).toBe(code);
    expect((await closed).code).toBe(code);
    expect(messages).toEqual([]);
    expect(peer.frames.filter((f) => f.opcode === PONG)).toEqual([]);
    await stillWorks(witness);
  });

  it('RSV1 is refused when the client offered deflate but the server did not accept it', async () => {
    const evil = await evilServer(null);
    const { connection, closed } = await ours(evil.url());
    expect(connection.compressed).toBe(false);
    const peer = await evil.nextPeer();
    expect(peer.request.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits');
    peer.send({ opcode: TEXT, payload: deflateMessage('hello'), rsv1: true });
    expect((await peer.waitForClose()).code).toBe(1002);
    expect((await closed).code).toBe(1002);
  });
});

// ---- closing in the middle of zlib work -------------------------------------------------------

describe('connections that end while zlib is working', () => {
  it('a peer that sends compressed messages, a close and its FIN at once gets every message delivered, then the close', async () => {
    const server = await serve();
    const peer = await raw(server.port);
    const connection = await server.connections.next('connection');
    const events: string[] = [];
    connection.on('message', (m) => events.push(m.type === 'utf8' ? `text ${m.utf8Data.length}` : `binary ${m.binaryData.length}`));
    const closed = new Promise<void>((resolve) => connection.on('close', (code, description) => resolve(void events.push(`close ${code} ${description}`))));
    const bytes: Buffer[] = [];
    const capture = { write: (b: Buffer) => bytes.push(b) } as unknown as RawPeer;
    writeClientFrames(capture, [
      { opcode: TEXT, payload: deflateMessage(compressibleText(300000)), rsv1: true },
      { opcode: BINARY, payload: 'small' },
      { opcode: BINARY, payload: deflateMessage(Buffer.alloc(200000, 1)), rsv1: true },
      { opcode: TEXT, payload: 'last' },
      { opcode: CLOSE, payload: Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]) },
    ]);
    peer.socket.end(Buffer.concat(bytes));
    await closed;
    expect(events).toEqual(['text 300000', 'binary 5', 'binary 200000', 'text 4', 'close 1000 bye']);
  });

  it('the server stops reading while a message waits for zlib, so a flooding peer cannot fill its memory', async () => {
    const server = await serve({}, () => undefined);
    const peer = await raw(server.port);
    const connection = await server.connections.next('connection');
    const received: Message[] = [];
    connection.on('message', (m) => received.push(m));
    // Occupy every zlib slot: the next compressed message has to wait.
    const release = occupy(zlibLimiter);
    cleanup.add(null, () => release());
    writeClientFrames(peer, [{ opcode: TEXT, payload: deflateMessage('first'), rsv1: true }]);
    await waitUntil(() => zlibLimiter.pending === 1, 5000, 'the message to wait for zlib');
    const flood = Buffer.alloc(60 * 1024, 0x2a);
    for (let i = 0; i < 140; i++) writeClientFrames(peer, [{ opcode: BINARY, payload: flood }]); // 8.2 MiB
    await delay(300);
    expect(connection.socket.bytesRead).toBeLessThan(2 * MiB);
    expect(received).toEqual([]);
    release();
    await waitUntil(() => received.length === 141, 10000, 'every message');
    expect(received[0]).toEqual({ type: 'utf8', utf8Data: 'first' });
    expect(received.slice(1).every((m) => m.type === 'binary' && m.binaryData.equals(flood))).toBe(true);
  });

  it('after close() during a decompression, the message is delivered and the peer\'s close reply is still read', async () => {
    const server = await serve({ closeTimeout: 30000 }, () => undefined);
    const peer = await raw(server.port);
    const connection = await server.connections.next('connection');
    const events: string[] = [];
    connection.on('message', (m) => events.push(`message ${m.type === 'utf8' ? m.utf8Data : ''}`));
    connection.on('close', (code) => events.push(`close ${code}`));
    const release = occupy(zlibLimiter);
    cleanup.add(null, () => release());
    writeClientFrames(peer, [{ opcode: TEXT, payload: deflateMessage('sent before the close'), rsv1: true }]);
    await waitUntil(() => zlibLimiter.pending === 1, 5000, 'the message to wait for zlib');
    connection.close(1000, 'done');
    expect(connection.waitingForCloseResponse).toBe(true);
    await peer.waitForClose();
    writeClientFrames(peer, [{ opcode: CLOSE, payload: Buffer.from([0x03, 0xe8]) }]);
    release();
    await waitUntil(() => !connection.waitingForCloseResponse, 5000, 'the close reply to be read');
    await waitUntil(() => events.length === 2, 5000, 'the close');
    expect(events).toEqual(['message sent before the close', 'close 1000']);
  });

  it('closing while a message is compressed (no context takeover) fails its send callback, without crashing', async () => {
    const server = await serve({ perMessageDeflate: { serverNoContextTakeover: true } });
    const peer = await raw(server.port);
    const connection = await server.connections.next('connection');
    const results: Array<Error | null | undefined> = [];
    connection.sendBytes(randomData(8 * MiB), (error) => results.push(error));
    connection.sendUTF('queued behind it', (error) => results.push(error));
    connection.socket.destroy();
    await waitUntil(() => results.length === 2, 5000, 'both send callbacks');
    expect(results.every((error) => error instanceof Error)).toBe(true);
    expect(connection.bufferedAmount).toBe(0);
    peer.destroy();
    // The zlib slot was given back: compression still works in this process.
    const fresh = await ours((await serve()).url);
    await stillWorks(fresh);
    expect(zlibLimiter.pending).toBe(0);
  });

  it('a message still waiting for zlib when the connection is dropped is not delivered after the close', async () => {
    for (const skipCloseFrame of [true, false]) {
      const server = await serve();
      const peer = await raw(server.port);
      const connection = await server.connections.next('connection');
      const events: string[] = [];
      connection.on('message', () => events.push('message'));
      connection.on('close', (code) => events.push(`close ${code}`));
      const release = occupy(zlibLimiter);
      writeClientFrames(peer, [{ opcode: TEXT, payload: deflateMessage('late'), rsv1: true }]);
      await waitUntil(() => zlibLimiter.pending === 1, 5000, 'the message to wait for zlib');
      connection.drop(1001, 'going', skipCloseFrame);
      release();
      await waitUntil(() => zlibLimiter.pending === 0, 5000, 'the job to run');
      await delay(20);
      expect(events).toEqual(['close 1001']);
      expect(connection.closeReasonCode).toBe(1001);
    }
  });

  it('a message being inflated when the connection is dropped is not delivered, truncated, after the close', async () => {
    const server = await serve({ maxReceivedMessageSize: 64 * MiB, maxReceivedFrameSize: 64 * MiB });
    const peer = await raw(server.port, 'permessage-deflate; client_no_context_takeover');
    const connection = await server.connections.next('connection');
    const events: string[] = [];
    connection.on('message', (m) => events.push(`message ${m.type === 'binary' ? m.binaryData.length : m.utf8Data.length}`));
    connection.on('close', (code) => events.push(`close ${code}`));
    const original = PerMessageDeflate.prototype.decompress;
    const spy = jest.spyOn(PerMessageDeflate.prototype, 'decompress').mockImplementation(function (this: PerMessageDeflate, ...args) {
      original.apply(this, args);
      // zlib has the data now (the limiter had a free slot): drop in the middle of its work.
      expect(zlibLimiter.pending).toBe(0);
      connection.drop(1001, 'going', true);
    });
    cleanup.add(spy, (s) => s.mockRestore());
    writeClientFrames(peer, [{ opcode: BINARY, payload: deflateMessage(Buffer.alloc(16 * MiB)), rsv1: true }]);
    await waitUntil(() => events.length > 0, 10000, 'the close');
    await waitUntil(() => spy.mock.calls.length === 1 && zlibLimiter.pending === 0, 5000, 'the job');
    await delay(300);
    expect(events).toEqual(['close 1001']);
    expect(connection.closeReasonCode).toBe(1001);
    // And zlib still serves others.
    await stillWorks(await ours((await serve()).url));
  });
});
