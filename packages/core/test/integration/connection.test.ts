/**
 * WebSocketConnection over real sockets: interop with a `ws` v8 client (a second, independent
 * implementation), and exact wire checks with raw TCP peers.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { startServer, RawPeer, type TestServer } from '../helpers/raw-peer';
import {
  HalfOpenPeer,
  clientFrame,
  delay,
  echo,
  nextEvent,
  trackConnections,
  waitUntil,
  type ServerSide,
} from '../helpers/integration-kit';
import { ConnectionNotOpenError, WebSocketConnection, type Message } from '../../src/connection';
import { WebSocketFrame } from '../../src/websocket-frame';
import type { WebSocketServerOptions } from '../../src/server';

const MiB = 1024 * 1024;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => unknown)();
});

interface Fixture {
  server: TestServer;
  byPort: Map<number, ServerSide>;
  sideOf(localPort: number | undefined): Promise<ServerSide>;
}

/** A server on port 0 whose connections are accepted, tracked and set up by `setup` (default: echo). */
async function serve(options: Omit<WebSocketServerOptions, 'httpServer'> = {}, setup?: (c: WebSocketConnection, s: ServerSide) => void): Promise<Fixture> {
  const server = await startServer(options);
  const tracker = trackConnections(server, setup);
  cleanups.push(async () => {
    for (const side of tracker.byPort.values()) side.connection.socket.destroy();
    await server.close();
  });
  return { server, ...tracker };
}

interface WsClient {
  ws: WebSocket;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  pings: string[];
  pongs: string[];
  errors: Error[];
  closed: Promise<{ code: number; reason: string }>;
  side: ServerSide;
}

/** Connect a `ws` client to `fixture` and wait until both sides are open. */
async function wsConnect(fixture: Fixture, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
  const ws = new WebSocket(fixture.server.url, { perMessageDeflate: false, ...options });
  const messages: WsClient['messages'] = [];
  const pings: string[] = [];
  const pongs: string[] = [];
  const errors: Error[] = [];
  ws.on('message', (data, isBinary) => messages.push({ data: data as Buffer, isBinary }));
  ws.on('ping', (data) => pings.push(data.toString()));
  ws.on('pong', (data) => pongs.push(data.toString()));
  ws.on('error', (error) => errors.push(error));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  cleanups.push(() => ws.terminate());
  await nextEvent(ws, 'open');
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const side = await fixture.sideOf(socket.localPort);
  return { ws, messages, pings, pongs, errors, closed, side };
}

/** Connect a raw peer and return it with the server side of its connection. */
async function rawConnect(fixture: Fixture, options: Parameters<typeof RawPeer.connect>[1] = {}): Promise<{ peer: RawPeer; side: ServerSide }> {
  const peer = await RawPeer.connect(fixture.server.port, options);
  cleanups.push(() => peer.destroy());
  const side = await fixture.sideOf(peer.socket.localPort);
  return { peer, side };
}

async function halfOpenConnect(fixture: Fixture): Promise<{ peer: HalfOpenPeer; side: ServerSide }> {
  const peer = await HalfOpenPeer.connect(fixture.server.port);
  cleanups.push(() => peer.destroy());
  const side = await fixture.sideOf(peer.socket.localPort);
  return { peer, side };
}

function texts(messages: Message[]): string[] {
  return messages.map((m) => (m.type === 'utf8' ? m.utf8Data : `<binary ${m.binaryData.toString('hex')}>`));
}

