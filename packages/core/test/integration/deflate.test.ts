/**
 * permessage-deflate (RFC 7692) over real sockets: negotiation of every parameter on both sides,
 * the `perMessageDeflate` option, the bytes on the wire (RSV1, thresholds, context takeover,
 * fragmentation, window sizes) checked by raw peers against Node's zlib, interop with `ws` in
 * both roles, ordering under load, the process-wide zlib limiter and lazy zlib contexts.
 */
import zlib, { constants as zlibConstants, inflateRawSync } from 'node:zlib';

// Count zlib context creation (calls pass through): Node's zlib exports cannot be spied on in place.
// Every property is kept (including the non-enumerable legacy constants `ws` reads).
jest.mock('node:zlib', () => {
  const actual = jest.requireActual<typeof import('node:zlib')>('node:zlib');
  const mocked: Record<string, unknown> = {};
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(actual))) {
    Object.defineProperty(mocked, key, { ...descriptor, configurable: true, writable: true });
  }
  mocked.createDeflateRaw = jest.fn(actual.createDeflateRaw);
  mocked.createInflateRaw = jest.fn(actual.createInflateRaw);
  return mocked;
});
import { startServer, RawPeer, type ReceivedFrame, type TestServer } from '../helpers/raw-peer';
import { EvilServer, acceptResponse, type ClientFrame } from '../helpers/evil-server';
import { delay, waitUntil } from '../helpers/integration-kit';
import {
  AsyncQueue,
  BIG,
  Cleanup,
  PeerDeflater,
  TRAILER,
  bytesOf,
  compressibleText,
  connectFailure,
  connectOurs,
  connectWs,
  deflateMessage,
  inflateMessage,
  inflateStream,
  prng,
  randomData,
  startWsEcho,
  type OurClient,
} from '../helpers/deflate-kit';
import { WebSocketServer } from '../../src/server';
import { WebSocketClient } from '../../src/client';
import { W3CWebSocket } from '../../src/w3c-websocket';
import { WebSocketFrame } from '../../src/websocket-frame';
import { zlibLimiterFor } from '../../src/permessage-deflate';
import type { Message, WebSocketConnection } from '../../src/connection';
import type { WebSocketRequest } from '../../src/request';
import type { Extension } from '../../src/protocol/extension-header';

const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const PING = 0x9;
const PONG = 0xa;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

// ---- fixtures ---------------------------------------------------------------------------------

interface Served extends TestServer {
  /** Server-side connections, in accept order. */
  connections: AsyncQueue<WebSocketConnection>;
  /** Every upgrade request, in order. */
  requests: WebSocketRequest[];
}

function echoing(connection: WebSocketConnection): void {
  connection.on('message', (message) => {
    if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
}

/** A server on port 0 that accepts everything; `setup` runs on each connection (default: echo). */
async function serve(options: Record<string, unknown> = {}, setup: (c: WebSocketConnection) => void = echoing): Promise<Served> {
  const server = cleanup.add(await startServer({ keepalive: false, closeTimeout: 1000, ...options }), (s) => s.close());
  const connections = new AsyncQueue<WebSocketConnection>();
  const requests: WebSocketRequest[] = [];
  server.wss.on('request', (request) => {
    requests.push(request);
    const connection = request.accept();
    connection.on('error', () => undefined);
    setup(connection);
    connections.push(connection);
  });
  return Object.assign(server, { connections, requests });
}

/** A raw TCP client, offering `offer` as its Sec-WebSocket-Extensions (none when undefined). */
async function raw(port: number, offer?: string): Promise<RawPeer> {
  const peer = await RawPeer.connect(port, offer === undefined ? {} : { headers: { 'Sec-WebSocket-Extensions': offer } });
  return cleanup.add(peer, (p) => p.destroy());
}

async function ours(url: string, config: Record<string, unknown> = {}): Promise<OurClient> {
  const client = await connectOurs(url, config);
  return cleanup.add(client, (c) => c.connection.socket.destroy());
}

/** An evil (raw) server answering the handshake with `extensionsHeader` (none when undefined). */
async function evilServer(extensionsHeader?: string): Promise<EvilServer> {
  const extra = extensionsHeader === undefined ? [] : [`Sec-WebSocket-Extensions: ${extensionsHeader}`];
  return cleanup.add(await EvilServer.start((request) => acceptResponse(request, extra)), (s) => s.close());
}

/** Data messages in received frames, fragments joined, with the RSV1 of their first frame. */
interface WireMessage {
  opcode: number;
  rsv1: boolean;
  payload: Buffer;
  frames: number;
}
function wireMessages(frames: ReadonlyArray<ReceivedFrame | ClientFrame>): WireMessage[] {
  const out: WireMessage[] = [];
  let current: WireMessage | null = null;
  for (const frame of frames) {
    if (frame.opcode >= 0x8) continue;
    if (frame.opcode !== CONTINUATION) current = { opcode: frame.opcode, rsv1: frame.rsv1, payload: frame.payload, frames: 1 };
    else if (current) {
      current.payload = Buffer.concat([current.payload, frame.payload]);
      current.frames++;
    }
    if (frame.fin && current) {
      out.push(current);
      current = null;
    }
  }
  return out;
}

async function rawMessages(peer: RawPeer, count: number, timeoutMs = 5000): Promise<WireMessage[]> {
  await peer.waitFor((frames) => wireMessages(frames).length >= count, timeoutMs);
  return wireMessages(peer.frames);
}

/** Inflate a payload that must only use a window of `bits` (chunkSize 64 makes zlib check every distance). */
function inflateWithWindow(payload: Buffer, bits: number): Buffer {
  return inflateRawSync(Buffer.concat([payload, TRAILER]), { windowBits: Math.max(bits, 9), chunkSize: 64, finishFlush: zlibConstants.Z_SYNC_FLUSH });
}

/** The `connection.extensions` entry a response header stands for (a window of 15 is the default and not listed). */
function entryFor(response: string): Extension {
  const [name, ...params] = response.split('; ');
  return {
    name,
    params: params
      .map((p) => p.split('='))
      .filter(([, value]) => value !== '15')
      .map(([param, value]) => (value === undefined ? { name: param } : { name: param, value })),
  };
}

// ---- negotiation: server side -----------------------------------------------------------------

describe('negotiation, server side (raw client offers over TCP)', () => {
  const accepted: Array<{ offer: string; server: unknown; response: string; serverBits?: number; clientBits?: number }> = [
    { offer: 'permessage-deflate', server: true, response: 'permessage-deflate' },
    { offer: 'permessage-deflate; server_no_context_takeover', server: true, response: 'permessage-deflate; server_no_context_takeover' },
    { offer: 'permessage-deflate; client_no_context_takeover', server: true, response: 'permessage-deflate; client_no_context_takeover' },
    { offer: 'permessage-deflate; server_max_window_bits=10', server: true, response: 'permessage-deflate; server_max_window_bits=10', serverBits: 10 },
    { offer: 'permessage-deflate; server_max_window_bits=8', server: true, response: 'permessage-deflate; server_max_window_bits=8', serverBits: 8 },
    { offer: 'permessage-deflate; server_max_window_bits="12"', server: true, response: 'permessage-deflate; server_max_window_bits=12', serverBits: 12 },
    { offer: 'permessage-deflate; client_max_window_bits', server: true, response: 'permessage-deflate' },
    { offer: 'permessage-deflate; client_max_window_bits=12', server: true, response: 'permessage-deflate; client_max_window_bits=12', clientBits: 12 },
    {
      offer: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11',
      server: true,
      response: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11',
      serverBits: 9,
      clientBits: 11,
    },
    { offer: 'PerMessage-Deflate ;  Server_No_Context_Takeover', server: true, response: 'permessage-deflate; server_no_context_takeover' },
    // The server's own policy.
    { offer: 'permessage-deflate', server: { serverNoContextTakeover: true }, response: 'permessage-deflate; server_no_context_takeover' },
    { offer: 'permessage-deflate', server: { clientNoContextTakeover: true }, response: 'permessage-deflate; client_no_context_takeover' },
    { offer: 'permessage-deflate', server: { serverMaxWindowBits: 11 }, response: 'permessage-deflate; server_max_window_bits=11', serverBits: 11 },
    { offer: 'permessage-deflate; server_max_window_bits=13', server: { serverMaxWindowBits: 11 }, response: 'permessage-deflate; server_max_window_bits=11', serverBits: 11 },
    { offer: 'permessage-deflate; server_max_window_bits=10', server: { serverMaxWindowBits: 11 }, response: 'permessage-deflate; server_max_window_bits=10', serverBits: 10 },
    { offer: 'permessage-deflate; client_max_window_bits', server: { clientMaxWindowBits: 10 }, response: 'permessage-deflate; client_max_window_bits=10', clientBits: 10 },
    { offer: 'permessage-deflate; client_max_window_bits=9', server: { clientMaxWindowBits: 10 }, response: 'permessage-deflate; client_max_window_bits=9', clientBits: 9 },
    // Several offers: the first acceptable one wins.
    {
      offer: 'permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover',
      server: true,
      response: 'permessage-deflate; client_no_context_takeover',
    },
    {
      offer: 'permessage-deflate; foo, permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate; server_max_window_bits=12',
      server: true,
      response: 'permessage-deflate; server_max_window_bits=12',
      serverBits: 12,
    },
    { offer: 'x-webkit-deflate-frame, permessage-deflate; client_max_window_bits', server: true, response: 'permessage-deflate' },
    { offer: 'permessage-deflate, permessage-deflate; client_max_window_bits', server: { clientMaxWindowBits: 9 }, response: 'permessage-deflate; client_max_window_bits=9', clientBits: 9 },
    // Chromium's offer.
    { offer: 'permessage-deflate; client_max_window_bits', server: { serverNoContextTakeover: false }, response: 'permessage-deflate' },
  ];

  it.each(accepted)('$offer with $server → $response', async ({ offer, server: option, response, serverBits = 15, clientBits = 15 }) => {
    const server = await serve({ perMessageDeflate: option });
    const peer = await raw(server.port, offer);
    expect(peer.status).toBe(101);
    expect(peer.header('Sec-WebSocket-Extensions')).toBe(response);
    const connection = await server.connections.next('connection');
    expect(connection.extensions).toEqual([entryFor(response)]);
    expect(connection.compressed).toBe(true);

    // The agreement is in effect: a compressed message (in the client's window) is echoed, compressed
    // in the server's window unless that is 8 bits, which zlib cannot produce (then uncompressed).
    const text = compressibleText(6000);
    peer.sendFrame(TEXT, deflateMessage(text, { windowBits: Math.max(clientBits, 9) }), { rsv1: true });
    const [echoed] = await rawMessages(peer, 1);
    expect(echoed.opcode).toBe(TEXT);
    expect(echoed.rsv1).toBe(serverBits > 8);
    expect((echoed.rsv1 ? inflateWithWindow(echoed.payload, serverBits) : echoed.payload).toString()).toBe(text);
  });

  const declined: Array<{ offer: string; server?: unknown }> = [
    { offer: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover' },
    { offer: 'permessage-deflate; client_no_context_takeover; client_no_context_takeover' },
    { offer: 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10' },
    { offer: 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=11' },
    { offer: 'permessage-deflate; server_max_window_bits' },
    { offer: 'permessage-deflate; server_max_window_bits=7' },
    { offer: 'permessage-deflate; server_max_window_bits=16' },
    { offer: 'permessage-deflate; server_max_window_bits=010' },
    { offer: 'permessage-deflate; server_max_window_bits=+9' },
    { offer: 'permessage-deflate; client_max_window_bits=abc' },
    { offer: 'permessage-deflate; client_max_window_bits=7' },
    { offer: 'permessage-deflate; server_no_context_takeover=1' },
    { offer: 'permessage-deflate; client_no_context_takeover="x"' },
    { offer: 'permessage-deflate; foo' },
    { offer: 'permessage-deflate; foo=bar' },
    { offer: 'x-webkit-deflate-frame' },
    { offer: 'deflate-frame; no_context_takeover' },
    // RFC 7692 §7.1.2.2: without client_max_window_bits in the offer the client's window cannot be limited.
    { offer: 'permessage-deflate', server: { clientMaxWindowBits: 10 } },
  ];

  it.each(declined)('declines $offer (server $server): the connection opens without compression', async ({ offer, server: option = true }) => {
    const server = await serve({ perMessageDeflate: option });
    const peer = await raw(server.port, offer);
    expect(peer.status).toBe(101);
    expect(peer.header('Sec-WebSocket-Extensions')).toBeUndefined();
    const connection = await server.connections.next('connection');
    expect(connection.extensions).toEqual([]);
    expect(connection.compressed).toBe(false);
    // Plain messages work, a large one comes back uncompressed, and RSV1 is a protocol error.
    const text = compressibleText(4000);
    peer.sendFrame(TEXT, text);
    const [echoed] = await rawMessages(peer, 1);
    expect(echoed.rsv1).toBe(false);
    expect(echoed.payload.toString()).toBe(text);
    peer.sendFrame(TEXT, deflateMessage('hello'), { rsv1: true });
    expect((await peer.waitForClose()).code).toBe(1002);
  });

  it.each([
    'permessage-deflate; =1',
    'permessage-deflate x',
    ';',
    'permessage-deflate;;',
    'permessage-deflate; a="unterminated',
    'permessage-deflate; a="has space"',
    'permessage-deflate; server_max_window_bits=@',
    'permessage-deflate, , foo bar',
    'permessage-deflate; client_max_window_bits=""',
  ])('answers a malformed Sec-WebSocket-Extensions %j with 400 when deflate is on', async (header) => {
    const server = await serve({ perMessageDeflate: true });
    const errors: Error[] = [];
    server.wss.on('upgradeError', (error) => errors.push(error));
    const peer = await raw(server.port, header);
    expect(peer.status).toBe(400);
    await peer.closed;
    expect(server.requests).toHaveLength(0);
    expect(errors).toHaveLength(1);
    // With deflate off the header is none of the server's business.
    const plain = await serve();
    const other = await raw(plain.port, header);
    expect(other.status).toBe(101);
  });

  it('reads offers spread over several Sec-WebSocket-Extensions header lines', async () => {
    const server = await serve({ perMessageDeflate: true });
    const peer = cleanup.add(
      await RawPeer.connect(server.port, { headers: { 'Sec-WebSocket-Extensions': 'foo; bar=1', 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover' } }),
      (p) => p.destroy(),
    );
    expect(peer.header('Sec-WebSocket-Extensions')).toBe('permessage-deflate; server_no_context_takeover');
  });

  it('honours server_max_window_bits on the wire: no back-reference reaches past the agreed window', async () => {
    const text = compressibleText(20000); // repeats every 2500 bytes: only a window of 12+ bits finds them
    const sizes: Record<number, number> = {};
    for (const bits of [10, 11, 15]) {
      const server = await serve({ perMessageDeflate: true });
      const peer = await raw(server.port, `permessage-deflate; server_max_window_bits=${bits}`);
      const connection = await server.connections.next('connection');
      connection.sendUTF(text);
      const [message] = await rawMessages(peer, 1);
      expect(message.rsv1).toBe(true);
      expect(inflateWithWindow(message.payload, bits).toString()).toBe(text);
      sizes[bits] = message.payload.length;
    }
    expect(sizes[10]).toBeGreaterThan(text.length / 2);
    expect(sizes[11]).toBeGreaterThan(text.length / 2);
    expect(sizes[15]).toBeLessThan(text.length / 4);
    // And a peer limited to 10 bits cannot read what a 15-bit window produced (the check above can fail).
    expect(() => inflateWithWindow(deflateMessage(text), 10)).toThrow(/distance too far back/);
  });
});

// ---- negotiation: client side -----------------------------------------------------------------

describe('negotiation, client side (our client against a raw server)', () => {
  it('offers permessage-deflate with client_max_window_bits by default', async () => {
    const evil = await evilServer();
    await ours(evil.url());
    const peer = await evil.nextPeer();
    expect(peer.request.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits');
  });

  it('offers every configured parameter', async () => {
    const evil = await evilServer('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11');
    const { connection } = await ours(evil.url(), {
      perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
    });
    const peer = await evil.nextPeer();
    expect(peer.request.headers['sec-websocket-extensions']).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    );
    expect(connection.extensions).toEqual([
      {
        name: 'permessage-deflate',
        params: [{ name: 'server_no_context_takeover' }, { name: 'client_no_context_takeover' }, { name: 'server_max_window_bits', value: '10' }, { name: 'client_max_window_bits', value: '11' }],
      },
    ]);
  });

  it('with perMessageDeflate: false offers nothing, and refuses a server that answers with the extension anyway', async () => {
    const plain = await evilServer();
    const { connection } = await ours(plain.url(), { perMessageDeflate: false });
    expect((await plain.nextPeer()).request.headers['sec-websocket-extensions']).toBeUndefined();
    expect(connection.extensions).toEqual([]);
    const pushy = await evilServer('permessage-deflate');
    const error = await connectFailure(pushy.url(), { perMessageDeflate: false });
    expect(error.message).toMatch(/did not offer/);
  });

  it('runs without compression when the server answers without the extension', async () => {
    const evil = await evilServer();
    const { connection } = await ours(evil.url());
    const peer = await evil.nextPeer();
    expect(connection.extensions).toEqual([]);
    expect(connection.compressed).toBe(false);
    connection.sendUTF(compressibleText(5000));
    const [message] = await peer.waitForMessages(1);
    expect(peer.frames[0].rsv1).toBe(false);
    expect(message.payload.toString()).toBe(compressibleText(5000));
    // And a compressed frame from that server is a protocol error.
    peer.send({ opcode: TEXT, payload: deflateMessage('x'), rsv1: true });
    expect((await peer.waitForClose()).code).toBe(1002);
  });

  const accepted: Array<{ response: string; config?: Record<string, unknown>; params: Extension['params']; clientBits: number; clientReset: boolean }> = [
    { response: 'permessage-deflate', params: [], clientBits: 15, clientReset: false },
    { response: 'PerMessage-Deflate', params: [], clientBits: 15, clientReset: false },
    // RFC 7692 §7.1.1.1: a server may add server_no_context_takeover on its own.
    { response: 'permessage-deflate; server_no_context_takeover', params: [{ name: 'server_no_context_takeover' }], clientBits: 15, clientReset: false },
    { response: 'permessage-deflate; client_no_context_takeover', params: [{ name: 'client_no_context_takeover' }], clientBits: 15, clientReset: true },
    { response: 'permessage-deflate; server_max_window_bits=9', params: [{ name: 'server_max_window_bits', value: '9' }], clientBits: 15, clientReset: false },
    { response: 'permessage-deflate; client_max_window_bits=10', params: [{ name: 'client_max_window_bits', value: '10' }], clientBits: 10, clientReset: false },
    { response: 'permessage-deflate; client_max_window_bits=8', params: [{ name: 'client_max_window_bits', value: '8' }], clientBits: 8, clientReset: false },
    {
      response: 'permessage-deflate; server_max_window_bits=10',
      config: { perMessageDeflate: { serverMaxWindowBits: 12 } },
      params: [{ name: 'server_max_window_bits', value: '10' }],
      clientBits: 15,
      clientReset: false,
    },
    {
      response: 'permessage-deflate',
      config: { perMessageDeflate: { clientNoContextTakeover: true, clientMaxWindowBits: 11 } },
      params: [{ name: 'client_no_context_takeover' }, { name: 'client_max_window_bits', value: '11' }],
      clientBits: 11,
      clientReset: true,
    },
  ];

  it.each(accepted)('accepts the answer $response ($config) and compresses accordingly', async ({ response, config = {}, params, clientBits, clientReset }) => {
    const evil = await evilServer(response);
    const { connection, messages } = await ours(evil.url(), config);
    const peer = await evil.nextPeer();
    expect(connection.extensions).toEqual([{ name: 'permessage-deflate', params }]);
    // Client → server: compressed in the agreed window, reset between messages when agreed; 8 bits → uncompressed.
    const text = compressibleText(20000);
    connection.sendUTF(text);
    connection.sendUTF(text);
    const sent = await peer.waitForMessages(2);
    expect(peer.frames[0].rsv1).toBe(clientBits > 8);
    if (clientBits > 8) {
      const [first, second] = wireMessagesOf(peer.frames);
      expect(inflateWithWindow(first.payload, clientBits).toString()).toBe(text);
      if (clientReset) {
        expect(second.payload.equals(first.payload)).toBe(true);
        expect(inflateWithWindow(second.payload, clientBits).toString()).toBe(text);
      } else {
        // With takeover the second message refers back into the first (only a 12+ bit window reaches 2500 bytes back).
        if (clientBits >= 12) expect(second.payload.length).toBeLessThan(first.payload.length / 4);
        expect(inflateStream([first.payload, second.payload], clientBits)[1].toString()).toBe(text);
      }
    } else {
      expect(sent.map((m) => m.payload.toString())).toEqual([text, text]);
    }
    // Server → client: a compressed message is read.
    peer.send({ opcode: TEXT, payload: deflateMessage('from the server '.repeat(100)), rsv1: true });
    const message = await messages.next('message');
    expect(message).toEqual({ type: 'utf8', utf8Data: 'from the server '.repeat(100) });
  });

  const refused: Array<{ response: string; config?: Record<string, unknown>; reason: RegExp }> = [
    { response: 'permessage-deflate; client_max_window_bits', reason: /client_max_window_bits needs a value/ },
    { response: 'permessage-deflate; server_max_window_bits', reason: /server_max_window_bits must be 8-15/ },
    { response: 'permessage-deflate; server_max_window_bits=16', reason: /server_max_window_bits must be 8-15/ },
    { response: 'permessage-deflate; client_max_window_bits=7', reason: /client_max_window_bits must be 8-15/ },
    { response: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', reason: /appears twice/ },
    { response: 'permessage-deflate; client_no_context_takeover=1', reason: /must not have a value/ },
    { response: 'permessage-deflate; foo', reason: /unknown parameter foo/ },
    { response: 'x-webkit-deflate-frame', reason: /not offered: x-webkit-deflate-frame/ },
    { response: 'permessage-deflate, permessage-deflate', reason: /more than one extension/ },
    { response: 'permessage-deflate; =', reason: /expected a parameter name/ },
    { response: 'permessage-deflate', config: { perMessageDeflate: { serverNoContextTakeover: true } }, reason: /server_no_context_takeover was requested but not confirmed/ },
    { response: 'permessage-deflate', config: { perMessageDeflate: { serverMaxWindowBits: 10 } }, reason: /server_max_window_bits=15 exceeds the offered 10/ },
    { response: 'permessage-deflate; server_max_window_bits=12', config: { perMessageDeflate: { serverMaxWindowBits: 10 } }, reason: /exceeds the offered 10/ },
    { response: 'permessage-deflate; client_max_window_bits=12', config: { perMessageDeflate: { clientMaxWindowBits: 10 } }, reason: /client_max_window_bits=12 exceeds the offered 10/ },
  ];

  it.each(refused)('fails the connection on the answer $response ($config)', async ({ response, config = {}, reason }) => {
    const evil = await evilServer(response);
    const error = await connectFailure(evil.url(), config);
    expect(error.message).toMatch(/Sec-WebSocket-Extensions response is not acceptable/);
    expect(error.message).toMatch(reason);
    const peer = await evil.nextPeer();
    await peer.closed;
    expect(peer.frames).toEqual([]);
  });
});

function wireMessagesOf(frames: ClientFrame[]): WireMessage[] {
  return wireMessages(frames);
}

// ---- extensions as reported -------------------------------------------------------------------

describe('connection.extensions and the W3C extensions string', () => {
  it('both sides report what was agreed', async () => {
    const server = await serve({ perMessageDeflate: { serverMaxWindowBits: 12, clientNoContextTakeover: true } });
    const { connection, client, messages } = await ours(server.url, { perMessageDeflate: { serverNoContextTakeover: true, clientMaxWindowBits: 10 } });
    const serverSide = await server.connections.next('connection');
    const expected = [
      {
        name: 'permessage-deflate',
        params: [{ name: 'server_no_context_takeover' }, { name: 'client_no_context_takeover' }, { name: 'server_max_window_bits', value: '12' }, { name: 'client_max_window_bits', value: '10' }],
      },
    ];
    expect(serverSide.extensions).toEqual(expected);
    expect(connection.extensions).toEqual(expected);
    expect(client.response?.headers['sec-websocket-extensions']).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10',
    );
    // Messages flow both ways with those settings.
    const text = compressibleText(30000);
    connection.sendUTF(text);
    expect(await messages.next('echo')).toEqual({ type: 'utf8', utf8Data: text });
    connection.sendUTF(text);
    expect(await messages.next('echo')).toEqual({ type: 'utf8', utf8Data: text });
  });

  it('W3CWebSocket.extensions is the server\'s answer, or empty without compression', async () => {
    const server = await serve({ perMessageDeflate: { serverMaxWindowBits: 10 } });
    const plain = await serve();
    const wsServer = cleanup.add(await startWsEcho({ serverMaxWindowBits: 11 }), (s) => s.close());
    const open = async (url: string): Promise<W3CWebSocket> => {
      const socket = cleanup.add(new W3CWebSocket(url), (s) => s.close());
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = () => reject(new Error('error event'));
      });
      return socket;
    };
    expect((await open(server.url)).extensions).toBe('permessage-deflate; server_max_window_bits=10');
    expect((await open(plain.url)).extensions).toBe('');
    expect((await open(wsServer.url)).extensions).toBe('permessage-deflate; server_max_window_bits=11');
    const noDeflate = cleanup.add(new W3CWebSocket(server.url, undefined, undefined, undefined, undefined, { perMessageDeflate: false }), (s) => s.close());
    await new Promise<void>((resolve) => {
      noDeflate.onopen = () => resolve();
    });
    expect(noDeflate.extensions).toBe('');
  });
});

// ---- configuration ----------------------------------------------------------------------------

describe('the perMessageDeflate option', () => {
  it('is off by default on the server: an offer gets no Sec-WebSocket-Extensions in the 101', async () => {
    const server = await serve();
    const peer = await raw(server.port, 'permessage-deflate; client_max_window_bits');
    expect(peer.status).toBe(101);
    expect(peer.header('Sec-WebSocket-Extensions')).toBeUndefined();
    expect((await server.connections.next('connection')).extensions).toEqual([]);
    // Our client offers by default, and works with such a server.
    const { client, connection, messages } = await ours(server.url);
    expect(server.requests[1].httpRequest.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits');
    expect(client.response?.headers['sec-websocket-extensions']).toBeUndefined();
    expect(connection.extensions).toEqual([]);
    connection.sendUTF('plain');
    expect(await messages.next('echo')).toEqual({ type: 'utf8', utf8Data: 'plain' });
  });

  it.each([true, {}, { level: 6 }])('is on with %j', async (option) => {
    const server = await serve({ perMessageDeflate: option });
    const peer = await raw(server.port, 'permessage-deflate');
    expect(peer.header('Sec-WebSocket-Extensions')).toBe('permessage-deflate');
  });

  it('a client with perMessageDeflate: false sends no offer, and a deflate server runs without compression', async () => {
    const server = await serve({ perMessageDeflate: true });
    const { connection, messages } = await ours(server.url, { perMessageDeflate: false });
    expect(server.requests[0].httpRequest.headers['sec-websocket-extensions']).toBeUndefined();
    expect(connection.extensions).toEqual([]);
    expect((await server.connections.next('connection')).extensions).toEqual([]);
    connection.sendUTF(compressibleText(4000));
    expect(await messages.next('echo')).toEqual({ type: 'utf8', utf8Data: compressibleText(4000) });
  });

  const invalid: Array<[unknown, ErrorConstructor, RegExp]> = [
    ['yes', TypeError, /Option "perMessageDeflate" must be a boolean or an options object, got yes/],
    [1, TypeError, /must be a boolean or an options object/],
    [[], TypeError, /must be a boolean or an options object/],
    [{ windowBits: 10 }, TypeError, /Unknown perMessageDeflate option "windowBits"/],
    [{ serverNoContextTakeover: 'yes' }, TypeError, /perMessageDeflate.serverNoContextTakeover must be a boolean, got yes/],
    [{ clientNoContextTakeover: 1 }, TypeError, /perMessageDeflate.clientNoContextTakeover must be a boolean/],
    [{ serverMaxWindowBits: 7 }, RangeError, /perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, got 7/],
    [{ serverMaxWindowBits: 16 }, RangeError, /serverMaxWindowBits must be an integer from 8 to 15/],
    [{ clientMaxWindowBits: 9.5 }, RangeError, /clientMaxWindowBits must be an integer from 8 to 15, got 9.5/],
    [{ clientMaxWindowBits: '10' }, RangeError, /clientMaxWindowBits must be an integer from 8 to 15/],
    [{ level: 10 }, RangeError, /perMessageDeflate.level must be an integer from 0 to 9, got 10/],
    [{ level: -1 }, RangeError, /level must be an integer from 0 to 9/],
    [{ memLevel: 0 }, RangeError, /perMessageDeflate.memLevel must be an integer from 1 to 9, got 0/],
    [{ memLevel: 10 }, RangeError, /memLevel must be an integer from 1 to 9/],
    [{ threshold: -1 }, RangeError, /perMessageDeflate.threshold must be an integer from 0/],
    [{ threshold: Infinity }, RangeError, /threshold must be an integer/],
    [{ concurrencyLimit: 0 }, RangeError, /perMessageDeflate.concurrencyLimit must be an integer from 1 to 1024, got 0/],
  ];

  it.each(invalid)('refuses perMessageDeflate: %j at construction (server and client)', (value, ErrorClass, message) => {
    const http = { on: () => undefined, listeners: () => [] } as unknown as import('node:http').Server;
    const serverError = thrown(() => new WebSocketServer({ httpServer: http, perMessageDeflate: value as never }));
    expect(serverError).toBeInstanceOf(ErrorClass);
    expect(serverError.message).toMatch(message);
    const clientError = thrown(() => new WebSocketClient({ perMessageDeflate: value as never }));
    expect(clientError).toBeInstanceOf(ErrorClass);
    expect(clientError.message).toMatch(message);
  });

  it('accepts every valid setting', () => {
    const http = { on: () => undefined, listeners: () => [] } as unknown as import('node:http').Server;
    const options = { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 8, clientMaxWindowBits: 15, level: 0, memLevel: 9, threshold: 0, concurrencyLimit: 1024 };
    expect(() => new WebSocketServer({ httpServer: http, perMessageDeflate: options })).not.toThrow();
    expect(() => new WebSocketClient({ perMessageDeflate: options })).not.toThrow();
    expect(() => new WebSocketClient({ perMessageDeflate: false })).not.toThrow();
  });

  it('threshold: messages below it go out with RSV1 clear, from it on compressed (server)', async () => {
    const server = await serve({ perMessageDeflate: { threshold: 100 } }, () => undefined);
    const peer = await raw(server.port, 'permessage-deflate');
    const connection = await server.connections.next('connection');
    connection.sendBytes(Buffer.alloc(99, 'a'));
    connection.sendBytes(Buffer.alloc(100, 'a'));
    connection.sendUTF('€'.repeat(33)); // 99 bytes of UTF-8
    connection.sendUTF('€'.repeat(34)); // 102 bytes
    connection.sendUTF('a'.repeat(99));
    connection.sendUTF('a'.repeat(100));
    const messages = await rawMessages(peer, 6);
    expect(messages.map((m) => m.rsv1)).toEqual([false, true, false, true, false, true]);
    const decoded = inflateStream(messages.filter((m) => m.rsv1).map((m) => m.payload));
    expect(messages[0].payload).toEqual(Buffer.alloc(99, 'a'));
    expect(decoded.map(String)).toEqual(['a'.repeat(100), '€'.repeat(34), 'a'.repeat(100)]);
    expect(messages[2].payload.toString()).toBe('€'.repeat(33));
  });

  it('threshold: the default is 1024 bytes, and 0 compresses even an empty message', async () => {
    const server = await serve({ perMessageDeflate: true }, () => undefined);
    const peer = await raw(server.port, 'permessage-deflate; server_no_context_takeover');
    const connection = await server.connections.next('connection');
    connection.sendBytes(Buffer.alloc(1023, 1));
    connection.sendBytes(Buffer.alloc(1024, 1));
    const messages = await rawMessages(peer, 2);
    expect(messages.map((m) => m.rsv1)).toEqual([false, true]);
    expect(inflateMessage(messages[1].payload)).toEqual(Buffer.alloc(1024, 1));

    const eager = await serve({ perMessageDeflate: { threshold: 0 } }, () => undefined);
    const other = await raw(eager.port, 'permessage-deflate');
    const eagerSide = await eager.connections.next('connection');
    eagerSide.sendUTF('');
    eagerSide.sendBytes(Buffer.alloc(0));
    eagerSide.sendUTF('x');
    const [empty, emptyBinary, x] = await rawMessages(other, 3);
    expect([empty.rsv1, emptyBinary.rsv1, x.rsv1]).toEqual([true, true, true]);
    expect(inflateStream([empty.payload, emptyBinary.payload, x.payload]).map(String)).toEqual(['', '', 'x']);
  });

  it('threshold applies to the client too', async () => {
    const evil = await evilServer('permessage-deflate; client_no_context_takeover');
    const { connection } = await ours(evil.url(), { perMessageDeflate: { threshold: 100 } });
    const peer = await evil.nextPeer();
    connection.sendBytes(Buffer.alloc(99, 7));
    connection.sendBytes(Buffer.alloc(100, 7));
    connection.sendUTF('é'.repeat(49)); // 98 bytes
    connection.sendUTF('é'.repeat(50)); // 100 bytes
    await peer.waitForMessages(4);
    const messages = wireMessages(peer.frames);
    expect(messages.map((m) => m.rsv1)).toEqual([false, true, false, true]);
    expect(inflateMessage(messages[1].payload)).toEqual(Buffer.alloc(100, 7));
    expect(inflateMessage(messages[3].payload).toString()).toBe('é'.repeat(50));
  });

  it('level and memLevel are applied: level 0 stores, level 9 compresses best', async () => {
    const data = Buffer.from(compressibleText(40000));
    const sizes: number[] = [];
    for (const level of [0, 1, 9]) {
      const server = await serve({ perMessageDeflate: { level, memLevel: level === 9 ? 9 : 1, serverNoContextTakeover: true } }, () => undefined);
      const peer = await raw(server.port, 'permessage-deflate');
      (await server.connections.next('connection')).sendBytes(data);
      const [message] = await rawMessages(peer, 1);
      expect(message.rsv1).toBe(true);
      expect(inflateMessage(message.payload)).toEqual(data);
      sizes.push(message.payload.length);
    }
    expect(sizes[0]).toBeGreaterThanOrEqual(data.length); // stored blocks
    expect(sizes[2]).toBeLessThan(sizes[1]);
    expect(sizes[1]).toBeLessThan(data.length / 4);
  });
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

// ---- interop with ws --------------------------------------------------------------------------

/** Messages for a burst: sizes scattered around the threshold, text and binary, compressible or not. */
function burst(count: number, seed: number, threshold = 1024): Array<string | Buffer> {
  const next = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const size = threshold - 64 + Math.floor(next() * 128);
    const header = `#${i}#`;
    if (i % 2 === 0) return header + compressibleText(size - header.length, i);
    const bytes = i % 4 === 1 ? randomData(size, i) : Buffer.from(compressibleText(size, i));
    bytes.write(header, 0);
    return bytes;
  });
}

describe('interop with ws (perMessageDeflate on)', () => {
  const big = { maxReceivedFrameSize: BIG, maxReceivedMessageSize: BIG };

  it('ws client → our server: text, binary, empty, 16 MiB and a burst, echoed intact and in order, compressed both ways', async () => {
    const server = await serve({ perMessageDeflate: true, ...big });
    const { ws, messages } = cleanup.add(await connectWs(server.url, { perMessageDeflate: true }), (p) => p.ws.terminate());
    expect(ws.extensions).toBe('permessage-deflate');
    const serverSide = await server.connections.next('connection');
    expect(serverSide.compressed).toBe(true);

    const roundTrip = async (data: string | Buffer): Promise<void> => {
      ws.send(data, { binary: typeof data !== 'string' });
      const echoed = await messages.next('echo', 15000);
      expect(echoed.isBinary).toBe(typeof data !== 'string');
      expect(echoed.data.equals(typeof data === 'string' ? Buffer.from(data) : data)).toBe(true);
    };
    await roundTrip('hello');
    await roundTrip('');
    await roundTrip(Buffer.alloc(0));
    await roundTrip(Buffer.from([0, 1, 2, 255]));
    await roundTrip('ünïcödé ✓ 𝄞 '.repeat(500));

    // A compressible megabyte crosses the wire in far fewer bytes, in both directions.
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    const readBefore = socket.bytesRead;
    const serverReadBefore = serverSide.socket.bytesRead;
    await roundTrip(compressibleText(1 << 20));
    expect(socket.bytesRead - readBefore).toBeLessThan(1 << 17);
    expect(serverSide.socket.bytesRead - serverReadBefore).toBeLessThan(1 << 17);

    // 16 MiB through zlib; random data is slow to deflate, so a smaller piece of it.
    await roundTrip(compressibleText(16 << 20));
    await roundTrip(randomData(4 << 20));

    const sent = burst(400, 1);
    for (const data of sent) ws.send(data, { binary: typeof data !== 'string' });
    for (const data of sent) {
      const echoed = await messages.next('burst echo');
      expect(echoed.data.equals(typeof data === 'string' ? Buffer.from(data) : data)).toBe(true);
      expect(echoed.isBinary).toBe(typeof data !== 'string');
    }
  }, 60000);

  it('our client → ws server: text, binary, empty, 16 MiB and a burst, echoed intact and in order, compressed both ways', async () => {
    const wsServer = cleanup.add(await startWsEcho(true), (s) => s.close());
    const { connection, messages, client } = await ours(wsServer.url, big);
    expect(wsServer.offers[0]).toBe('permessage-deflate; client_max_window_bits');
    expect(client.response?.headers['sec-websocket-extensions']).toBe('permessage-deflate');
    expect(connection.compressed).toBe(true);

    const roundTrip = async (data: string | Buffer): Promise<void> => {
      connection.send(data);
      const echoed = await messages.next('echo', 15000);
      expect(echoed.type).toBe(typeof data === 'string' ? 'utf8' : 'binary');
      expect(bytesOf(echoed).equals(typeof data === 'string' ? Buffer.from(data) : data)).toBe(true);
    };
    await roundTrip('hello');
    await roundTrip('');
    await roundTrip(Buffer.alloc(0));
    await roundTrip('ünïcödé ✓ 𝄞 '.repeat(500));

    const serverSocket = (wsServer.sockets[0] as unknown as { _socket: import('node:net').Socket })._socket;
    const readBefore = connection.socket.bytesRead;
    const serverReadBefore = serverSocket.bytesRead;
    await roundTrip(compressibleText(1 << 20));
    expect(connection.socket.bytesRead - readBefore).toBeLessThan(1 << 17);
    expect(serverSocket.bytesRead - serverReadBefore).toBeLessThan(1 << 17);

    // 16 MiB through zlib; random data is slow to deflate, so a smaller piece of it.
    await roundTrip(compressibleText(16 << 20));
    await roundTrip(randomData(4 << 20));

    const sent = burst(400, 2);
    for (const data of sent) connection.send(data);
    for (const data of sent) {
      const echoed = await messages.next('burst echo');
      expect(bytesOf(echoed).equals(typeof data === 'string' ? Buffer.from(data) : data)).toBe(true);
    }
  }, 60000);

  it('empty compressed messages interoperate (threshold 0 on both sides)', async () => {
    const wsServer = cleanup.add(await startWsEcho({ threshold: 0 }), (s) => s.close());
    const { connection, messages } = await ours(wsServer.url, { perMessageDeflate: { threshold: 0 } });
    connection.sendUTF('');
    connection.sendBytes(Buffer.alloc(0));
    connection.sendUTF('after');
    expect(await messages.next('1')).toEqual({ type: 'utf8', utf8Data: '' });
    expect(await messages.next('2')).toEqual({ type: 'binary', binaryData: Buffer.alloc(0) });
    expect(await messages.next('3')).toEqual({ type: 'utf8', utf8Data: 'after' });
    const server = await serve({ perMessageDeflate: { threshold: 0 } });
    const peer = cleanup.add(await connectWs(server.url, { perMessageDeflate: { threshold: 0 } }), (p) => p.ws.terminate());
    peer.ws.send('');
    peer.ws.send(Buffer.alloc(0));
    expect((await peer.messages.next('1')).data.length).toBe(0);
    expect(await peer.messages.next('2')).toEqual({ data: Buffer.alloc(0), isBinary: true });
  });
});

// ---- context takeover on the wire -------------------------------------------------------------

describe('context takeover', () => {
  const text = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(30);

  it('server → client with takeover: the second identical message is smaller and both decode from one stream', async () => {
    const server = await serve({ perMessageDeflate: true }, () => undefined);
    const peer = await raw(server.port, 'permessage-deflate');
    const connection = await server.connections.next('connection');
    connection.sendUTF(text);
    connection.sendUTF(text);
    connection.sendUTF(text);
    const messages = await rawMessages(peer, 3);
    expect(messages.every((m) => m.rsv1)).toBe(true);
    expect(messages[1].payload.length).toBeLessThan(messages[0].payload.length / 2);
    expect(inflateStream(messages.map((m) => m.payload)).map(String)).toEqual([text, text, text]);
  });

  it.each([
    ['the client asks for it', 'permessage-deflate; server_no_context_takeover', true],
    ['the server wants it', 'permessage-deflate', { serverNoContextTakeover: true }],
  ])('server → client with server_no_context_takeover (%s): every message stands alone', async (_label, offer, option) => {
    const server = await serve({ perMessageDeflate: option }, () => undefined);
    const peer = await raw(server.port, offer);
    expect(peer.header('Sec-WebSocket-Extensions')).toBe('permessage-deflate; server_no_context_takeover');
    const connection = await server.connections.next('connection');
    connection.sendUTF(text);
    connection.sendUTF(text);
    const [first, second] = await rawMessages(peer, 2);
    expect(second.payload.equals(first.payload)).toBe(true);
    expect(inflateMessage(second.payload).toString()).toBe(text);
  });

  it('client → server with takeover: the server decodes messages that reference earlier ones', async () => {
    const server = await serve({ perMessageDeflate: true }, () => undefined);
    const peer = await raw(server.port, 'permessage-deflate');
    const connection = await server.connections.next('connection');
    const received = new AsyncQueue<Message>();
    connection.on('message', (m) => received.push(m));
    const deflater = new PeerDeflater();
    const first = await deflater.compress(text);
    const second = await deflater.compress(text);
    deflater.close();
    expect(second.length).toBeLessThan(first.length / 2);
    // The second payload alone is not a valid message: it only makes sense after the first.
    expect(() => inflateMessage(second)).toThrow();
    peer.sendFrame(TEXT, first, { rsv1: true });
    peer.sendFrame(TEXT, second, { rsv1: true });
    expect(await received.next('1')).toEqual({ type: 'utf8', utf8Data: text });
    expect(await received.next('2')).toEqual({ type: 'utf8', utf8Data: text });
  });

  it('client → server: our client keeps its context, or resets it with client_no_context_takeover', async () => {
    for (const [option, reset] of [[true, false], [{ clientNoContextTakeover: true }, true]] as const) {
      const evil = await evilServer(reset ? 'permessage-deflate; client_no_context_takeover' : 'permessage-deflate');
      const { connection } = await ours(evil.url(), { perMessageDeflate: option });
      const peer = await evil.nextPeer();
      expect(peer.request.headers['sec-websocket-extensions']).toBe(reset ? 'permessage-deflate; client_no_context_takeover; client_max_window_bits' : 'permessage-deflate; client_max_window_bits');
      connection.sendUTF(text);
      connection.sendUTF(text);
      await peer.waitForMessages(2);
      const [first, second] = wireMessages(peer.frames);
      if (reset) {
        expect(second.payload.equals(first.payload)).toBe(true);
        expect(inflateMessage(second.payload).toString()).toBe(text);
      } else {
        expect(second.payload.length).toBeLessThan(first.payload.length / 2);
        expect(inflateStream([first.payload, second.payload]).map(String)).toEqual([text, text]);
      }
    }
  });

  it('our client reads a server that keeps its context, and one that resets it', async () => {
    for (const response of ['permessage-deflate', 'permessage-deflate; server_no_context_takeover']) {
      const evil = await evilServer(response);
      const { messages } = await ours(evil.url());
      const peer = await evil.nextPeer();
      const deflater = new PeerDeflater();
      const payloads = response.endsWith('takeover') ? [deflateMessage(text), deflateMessage(text)] : [await deflater.compress(text), await deflater.compress(text)];
      deflater.close();
      for (const payload of payloads) peer.send({ opcode: TEXT, payload, rsv1: true });
      expect(await messages.next('1')).toEqual({ type: 'utf8', utf8Data: text });
      expect(await messages.next('2')).toEqual({ type: 'utf8', utf8Data: text });
    }
  });
});

// ---- fragmentation ----------------------------------------------------------------------------

describe('compressed and fragmented messages', () => {
  it('the server fragments a compressed message with RSV1 on the first frame only', async () => {
    const server = await serve({ perMessageDeflate: { threshold: 16 }, fragmentOutgoingMessages: true, fragmentationThreshold: 100 }, () => undefined);
    const peer = await raw(server.port, 'permessage-deflate');
    const connection = await server.connections.next('connection');
    const data = randomData(5000);
    connection.sendBytes(data);
    connection.sendUTF('short but compressed');
    const [message, second] = await rawMessages(peer, 2);
    const frames = peer.frames.filter((f) => f.opcode !== PING && f.opcode !== PONG);
    expect(message.frames).toBeGreaterThan(40);
    expect(frames[0]).toMatchObject({ opcode: BINARY, rsv1: true, fin: false });
    for (const frame of frames.slice(1, message.frames)) {
      expect(frame.opcode).toBe(CONTINUATION);
      expect(frame.rsv1).toBe(false);
      expect(frame.payload.length).toBeLessThanOrEqual(100);
    }
    expect(frames[message.frames - 1].fin).toBe(true);
    expect(second).toMatchObject({ opcode: TEXT, rsv1: true, frames: 1 });
    expect(inflateStream([message.payload, second.payload]).map((b, i) => (i === 0 ? b.equals(data) : b.toString()))).toEqual([true, 'short but compressed']);
  });

  it('the client fragments a compressed message with RSV1 on the first frame only', async () => {
    const evil = await evilServer('permessage-deflate');
    const { connection } = await ours(evil.url(), { perMessageDeflate: { threshold: 16 }, fragmentOutgoingMessages: true, fragmentationThreshold: 64 });
    const peer = await evil.nextPeer();
    const text = compressibleText(20000);
    connection.sendUTF(text);
    const [message] = await peer.waitForMessages(1);
    expect(message.frameCount).toBeGreaterThan(5);
    expect(peer.frames[0]).toMatchObject({ opcode: TEXT, rsv1: true, fin: false, masked: true });
    expect(peer.frames.slice(1).every((f) => f.opcode === CONTINUATION && !f.rsv1 && f.masked)).toBe(true);
    expect(inflateMessage(message.payload).toString()).toBe(text);
  });

  it('the server reads a compressed message in fragments, with a ping between them, and sync-flushed pieces', async () => {
    const server = await serve({ perMessageDeflate: true });
    const peer = await raw(server.port, 'permessage-deflate');
    const text = compressibleText(30000);
    const payload = deflateMessage(text);
    const pieces = [payload.subarray(0, 10), payload.subarray(10, 11), payload.subarray(11, 500), Buffer.alloc(0), payload.subarray(500)];
    pieces.forEach((piece, i) => {
      peer.sendFrame(i === 0 ? TEXT : CONTINUATION, piece, { rsv1: i === 0, fin: i === pieces.length - 1 });
      if (i === 2) peer.sendFrame(PING, 'between');
    });
    // A message compressed in several sync-flushed parts (as `ws` does for fragmented sends).
    const deflater = new PeerDeflater();
    const parts = [await deflater.compress('part one, '), await deflater.compress('part two, '), await deflater.compress('part three')];
    deflater.close();
    parts.forEach((part, i) => peer.sendFrame(i === 0 ? BINARY : CONTINUATION, i === parts.length - 1 ? part : Buffer.concat([part, TRAILER]), { rsv1: i === 0, fin: i === parts.length - 1 }));
    const [echoed, second] = await rawMessages(peer, 2);
    expect(peer.frames.find((f) => f.opcode === PONG)?.payload.toString()).toBe('between');
    expect(inflateMessage(echoed.payload).toString()).toBe(text);
    // The echo of the short one is below the threshold: uncompressed.
    expect(second).toMatchObject({ opcode: BINARY, rsv1: false });
    expect(second.payload.toString()).toBe('part one, part two, part three');
  });
});

// ---- ordering ---------------------------------------------------------------------------------

/** 2000 messages: every third one large and compressible (compressed), the others small (sent as is). */
function mixedLoad(): Array<string | Buffer> {
  return Array.from({ length: 2000 }, (_, i) => {
    const large = i % 3 === 0;
    const body = `${i}:` + (large ? compressibleText(3000 + (i % 7) * 1000, i) : `small ${i}`);
    return i % 2 === 0 ? body : Buffer.from(body);
  });
}

function checkOrder(received: Message[], sent: Array<string | Buffer>): void {
  expect(received).toHaveLength(sent.length);
  received.forEach((message, i) => {
    const expected = sent[i];
    if (typeof expected === 'string') expect(message).toEqual({ type: 'utf8', utf8Data: expected });
    else expect(message.type === 'binary' && message.binaryData.equals(expected)).toBe(true);
  });
}

describe('ordering under load', () => {
  it('2000 mixed small and compressed messages sent in one tick by the server arrive in order, then the close', async () => {
    const sent = mixedLoad();
    // A long close timeout: the close handshake waits behind 2000 messages on a loaded machine.
    const server = await serve({ perMessageDeflate: true, closeTimeout: 30000 }, (connection) => {
      for (const data of sent) connection.send(data);
      connection.ping('in the middle');
      connection.close(1000, 'done');
    });
    const { connection, closed } = await ours(server.url, { closeTimeout: 30000 });
    const received: Message[] = [];
    connection.on('message', (m) => received.push(m));
    const pings: string[] = [];
    connection.on('ping', (_cancel, data) => pings.push(`${received.length}:${data.toString()}`));
    expect(await closed).toEqual({ code: 1000, description: 'done' });
    checkOrder(received, sent);
    expect(pings).toEqual(['2000:in the middle']);
  });

  it('2000 mixed messages sent in one tick by the client arrive in order, then the close', async () => {
    const sent = mixedLoad();
    const received: Message[] = [];
    let serverClosed!: Promise<[number, string]>;
    const server = await serve({ perMessageDeflate: true, closeTimeout: 30000 }, (c) => {
      c.on('message', (m) => received.push(m));
      serverClosed = new Promise((resolve) => c.on('close', (...args) => resolve(args)));
    });
    const { connection, closed } = await ours(server.url, { closeTimeout: 30000 });
    const callbacks: number[] = [];
    sent.forEach((data, i) => connection.send(data, (error) => !error && callbacks.push(i)));
    connection.close(1000, 'bye');
    expect((await closed).code).toBe(1000);
    // The server reads the close frame after every message before it.
    expect(await serverClosed).toEqual([1000, 'bye']);
    checkOrder(received, sent);
    expect(callbacks).toEqual(sent.map((_, i) => i));
  });

  it('frames sent with sendFrame / fragmentAndSend wait for the messages still compressing', async () => {
    const server = await serve({ perMessageDeflate: true }, () => undefined);
    const peer = await raw(server.port, 'permessage-deflate');
    const connection = await server.connections.next('connection');
    connection.sendUTF(compressibleText(200000));
    const frame = new WebSocketFrame();
    frame.opcode = TEXT;
    frame.fin = true;
    frame.binaryPayload = Buffer.from('raw frame');
    connection.sendFrame(frame);
    const other = new WebSocketFrame();
    other.opcode = TEXT;
    other.binaryPayload = Buffer.from('fragmentAndSend');
    connection.fragmentAndSend(other);
    const messages = await rawMessages(peer, 3);
    expect(messages.map((m) => (m.rsv1 ? 'compressed' : m.payload.toString()))).toEqual(['compressed', 'raw frame', 'fragmentAndSend']);
  });

  it('a broadcast goes out after the messages each connection is still compressing', async () => {
    const server = await serve({ perMessageDeflate: true }, () => undefined);
    const peers = [await raw(server.port, 'permessage-deflate'), await raw(server.port)];
    const [compressed, plain] = [await server.connections.next('1'), await server.connections.next('2')];
    expect([compressed.compressed, plain.compressed]).toEqual([true, false]);
    compressed.sendUTF(compressibleText(100000));
    plain.sendUTF('first');
    server.wss.broadcastUTF('to everyone');
    const [a, b] = [await rawMessages(peers[0], 2), await rawMessages(peers[1], 2)];
    expect(a.map((m) => m.rsv1)).toEqual([true, false]);
    expect(a[1].payload.toString()).toBe('to everyone');
    expect(b.map((m) => m.payload.toString())).toEqual(['first', 'to everyone']);
  });
});

// ---- the zlib limiter and lazy contexts -------------------------------------------------------

describe('process-wide concurrency limit', () => {
  const zlibLimiter = zlibLimiterFor(1);

  it('with concurrencyLimit 1, several connections queue for zlib and all complete intact', async () => {
    const deflate = { concurrencyLimit: 1, threshold: 0 };
    const server = await serve({ perMessageDeflate: deflate });
    const clients = await Promise.all(Array.from({ length: 4 }, () => ours(server.url, { perMessageDeflate: deflate })));
    const perClient = 25;
    let maxPending = 0;
    for (let round = 0; round < perClient; round++) {
      clients.forEach(({ connection }, c) => connection.sendUTF(`${c}/${round}/` + compressibleText(3000 + round * 100, c)));
      maxPending = Math.max(maxPending, zlibLimiter.pending);
    }
    // Four connections each compressing one message: one runs, three wait.
    expect(maxPending).toBeGreaterThanOrEqual(3);
    for (const [c, { messages }] of clients.entries()) {
      for (let round = 0; round < perClient; round++) {
        expect(await messages.next(`echo ${c}/${round}`)).toEqual({ type: 'utf8', utf8Data: `${c}/${round}/` + compressibleText(3000 + round * 100, c) });
      }
    }
    expect(zlibLimiter.pending).toBe(0);
  });
});

describe('lazy zlib contexts', () => {
  it('a compressed connection that only carries small messages creates no zlib context; the first large message creates one per direction', async () => {
    const createDeflate = zlib.createDeflateRaw as jest.MockedFunction<typeof zlib.createDeflateRaw>;
    const createInflate = zlib.createInflateRaw as jest.MockedFunction<typeof zlib.createInflateRaw>;
    expect(jest.isMockFunction(createDeflate)).toBe(true);
    createDeflate.mockClear();
    createInflate.mockClear();
    const server = await serve({ perMessageDeflate: true });
    const clients = await Promise.all(Array.from({ length: 20 }, () => ours(server.url)));
    for (const { connection, messages } of clients) {
      expect(connection.compressed).toBe(true);
      connection.sendUTF('small');
      expect(await messages.next('echo')).toEqual({ type: 'utf8', utf8Data: 'small' });
    }
    await delay(20);
    expect(createDeflate).not.toHaveBeenCalled();
    expect(createInflate).not.toHaveBeenCalled();

    // One large message: the client deflates, the server inflates, deflates the echo, the client inflates.
    const [{ connection, messages }] = clients;
    connection.sendUTF(compressibleText(5000));
    expect(await messages.next('echo')).toEqual({ type: 'utf8', utf8Data: compressibleText(5000) });
    expect(createDeflate).toHaveBeenCalledTimes(2);
    expect(createInflate).toHaveBeenCalledTimes(2);
    // A second one reuses them.
    connection.sendUTF(compressibleText(6000));
    await messages.next('echo');
    expect(createDeflate).toHaveBeenCalledTimes(2);
    expect(createInflate).toHaveBeenCalledTimes(2);
  });

  it('releases the zlib contexts when the connection closes', async () => {
    const server = await serve({ perMessageDeflate: true });
    const { connection, messages, closed } = await ours(server.url);
    connection.sendUTF(compressibleText(5000));
    await messages.next('echo');
    const closeSpy = jest.spyOn(zlib.InflateRaw.prototype, 'close');
    const closeDeflate = jest.spyOn(zlib.DeflateRaw.prototype, 'close');
    cleanup.add(null, () => {
      closeSpy.mockRestore();
      closeDeflate.mockRestore();
    });
    connection.close();
    await closed;
    await waitUntil(() => closeSpy.mock.calls.length >= 2 && closeDeflate.mock.calls.length >= 2, 3000, 'zlib contexts closed');
  });
});