describe('WebSocketConnection with a ws client', () => {
  describe('messages', () => {
    it('echoes text and binary messages with their types', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const text = 'héllo wörld ✓ 𝄞';
      const binary = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]);
      client.ws.send(text);
      client.ws.send(binary);
      await waitUntil(() => client.messages.length === 2);
      expect(client.side.messages).toEqual([
        { type: 'utf8', utf8Data: text },
        { type: 'binary', binaryData: binary },
      ]);
      expect(client.messages[0].isBinary).toBe(false);
      expect(client.messages[0].data.toString('utf8')).toBe(text);
      expect(client.messages[1].isBinary).toBe(true);
      expect(client.messages[1].data.equals(binary)).toBe(true);
      expect(client.errors).toEqual([]);
    });

    it('delivers empty text and empty binary messages', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      client.ws.send('');
      client.ws.send(Buffer.alloc(0));
      await waitUntil(() => client.messages.length === 2);
      expect(client.side.messages).toEqual([
        { type: 'utf8', utf8Data: '' },
        { type: 'binary', binaryData: Buffer.alloc(0) },
      ]);
      expect(client.messages.map((m) => [m.isBinary, m.data.length])).toEqual([
        [false, 0],
        [true, 0],
      ]);
    });

    it.each([125, 126, 65535, 65536, 16 * MiB])('echoes %i-byte text and binary messages intact', async (size) => {
      const fixture = await serve({ maxReceivedFrameSize: 32 * MiB, maxReceivedMessageSize: 32 * MiB });
      const client = await wsConnect(fixture);
      const binary = randomBytes(size);
      const text = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(size / 36)).slice(0, size);
      client.ws.send(text);
      client.ws.send(binary);
      await waitUntil(() => client.messages.length === 2, 15000);
      expect(client.side.messages).toHaveLength(2);
      const [serverText, serverBinary] = client.side.messages;
      expect(serverText.type).toBe('utf8');
      expect(serverText.type === 'utf8' && serverText.utf8Data === text).toBe(true);
      expect(serverBinary.type).toBe('binary');
      expect(serverBinary.type === 'binary' && serverBinary.binaryData.equals(binary)).toBe(true);
      expect(client.messages[0].isBinary).toBe(false);
      expect(client.messages[0].data.length).toBe(size);
      expect(client.messages[0].data.toString('latin1') === text).toBe(true);
      expect(client.messages[1].isBinary).toBe(true);
      expect(client.messages[1].data.equals(binary)).toBe(true);
    }, 30000);

    it('assembles fragmented messages from the client', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      client.ws.send('frag', { fin: false });
      client.ws.send('ment', { fin: false });
      client.ws.send('ed ✓', { fin: true });
      client.ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
      client.ws.send(Buffer.from([3]), { binary: true, fin: true });
      await waitUntil(() => client.side.messages.length === 2);
      expect(client.side.messages).toEqual([
        { type: 'utf8', utf8Data: 'fragmented ✓' },
        { type: 'binary', binaryData: Buffer.from([1, 2, 3]) },
      ]);
      await waitUntil(() => client.messages.length === 2);
      expect(client.messages[0].data.toString()).toBe('fragmented ✓');
      expect(client.messages[1].data).toEqual(Buffer.from([1, 2, 3]));
    });

    it('fragments outgoing messages exactly at fragmentationThreshold, and a ws client reassembles them', async () => {
      const fixture = await serve({ fragmentOutgoingMessages: true, fragmentationThreshold: 10 });
      const { peer, side } = await rawConnect(fixture);
      const text = 'abcdefghijklmnopqrstuvwxy'; // 25 bytes
      const binary = Buffer.from(Array.from({ length: 20 }, (_, i) => i)); // exactly 2 fragments
      const exact = 'ten bytes!'; // exactly the threshold: one frame
      expect(side.connection.sendUTF(text)).toBe(true);
      expect(side.connection.sendBytes(binary)).toBe(true);
      expect(side.connection.sendUTF(exact)).toBe(true);
      const frame = new WebSocketFrame();
      frame.opcode = 0x2;
      frame.binaryPayload = Buffer.alloc(11, 7);
      expect(side.connection.fragmentAndSend(frame)).toBe(true);
      const frames = await peer.waitFor((f) => f.length === 8);
      expect(frames.map((f) => ({ opcode: f.opcode, fin: f.fin, rsv1: f.rsv1, payload: f.payload.toString('hex') }))).toEqual([
        { opcode: 0x1, fin: false, rsv1: false, payload: Buffer.from('abcdefghij').toString('hex') },
        { opcode: 0x0, fin: false, rsv1: false, payload: Buffer.from('klmnopqrst').toString('hex') },
        { opcode: 0x0, fin: true, rsv1: false, payload: Buffer.from('uvwxy').toString('hex') },
        { opcode: 0x2, fin: false, rsv1: false, payload: binary.subarray(0, 10).toString('hex') },
        { opcode: 0x0, fin: true, rsv1: false, payload: binary.subarray(10).toString('hex') },
        { opcode: 0x1, fin: true, rsv1: false, payload: Buffer.from(exact).toString('hex') },
        { opcode: 0x2, fin: false, rsv1: false, payload: Buffer.alloc(10, 7).toString('hex') },
        { opcode: 0x0, fin: true, rsv1: false, payload: '07' },
      ]);

      const client = await wsConnect(fixture);
      const long = 'ü'.repeat(40); // 80 bytes: 8 fragments, characters split across fragments
      client.side.connection.sendUTF(long);
      client.side.connection.sendBytes(binary);
      await waitUntil(() => client.messages.length === 2);
      expect(client.messages[0]).toEqual({ data: Buffer.from(long), isBinary: false });
      expect(client.messages[1]).toEqual({ data: binary, isBinary: true });
    });

    it('accepts numbers and objects with toString() as text and Uint8Arrays as binary in send()', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      expect(connection.send(42)).toBe(true);
      expect(connection.send({ toString: () => 'object text' })).toBe(true);
      expect(connection.send(new Uint8Array([9, 8, 7]))).toBe(true);
      expect(connection.send(Buffer.from([1]))).toBe(true);
      await waitUntil(() => client.messages.length === 4);
      expect(client.messages).toEqual([
        { data: Buffer.from('42'), isBinary: false },
        { data: Buffer.from('object text'), isBinary: false },
        { data: Buffer.from([9, 8, 7]), isBinary: true },
        { data: Buffer.from([1]), isBinary: true },
      ]);
    });

    it('rejects bad arguments to send() and sendBytes() with the exact errors', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      const sendBytes = connection.sendBytes.bind(connection) as (data: unknown) => boolean;
      const send = connection.send.bind(connection) as (data: unknown) => boolean;
      expect(() => sendBytes('not a buffer')).toThrow(new TypeError('You must pass a Node Buffer object to WebSocketConnection.prototype.sendBytes()'));
      expect(() => sendBytes(new Uint8Array([1]))).toThrow(TypeError);
      expect(() => send(null)).toThrow(new TypeError('Data provided must either be a Node Buffer or implement toString()'));
      expect(() => send(undefined)).toThrow(new TypeError('Data provided must either be a Node Buffer or implement toString()'));
      expect(() => send(Object.create(null))).toThrow(new TypeError('Data provided must either be a Node Buffer or implement toString()'));
      // Nothing was sent and the connection is unharmed.
      connection.sendUTF('still fine');
      await waitUntil(() => client.messages.length === 1);
      expect(client.messages).toEqual([{ data: Buffer.from('still fine'), isBinary: false }]);
      expect(connection.state).toBe('open');
    });

    it('coalesces many sends in one tick and delivers them intact and in order', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      const expected: Array<{ data: Buffer; isBinary: boolean }> = [];
      for (let i = 0; i < 1000; i++) {
        if (i % 10 === 9) {
          const bytes = Buffer.from([i & 0xff, i >> 8]);
          connection.sendBytes(bytes);
          expected.push({ data: bytes, isBinary: true });
        } else {
          connection.sendUTF(`message ${i} ✓`);
          expected.push({ data: Buffer.from(`message ${i} ✓`), isBinary: false });
        }
      }
      await waitUntil(() => client.messages.length === 1000);
      expect(client.messages).toEqual(expected);
    });

    it('returns the boolean of sendFrame() and sends the frame as built', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const frame = new WebSocketFrame();
      frame.opcode = 0x1;
      frame.fin = true;
      frame.binaryPayload = Buffer.from('via sendFrame');
      const result = client.side.connection.sendFrame(frame);
      expect(result).toBe(true);
      await waitUntil(() => client.messages.length === 1);
      expect(client.messages).toEqual([{ data: Buffer.from('via sendFrame'), isBinary: false }]);
    });

    it('refuses to fragment control frames', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      for (const opcode of [0x8, 0x9, 0xa]) {
        const frame = new WebSocketFrame();
        frame.opcode = opcode;
        frame.binaryPayload = Buffer.from('x');
        expect(() => client.side.connection.fragmentAndSend(frame)).toThrow(new Error('You cannot fragment control frames.'));
      }
      expect(client.side.connection.state).toBe('open');
    });

    it('processes frames that arrive in the same packet as the handshake', async () => {
      const fixture = await serve();
      const head = Buffer.concat([clientFrame(0x1, 'early bird'), clientFrame(0x2, Buffer.from([0xca, 0xfe]))]);
      const { peer, side } = await rawConnect(fixture, { head });
      const frames = await peer.waitFor((f) => f.length === 2);
      expect(side.messages).toEqual([
        { type: 'utf8', utf8Data: 'early bird' },
        { type: 'binary', binaryData: Buffer.from([0xca, 0xfe]) },
      ]);
      expect(frames.map((f) => [f.opcode, f.fin, f.payload.toString('hex')])).toEqual([
        [0x1, true, Buffer.from('early bird').toString('hex')],
        [0x2, true, 'cafe'],
      ]);
    });
  });

  describe('assembleFragments: false', () => {
    it('emits every frame (control frames included) as WebSocketFrame objects and no message', async () => {
      const frames: WebSocketFrame[] = [];
      let messageEvents = 0;
      const fixture = await serve({ assembleFragments: false }, (connection) => {
        connection.on('frame', (frame) => frames.push(frame));
        connection.on('message', () => messageEvents++);
      });
      const client = await wsConnect(fixture);
      client.ws.send('ab', { fin: false });
      client.ws.send('c', { fin: true });
      client.ws.ping('p');
      client.ws.send(Buffer.from([1, 2]), { binary: true });
      await waitUntil(() => frames.length === 4);
      await waitUntil(() => client.pongs.length === 1);
      expect(client.pongs).toEqual(['p']);
      client.ws.close(4000, 'x');
      await waitUntil(() => frames.length === 5);
      for (const frame of frames) expect(frame).toBeInstanceOf(WebSocketFrame);
      expect(frames.map((f) => ({ opcode: f.opcode, fin: f.fin, mask: f.mask, length: f.length, payload: (f.binaryPayload as Buffer).toString('hex') }))).toEqual([
        { opcode: 0x1, fin: false, mask: true, length: 2, payload: Buffer.from('ab').toString('hex') },
        { opcode: 0x0, fin: true, mask: true, length: 1, payload: Buffer.from('c').toString('hex') },
        { opcode: 0x9, fin: true, mask: true, length: 1, payload: Buffer.from('p').toString('hex') },
        { opcode: 0x2, fin: true, mask: true, length: 2, payload: '0102' },
        { opcode: 0x8, fin: true, mask: true, length: 3, payload: Buffer.from('x').toString('hex') },
      ]);
      expect(frames[4].closeStatus).toBe(4000);
      expect(await client.side.closed).toEqual({ code: 4000, description: 'x' });
      expect(messageEvents).toBe(0);
      expect(client.side.messages).toEqual([]);
    });
  });

  describe('ping and pong', () => {
    it("emits ping(cancel, data); cancel() suppresses the automatic pong", async () => {
      const received: string[] = [];
      const fixture = await serve({}, (connection) => {
        connection.on('ping', (cancel, data) => {
          received.push(data.toString());
          if (data.toString() === 'cancel me') cancel();
        });
      });
      const client = await wsConnect(fixture);
      client.ws.ping('cancel me');
      client.ws.ping('answer me');
      await waitUntil(() => client.pongs.length === 1);
      // Pongs come in order, so the first ping was never answered.
      expect(client.pongs).toEqual(['answer me']);
      expect(received).toEqual(['cancel me', 'answer me']);
    });

    it('answers pings automatically without a ping listener', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      client.ws.ping(Buffer.from([0, 1, 2, 255]));
      await waitUntil(() => client.pongs.length === 1);
      expect(client.pongs).toEqual([Buffer.from([0, 1, 2, 255]).toString()]);
    });

    it('sends pings (the peer answers with a pong event carrying the data) and unsolicited string pongs', async () => {
      const pongs: string[] = [];
      const fixture = await serve({}, (connection) => connection.on('pong', (data) => pongs.push(data.toString())));
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      expect(connection.ping('hello')).toBe(true);
      expect(connection.ping(Buffer.alloc(125, 0x61))).toBe(true);
      expect(connection.ping()).toBe(true);
      expect(connection.pong('unsolicited')).toBe(true);
      await waitUntil(() => pongs.length === 3 && client.pongs.length === 1);
      expect(client.pings).toEqual(['hello', 'a'.repeat(125), '']);
      expect(pongs).toEqual(['hello', 'a'.repeat(125), '']);
      expect(client.pongs).toEqual(['unsolicited']);
    });

    it('throws RangeError for ping/pong payloads over 125 bytes', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      expect(() => connection.ping(Buffer.alloc(126))).toThrow(new RangeError('A ping payload must be at most 125 bytes; got 126.'));
      expect(() => connection.pong('x'.repeat(126))).toThrow(new RangeError('A pong payload must be at most 125 bytes; got 126.'));
      expect(() => connection.ping('é'.repeat(63))).toThrow(new RangeError('A ping payload must be at most 125 bytes; got 126.'));
      connection.ping('ok');
      await waitUntil(() => client.pings.length === 1);
      expect(client.pings).toEqual(['ok']);
    });
  });

  describe('closing', () => {
    it('close(code, reason): the client sees both, the state goes open → ending → closed, and close reports our code', async () => {
      const serverCloses: Array<[number, string]> = [];
      const fixture = await serve();
      fixture.server.wss.on('close', (_c, code, description) => serverCloses.push([code, description]));
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      expect(connection.state).toBe('open');
      expect(connection.connected).toBe(true);
      expect(connection.closeReasonCode).toBe(-1);
      expect(connection.closeDescription).toBeNull();
      connection.close(4001, 'server says bye');
      expect(connection.state).toBe('ending');
      expect(connection.connected).toBe(false);
      expect(connection.waitingForCloseResponse).toBe(true);
      expect(connection.closeReasonCode).toBe(4001);
      expect(connection.closeDescription).toBe('server says bye');
      expect(await client.closed).toEqual({ code: 4001, reason: 'server says bye' });
      expect(await client.side.closed).toEqual({ code: 4001, description: 'server says bye' });
      expect(connection.state).toBe('closed');
      expect(connection.waitingForCloseResponse).toBe(false);
      expect(serverCloses).toEqual([[4001, 'server says bye']]);
      expect(fixture.server.wss.connections).toEqual([]);
      // A second close() is a no-op.
      connection.close(4002, 'again');
      expect(connection.closeReasonCode).toBe(4001);
    });

    it('close() without arguments sends 1000 "Normal connection closure"', async () => {
      const fixture = await serve();
      const { peer, side } = await rawConnect(fixture);
      side.connection.close();
      expect(await peer.waitForClose()).toEqual({ code: 1000, reason: 'Normal connection closure' });
      expect(await side.closed).toEqual({ code: 1000, description: 'Normal connection closure' });
    });

    it('close() with an invalid code throws RangeError and leaves the state untouched', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 3000.5]) {
        expect(() => connection.close(code, 'no')).toThrow(new RangeError(`Close code ${code} is not valid.`));
        expect(connection.state).toBe('open');
        expect(connection.connected).toBe(true);
        expect(connection.closeReasonCode).toBe(-1);
        expect(connection.closeDescription).toBeNull();
      }
      expect(() => connection.close(1000, 'é'.repeat(62))).toThrow(new RangeError('Close description must be at most 123 bytes of UTF-8; got 124.'));
      expect(connection.state).toBe('open');
      client.ws.send('still open');
      await waitUntil(() => client.messages.length === 1);
      expect(client.messages[0].data.toString()).toBe('still open');
      const reason = 'r'.repeat(123);
      connection.close(3000, reason);
      expect(await client.closed).toEqual({ code: 3000, reason });
      expect(await client.side.closed).toEqual({ code: 3000, description: reason });
    });

    it('peer close 4000 "bye": the server echoes 4000 and reports 4000 "bye"', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      client.ws.close(4000, 'bye');
      expect(await client.closed).toEqual({ code: 4000, reason: '' });
      expect(await client.side.closed).toEqual({ code: 4000, description: 'bye' });
      expect(client.side.connection.closeReasonCode).toBe(4000);
      expect(client.side.connection.closeDescription).toBe('bye');

      const { peer, side } = await rawConnect(fixture);
      peer.sendClose(4000, 'bye');
      expect(await peer.waitForClose()).toEqual({ code: 4000, reason: '' });
      expect(await side.closed).toEqual({ code: 4000, description: 'bye' });
    });

    it('peer close: state peer_requested_close until the TCP connection ends, then closed', async () => {
      const fixture = await serve();
      const { peer, side } = await halfOpenConnect(fixture);
      peer.sendFrame(0x8, Buffer.concat([Buffer.from([0x0f, 0xa5]), Buffer.from('half')])); // 4005
      await peer.waitFor((f) => f.length === 1);
      await waitUntil(() => peer.receivedEnd);
      expect(peer.frames[0].opcode).toBe(0x8);
      expect(peer.frames[0].payload).toEqual(Buffer.from([0x0f, 0xa5]));
      const connection = side.connection;
      expect(connection.state).toBe('peer_requested_close');
      expect(connection.connected).toBe(false);
      expect(connection.closeReasonCode).toBe(4005);
      expect(connection.closeDescription).toBe('half');
      expect(connection.closeEventEmitted).toBe(false);
      peer.socket.end();
      expect(await side.closed).toEqual({ code: 4005, description: 'half' });
      expect(connection.state).toBe('closed');
    });

    it('an empty close frame from the peer gets 1000 back and reports 1005 locally', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      client.ws.close(); // ws sends a close frame without a status code
      expect(await client.closed).toEqual({ code: 1000, reason: '' });
      expect(await client.side.closed).toEqual({ code: 1005, description: 'Reason not provided' });

      const { peer, side } = await rawConnect(fixture);
      peer.sendClose();
      expect(await peer.waitForClose()).toEqual({ code: 1000, reason: '' });
      expect(peer.frames[0].payload).toEqual(Buffer.from([0x03, 0xe8]));
      expect(await side.closed).toEqual({ code: 1005, description: 'Reason not provided' });
    });

    it('drop() sends 1002 "Protocol error", emits close synchronously and closes the socket', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      connection.drop();
      expect(client.side.closeEvent).toEqual({ code: 1002, description: 'Protocol error' });
      expect(connection.state).toBe('closed');
      expect(connection.connected).toBe(false);
      expect(connection.closeEventEmitted).toBe(true);
      expect(await client.closed).toEqual({ code: 1002, reason: 'Protocol error' });
      expect(fixture.server.wss.connections).toEqual([]);
    });

    it('drop() truncates a long description on the wire to 123 bytes (whole characters)', async () => {
      const fixture = await serve();
      const { peer, side } = await rawConnect(fixture);
      const description = 'é'.repeat(100); // 200 bytes
      side.connection.drop(1008, description);
      expect(side.closeEvent).toEqual({ code: 1008, description });
      expect(await peer.waitForClose()).toEqual({ code: 1008, reason: 'é'.repeat(61) });
      await peer.closed;
      expect(peer.frames).toHaveLength(1);
    });

    it('drop(code, reason, true) closes without a close frame', async () => {
      const fixture = await serve();
      const { peer, side } = await rawConnect(fixture);
      side.connection.drop(4004, 'silent', true);
      expect(side.closeEvent).toEqual({ code: 4004, description: 'silent' });
      await peer.closed;
      expect(peer.frames).toEqual([]);
    });

    it('a TCP end without a close frame reports 1006 "Connection dropped by remote peer."', async () => {
      const fixture = await serve();
      const { peer, side } = await rawConnect(fixture);
      peer.socket.end();
      expect(await side.closed).toEqual({ code: 1006, description: 'Connection dropped by remote peer.' });
      expect(side.connection.state).toBe('closed');
      expect(side.connection.connected).toBe(false);
      expect(side.connection.closeReasonCode).toBe(1006);
      await peer.closed;
      expect(peer.frames).toEqual([]);
    });

    it('a TCP reset reports 1006 "Socket Error: read ECONNRESET" and emits error', async () => {
      const errors: Array<NodeJS.ErrnoException> = [];
      const fixture = await serve({}, (connection) => connection.on('error', (error) => errors.push(error)));
      const { peer, side } = await rawConnect(fixture);
      peer.socket.resetAndDestroy();
      expect(await side.closed).toEqual({ code: 1006, description: 'Socket Error: read ECONNRESET' });
      expect(errors.map((e) => e.code)).toEqual(['ECONNRESET']);
      expect(side.connection.socketHadError).toBe(true);
      expect(side.connection.state).toBe('closed');
    });

    it('closeTimeout destroys the socket of a peer that never finishes the close handshake', async () => {
      const fixture = await serve({ closeTimeout: 200 });
      const { peer, side } = await halfOpenConnect(fixture);
      side.connection.close(4003, 'no reply expected');
      await peer.waitFor((f) => f.length === 1);
      expect(peer.frames[0].opcode).toBe(0x8);
      expect(peer.frames[0].payload).toEqual(Buffer.concat([Buffer.from([0x0f, 0xa3]), Buffer.from('no reply expected')]));
      // The peer ignores the close frame and keeps its half of the TCP connection open.
      expect(await side.closed).toEqual({ code: 4003, description: 'no reply expected' });
      expect(side.connection.socket.destroyed).toBe(true);
      expect(side.connection.state).toBe('closed');
      expect(fixture.server.wss.connections).toEqual([]);
    });

    it('closeTimeout also bounds a peer that sent close but never ends TCP (its code is kept)', async () => {
      const fixture = await serve({ closeTimeout: 200 });
      const { peer, side } = await halfOpenConnect(fixture);
      peer.sendFrame(0x8, Buffer.concat([Buffer.from([0x0b, 0xb8]), Buffer.from('first')])); // 3000
      expect(await side.closed).toEqual({ code: 3000, description: 'first' });
      expect(side.connection.socket.destroyed).toBe(true);
      expect(peer.frames.map((f) => f.opcode)).toEqual([0x8]);
    });
  });

  describe('keepalive', () => {
    it('pings a silent peer, then closes with 1006 "Peer not responding." and no close frame', async () => {
      const fixture = await serve({ keepalive: true, keepaliveInterval: 100, keepaliveGracePeriod: 150, dropConnectionOnKeepaliveTimeout: true });
      const { peer, side } = await rawConnect(fixture);
      await peer.waitFor((f) => f.length === 1);
      expect(peer.frames[0]).toEqual({ opcode: 0x9, fin: true, rsv1: false, payload: Buffer.alloc(0) });
      expect(await side.closed).toEqual({ code: 1006, description: 'Peer not responding.' });
      await peer.closed;
      expect(peer.frames.map((f) => f.opcode)).toEqual([0x9]);
      expect(side.connection.state).toBe('closed');
    });

    it('keeps a peer that answers the keepalive ping', async () => {
      const fixture = await serve({ keepalive: true, keepaliveInterval: 100, keepaliveGracePeriod: 150, dropConnectionOnKeepaliveTimeout: true });
      const client = await wsConnect(fixture); // ws answers pings automatically
      await waitUntil(() => client.pings.length >= 3, 5000);
      expect(client.side.connection.state).toBe('open');
      expect(client.side.closeEvent).toBeNull();
      expect(client.pings.slice(0, 3)).toEqual(['', '', '']);
    });

    it('with dropConnectionOnKeepaliveTimeout false, the pings repeat and the connection stays open', async () => {
      const fixture = await serve({ keepalive: true, keepaliveInterval: 60, dropConnectionOnKeepaliveTimeout: false });
      const { peer, side } = await rawConnect(fixture);
      await peer.waitFor((f) => f.length >= 4);
      expect(peer.frames.slice(0, 4).map((f) => [f.opcode, f.payload.length])).toEqual([
        [0x9, 0],
        [0x9, 0],
        [0x9, 0],
        [0x9, 0],
      ]);
      expect(side.connection.state).toBe('open');
      expect(side.connection.connected).toBe(true);
      expect(side.closeEvent).toBeNull();
    });

    it('does not turn a closing handshake into a 1006 keepalive drop', async () => {
      const fixture = await serve({ keepalive: true, keepaliveInterval: 40, keepaliveGracePeriod: 40, dropConnectionOnKeepaliveTimeout: true, closeTimeout: 400 });
      const ours = await halfOpenConnect(fixture);
      ours.side.connection.close(4006, 'closing');
      const theirs = await halfOpenConnect(fixture);
      theirs.peer.sendFrame(0x8, Buffer.concat([Buffer.from([0x0f, 0xa7]), Buffer.from('peer closing')])); // 4007
      expect(await ours.side.closed).toEqual({ code: 4006, description: 'closing' });
      expect(await theirs.side.closed).toEqual({ code: 4007, description: 'peer closing' });
      expect(ours.peer.frames.map((f) => f.opcode)).toEqual([0x8]);
      expect(theirs.peer.frames.map((f) => f.opcode)).toEqual([0x8]);
    });
  });

  describe('sending after close', () => {
    it('returns false, passes WS_ERR_NOT_OPEN to the callback, writes nothing and keeps the close code', async () => {
      const fixture = await serve();
      const { peer, side } = await rawConnect(fixture);
      const connection = side.connection;
      const socketErrors: Error[] = [];
      connection.on('error', (error) => socketErrors.push(error));
      connection.close(4010, 'done');

      const callbackErrors: Array<Error | null | undefined> = [];
      const collect = (error?: Error | null): void => {
        callbackErrors.push(error);
      };
      expect(connection.sendUTF('late text', collect)).toBe(false);
      expect(connection.sendBytes(Buffer.from('late bytes'), collect)).toBe(false);
      expect(connection.send('late send', collect)).toBe(false);
      const frame = new WebSocketFrame();
      frame.opcode = 0x1;
      frame.fin = true;
      frame.binaryPayload = Buffer.from('late frame');
      expect(connection.sendFrame(frame, collect)).toBe(false);
      expect(connection.fragmentAndSend(frame, collect)).toBe(false);
      expect(connection.ping('late ping')).toBe(false);
      expect(connection.pong('late pong')).toBe(false);
      await waitUntil(() => callbackErrors.length === 5);
      for (const error of callbackErrors) {
        expect(error).toBeInstanceOf(ConnectionNotOpenError);
        expect((error as ConnectionNotOpenError).code).toBe('WS_ERR_NOT_OPEN');
        expect((error as Error).message).toBe('Cannot send on a WebSocket connection that is closing (state "ending").');
      }

      expect(await side.closed).toEqual({ code: 4010, description: 'done' });
      const afterClose: Array<Error | null | undefined> = [];
      expect(connection.send('after close event', (error) => afterClose.push(error))).toBe(false);
      await waitUntil(() => afterClose.length === 1);
      expect((afterClose[0] as ConnectionNotOpenError).code).toBe('WS_ERR_NOT_OPEN');
      expect((afterClose[0] as Error).message).toBe('Cannot send on a WebSocket connection that is closed (state "closed").');

      await peer.closed;
      expect(peer.frames).toHaveLength(1);
      expect(peer.frames[0].opcode).toBe(0x8);
      expect(peer.frames[0].payload).toEqual(Buffer.concat([Buffer.from([0x0f, 0xaa]), Buffer.from('done')]));
      expect(connection.closeReasonCode).toBe(4010);
      expect(connection.closeDescription).toBe('done');
      expect(socketErrors).toEqual([]);
    });

    it('refuses sends after the peer requested the close', async () => {
      const fixture = await serve();
      const { peer, side } = await halfOpenConnect(fixture);
      peer.sendFrame(0x8, Buffer.from([0x03, 0xe8]));
      await waitUntil(() => side.connection.state === 'peer_requested_close');
      const errors: Array<Error | null | undefined> = [];
      expect(side.connection.sendUTF('nope', (error) => errors.push(error))).toBe(false);
      await waitUntil(() => errors.length === 1);
      expect((errors[0] as Error).message).toBe('Cannot send on a WebSocket connection that is closing (state "peer_requested_close").');
      peer.socket.end();
      expect(await side.closed).toEqual({ code: 1000, description: 'Normal connection closure' });
      expect(peer.frames.map((f) => [f.opcode, f.payload.toString('hex')])).toEqual([[0x8, '03e8']]);
    });
  });

  describe('flow control', () => {
    it('pause() holds message events until resume(), which delivers them in order', async () => {
      const resumed: string[] = [];
      const fixture = await serve({}, (connection, side) => {
        connection.on('message', (message) => {
          if (message.type === 'utf8' && message.utf8Data === 'pause now') {
            connection.pause();
            connection.sendUTF('paused');
          }
          if (side.messages.length > 1) resumed.push(texts([message])[0]);
        });
      });
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      client.ws.send('pause now');
      await waitUntil(() => client.messages.length === 1);
      expect(connection.inputPaused).toBe(true);
      for (const text of ['a', 'b', 'c', 'd']) client.ws.send(text);
      await delay(200);
      expect(texts(client.side.messages)).toEqual(['pause now']);
      connection.resume();
      // The socket reports 'resume' on the next tick.
      await waitUntil(() => !connection.inputPaused);
      await waitUntil(() => client.side.messages.length === 5);
      expect(texts(client.side.messages)).toEqual(['pause now', 'a', 'b', 'c', 'd']);
      expect(resumed).toEqual(['a', 'b', 'c', 'd']);
    });

    it('reports backpressure: send returns false while the peer does not read, and drain fires once it does', async () => {
      const fixture = await serve();
      const client = await wsConnect(fixture);
      const connection = client.side.connection;
      client.ws.pause();
      const chunk = Buffer.alloc(8 * 1024, 0x5a);
      let sent = 0;
      let result = true;
      const first = connection.sendBytes(chunk);
      sent++;
      expect(first).toBe(true);
      while (result && sent < 20000) {
        await new Promise((resolve) => setImmediate(resolve));
        const numbered = Buffer.from(chunk);
        numbered.writeUInt32BE(sent, 0);
        result = connection.sendBytes(numbered);
        sent++;
      }
      expect(result).toBe(false);
      expect(connection.outputBufferFull).toBe(true);
      expect(connection.bufferedAmount).toBeGreaterThan(0);
      const drained = nextEvent(connection, 'drain', 10000);
      client.ws.resume();
      await drained;
      expect(connection.outputBufferFull).toBe(false);
      await waitUntil(() => client.messages.length === sent, 10000);
      expect(client.messages[sent - 1].data.readUInt32BE(0)).toBe(sent - 1);
      expect(client.messages.every((m, i) => m.isBinary && m.data.length === chunk.length && (i === 0 || m.data.readUInt32BE(0) === i))).toBe(true);
    }, 30000);
  });

  it('runs a whole session: open, exchange, client close with 1000', async () => {
    // A whole session: open, exchange, close by the client with 1000.
    const fixture = await serve({}, echo);
    const client = await wsConnect(fixture);
    client.ws.send('one');
    await waitUntil(() => client.messages.length === 1);
    client.ws.close(1000, 'done');
    expect(await client.closed).toEqual({ code: 1000, reason: '' });
    expect(await client.side.closed).toEqual({ code: 1000, description: 'done' });
    expect(client.side.connection.webSocketVersion).toBe(13);
    expect(client.side.connection.remoteAddress).toBe('127.0.0.1');
    expect(client.errors).toEqual([]);
  });
});
