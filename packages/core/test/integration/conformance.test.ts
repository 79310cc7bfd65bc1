/**
 * Our own conformance suite, modelled on the Autobahn TestSuite server cases (categories 1-7, 9
 * and 10), run against an echo server with raw TCP peers. Where we follow RFC 6455 instead of
 * WebSocket-Node (unmasked frames, close codes on the wire, UTF-8 fail-fast), RFC 6455 wins.
 *
 * Every violation is checked the same way: the exact close code and reason the server sends,
 * that the server's close frame arrives and the TCP connection closes, that nothing is echoed
 * after the violation, the server's own `close` event, and that a concurrent well-behaved
 * connection on the same server (left in the middle of a fragmented message while the violation
 * happens) still echoes correctly afterwards.
 */
import { randomBytes } from 'node:crypto';
import { startServer, RawPeer, type ReceivedFrame, type TestServer } from '../helpers/raw-peer';
import { clientFrame, closePayload, delay, trackConnections, type ServerSide } from '../helpers/integration-kit';
import type { WebSocketServerOptions } from '../../src/server';

const MiB = 1024 * 1024;
const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

interface Fixture {
  server: TestServer;
  byPort: Map<number, ServerSide>;
  sideOf(localPort: number | undefined): Promise<ServerSide>;
  peers: RawPeer[];
}

/** An echo server; `fragmentOutgoingMessages` is off so every echo is exactly one frame. */
async function startEchoServer(options: Omit<WebSocketServerOptions, 'httpServer'> = {}): Promise<Fixture> {
  const server = await startServer({ fragmentOutgoingMessages: false, ...options });
  return { server, ...trackConnections(server), peers: [] };
}

async function stopEchoServer(fixture: Fixture): Promise<void> {
  for (const peer of fixture.peers) peer.destroy();
  for (const side of fixture.byPort.values()) side.connection.socket.destroy();
  await fixture.server.close();
}

async function open(fixture: Fixture): Promise<{ peer: RawPeer; side: ServerSide }> {
  const peer = await RawPeer.connect(fixture.server.port);
  fixture.peers.push(peer);
  peer.socket.setNoDelay(true);
  const side = await fixture.sideOf(peer.socket.localPort);
  return { peer, side };
}

/** Write `bytes` in chops of `size` octets, one chop per event-loop turn. */
async function writeChopped(peer: RawPeer, bytes: Buffer, size: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += size) {
    peer.write(bytes.subarray(i, i + size));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function summary(frames: ReceivedFrame[]): Array<{ opcode: number; fin: boolean; rsv1: boolean; payload: string }> {
  return frames.map((f) => ({ opcode: f.opcode, fin: f.fin, rsv1: f.rsv1, payload: f.payload.toString('hex') }));
}

function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0)): { opcode: number; fin: boolean; rsv1: boolean; payload: string } {
  return { opcode, fin: true, rsv1: false, payload: (typeof payload === 'string' ? Buffer.from(payload) : payload).toString('hex') };
}

/** A close frame as the server sends it: the code, and the reason when there is one. */
function closeFrame(code: number, reason = ''): ReturnType<typeof frame> {
  return frame(CLOSE, closePayload(code, reason));
}

/** Send a message through `peer` and expect exactly that message back as one frame. */
async function expectEcho(peer: RawPeer, opcode: number, payload: Buffer | string): Promise<void> {
  const before = peer.frames.length;
  peer.sendFrame(opcode, payload);
  await peer.waitFor((f) => f.length > before, 15000);
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const echoed = peer.frames[before];
  expect(echoed.opcode).toBe(opcode);
  expect(echoed.fin).toBe(true);
  expect(echoed.payload.equals(data)).toBe(true);
}

/**
 * Run a violation on a fresh connection while a second connection is in the middle of a
 * fragmented message, then check everything described in the file comment.
 * `expectedBefore` lists the frames the violator legitimately receives before the close frame.
 */
async function expectViolation(
  fixture: Fixture,
  violate: (peer: RawPeer) => void | Promise<void>,
  code: number,
  reason: string,
  expectedBefore: Array<ReturnType<typeof frame>> = [],
): Promise<void> {
  const bystander = await open(fixture);
  const violator = await open(fixture);
  bystander.peer.sendFrame(TEXT, 'concurrent ', { fin: false });

  await violate(violator.peer);
  const close = await violator.peer.waitForClose();
  expect(close).toEqual({ code, reason });
  await violator.peer.closed;
  expect(summary(violator.peer.frames)).toEqual([...expectedBefore, closeFrame(code, reason)]);
  expect(await violator.side.closed).toEqual({ code, description: reason });
  expect(violator.side.connection.state).toBe('closed');
  expect(violator.side.connection.connected).toBe(false);

  bystander.peer.sendFrame(CONT, 'and well-behaved', { fin: true });
  await bystander.peer.waitFor((f) => f.length === 1);
  expect(summary(bystander.peer.frames)).toEqual([frame(TEXT, 'concurrent and well-behaved')]);
  expect(bystander.side.connection.state).toBe('open');
  bystander.peer.sendClose(1000);
  expect(await bystander.peer.waitForClose()).toEqual({ code: 1000, reason: '' });
  await bystander.peer.closed;
}

/** A trailing valid frame written together with a violation: it must never be echoed. */
const trailer = (): Buffer => clientFrame(TEXT, 'must not be echoed');

describe('conformance (Autobahn-style)', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startEchoServer({ maxReceivedFrameSize: 20 * MiB, maxReceivedMessageSize: 20 * MiB });
  });
  afterAll(async () => {
    await stopEchoServer(fixture);
  });

  describe('1. framing', () => {
    const lengths = [0, 125, 126, 127, 128, 65535, 65536];

    it.each(lengths)('1.1 text message of %i bytes is echoed', async (length) => {
      const { peer } = await open(fixture);
      await expectEcho(peer, TEXT, '*'.repeat(length));
    });

    it.each(lengths)('1.2 binary message of %i bytes is echoed', async (length) => {
      const { peer } = await open(fixture);
      await expectEcho(peer, BINARY, Buffer.alloc(length, 0xfe));
    });

    it.each(lengths)('1.1/1.2 text and binary of %i bytes sent in chops (1 octet; 997 for 64 KiB) are echoed', async (length) => {
      const { peer } = await open(fixture);
      const chop = length > 1000 ? 997 : 1;
      const text = 'x'.repeat(length);
      const binary = randomBytes(length);
      await writeChopped(peer, clientFrame(TEXT, text), chop);
      await writeChopped(peer, clientFrame(BINARY, binary), chop);
      await peer.waitFor((f) => f.length === 2);
      expect(summary(peer.frames)).toEqual([frame(TEXT, text), frame(BINARY, binary)]);
    });
  });

  describe('2. pings and pongs', () => {
    it('2.1 empty ping gets an empty pong', async () => {
      const { peer } = await open(fixture);
      peer.sendFrame(PING);
      await peer.waitFor((f) => f.length === 1);
      expect(summary(peer.frames)).toEqual([frame(PONG)]);
    });

    it('2.2/2.4 ping with 125-byte text and binary payloads gets a pong with the same payload', async () => {
      const { peer } = await open(fixture);
      const text = 'p'.repeat(125);
      const binary = Buffer.from(Array.from({ length: 125 }, (_, i) => (i * 37) & 0xff));
      peer.sendFrame(PING, text);
      peer.sendFrame(PING, binary);
      await peer.waitFor((f) => f.length === 2);
      expect(summary(peer.frames)).toEqual([frame(PONG, text), frame(PONG, binary)]);
    });

    it('2.3 ping with a binary payload (all byte values) gets it back', async () => {
      const { peer } = await open(fixture);
      const payload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
      peer.sendFrame(PING, payload);
      await peer.waitFor((f) => f.length === 1);
      expect(summary(peer.frames)).toEqual([frame(PONG, payload)]);
    });

    it('2.5 ping with a 126-byte payload closes with 1002', async () => {
      await expectViolation(fixture, (peer) => peer.write(Buffer.concat([clientFrame(PING, Buffer.alloc(126, 0x70)), trailer()])), 1002, 'Illegal control frame longer than 125 bytes.');
    });

    it('2.6 ping with a 125-byte payload sent in 1-octet chops gets a pong', async () => {
      const { peer } = await open(fixture);
      const payload = Buffer.alloc(125, 0xfe);
      await writeChopped(peer, clientFrame(PING, payload), 1);
      await peer.waitFor((f) => f.length === 1);
      expect(summary(peer.frames)).toEqual([frame(PONG, payload)]);
    });

    it('2.7/2.8 unsolicited pongs (empty and with payload) are ignored', async () => {
      const { peer, side } = await open(fixture);
      peer.sendFrame(PONG);
      peer.sendFrame(PONG, 'unsolicited pong payload');
      peer.sendFrame(TEXT, 'after the pongs');
      await peer.waitFor((f) => f.length === 1);
      await delay(50);
      expect(summary(peer.frames)).toEqual([frame(TEXT, 'after the pongs')]);
      expect(side.connection.state).toBe('open');
    });

    it('2.9 an unsolicited pong followed by a ping gets one pong for the ping', async () => {
      const { peer } = await open(fixture);
      peer.sendFrame(PONG, 'unsolicited');
      peer.sendFrame(PING, 'solicited');
      await peer.waitFor((f) => f.length === 1);
      peer.sendFrame(TEXT, 'marker');
      await peer.waitFor((f) => f.length === 2);
      expect(summary(peer.frames)).toEqual([frame(PONG, 'solicited'), frame(TEXT, 'marker')]);
    });

    it('2.10/2.11 ten pings get ten pongs in order (in one write, and in 1-octet chops)', async () => {
      const { peer } = await open(fixture);
      const pings = Array.from({ length: 10 }, (_, i) => clientFrame(PING, `payload-${i}`));
      peer.write(Buffer.concat(pings));
      await peer.waitFor((f) => f.length === 10);
      await writeChopped(peer, Buffer.concat(pings), 1);
      await peer.waitFor((f) => f.length === 20);
      const expected = Array.from({ length: 10 }, (_, i) => frame(PONG, `payload-${i}`));
      expect(summary(peer.frames)).toEqual([...expected, ...expected]);
    });
  });

  describe('3. reserved bits', () => {
    const RSV_REASON = 'Unsupported usage of rsv bits without negotiated extension.';
    const cases: Array<[string, number, Buffer | string, { rsv1?: boolean; rsv2?: boolean; rsv3?: boolean }]> = [
      ['3.1 text with RSV1', TEXT, 'hello', { rsv1: true }],
      ['3.2 text with RSV2', TEXT, 'hello', { rsv2: true }],
      ['3.3 text with RSV3', TEXT, 'hello', { rsv3: true }],
      ['3.4 ping with RSV1+RSV3', PING, 'ping', { rsv1: true, rsv3: true }],
      ['3.5 binary with RSV1+RSV3', BINARY, Buffer.from([0, 1, 2]), { rsv1: true, rsv3: true }],
      ['3.6 ping with RSV2+RSV3', PING, 'ping', { rsv2: true, rsv3: true }],
      ['3.7 close with RSV1+RSV2+RSV3', CLOSE, closePayload(1000), { rsv1: true, rsv2: true, rsv3: true }],
      ['binary with RSV2', BINARY, Buffer.from([9]), { rsv2: true }],
      ['continuation with RSV1', CONT, 'x', { rsv1: true }],
    ];

    it.each(cases)('%s closes with 1002 after the valid frame before it, and nothing is echoed after', async (_name, opcode, payload, bits) => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(TEXT, 'valid first'), clientFrame(opcode, payload, bits), trailer(), clientFrame(PING, 'no pong')])),
        1002,
        RSV_REASON,
        [frame(TEXT, 'valid first')],
      );
    });
  });

  describe('4. reserved opcodes', () => {
    it.each(['3', '4', '5', '6', '7', 'b', 'c', 'd', 'e', 'f'])('opcode 0x%s closes with 1002 "Unrecognized Opcode"', async (hex) => {
      const opcode = parseInt(hex, 16);
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(TEXT, 'valid first'), clientFrame(opcode, 'reserved'), clientFrame(PING, 'no pong'), trailer()])),
        1002,
        `Unrecognized Opcode: 0x${hex}`,
        [frame(TEXT, 'valid first')],
      );
    });

    it('a reserved opcode inside a fragmented message is also unrecognized', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(TEXT, 'frag', { fin: false }), clientFrame(0x3, 'x'), trailer()])),
        1002,
        'Unrecognized Opcode: 0x3',
      );
    });
  });

  describe('5. fragmentation', () => {
    it('5.1 fragmented ping closes with 1002', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(PING, 'frag', { fin: false }), clientFrame(CONT, 'ment'), trailer()])),
        1002,
        'Control frames must not be fragmented.',
      );
    });

    it('5.2 fragmented pong closes with 1002', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(PONG, 'frag', { fin: false }), clientFrame(CONT, 'ment'), trailer()])),
        1002,
        'Control frames must not be fragmented.',
      );
    });

    it('5.3/5.4/5.5 text in 2 fragments is echoed (one write, 1-octet chops, one frame per write)', async () => {
      const { peer } = await open(fixture);
      const fragments = Buffer.concat([clientFrame(TEXT, 'fragment1', { fin: false }), clientFrame(CONT, 'fragment2')]);
      peer.write(fragments);
      await peer.waitFor((f) => f.length === 1);
      await writeChopped(peer, fragments, 1);
      await peer.waitFor((f) => f.length === 2);
      peer.sendFrame(TEXT, 'fragment1', { fin: false });
      await delay(20);
      peer.sendFrame(CONT, 'fragment2');
      await peer.waitFor((f) => f.length === 3);
      expect(summary(peer.frames)).toEqual([frame(TEXT, 'fragment1fragment2'), frame(TEXT, 'fragment1fragment2'), frame(TEXT, 'fragment1fragment2')]);
    });

    it('5.6/5.7/5.8 a ping between two text fragments is answered at once and the message is assembled', async () => {
      const { peer } = await open(fixture);
      const bytes = Buffer.concat([clientFrame(TEXT, 'fragment1', { fin: false }), clientFrame(PING, 'ping payload'), clientFrame(CONT, 'fragment2')]);
      peer.write(bytes);
      await peer.waitFor((f) => f.length === 2);
      await writeChopped(peer, bytes, 1);
      await peer.waitFor((f) => f.length === 4);
      const expected = [frame(PONG, 'ping payload'), frame(TEXT, 'fragment1fragment2')];
      expect(summary(peer.frames)).toEqual([...expected, ...expected]);
    });

    it('5.9/5.10/5.11 continuation (FIN) without a message closes with 1002', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(CONT, 'non-continuation payload'), trailer()])),
        1002,
        'Unexpected Continuation Frame',
      );
      await expectViolation(fixture, (peer) => writeChopped(peer, clientFrame(CONT, 'non-continuation payload'), 1), 1002, 'Unexpected Continuation Frame');
    });

    it('5.12/5.13/5.14 continuation (no FIN) without a message closes with 1002', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(CONT, 'non-continuation payload', { fin: false }), trailer()])),
        1002,
        'Unexpected Continuation Frame',
      );
    });

    it('5.15 a complete message, then a continuation with nothing to continue, closes with 1002 after the echo', async () => {
      await expectViolation(
        fixture,
        (peer) =>
          peer.write(
            Buffer.concat([
              clientFrame(TEXT, 'fragment1', { fin: false }),
              clientFrame(CONT, 'fragment2'),
              clientFrame(CONT, 'fragment3', { fin: false }),
              clientFrame(TEXT, 'fragment4'),
            ]),
          ),
        1002,
        'Unexpected Continuation Frame',
        [frame(TEXT, 'fragment1fragment2')],
      );
    });

    it('5.18 a text start inside a fragmented text message closes with 1002', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(TEXT, 'fragment1', { fin: false }), clientFrame(TEXT, 'fragment2'), trailer()])),
        1002,
        'Illegal frame opcode 0x1 received in middle of fragmented message.',
      );
    });

    it('a binary start inside a fragmented binary message closes with 1002', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(BINARY, Buffer.from([1]), { fin: false }), clientFrame(BINARY, Buffer.from([2])), trailer()])),
        1002,
        'Illegal frame opcode 0x2 received in middle of fragmented message.',
      );
    });

    it('5.19/5.20 text in 5 fragments with pings in between, sent with pauses: pongs come before the message', async () => {
      const { peer } = await open(fixture);
      const parts = ['fragment1', 'fragment2', 'fragment3', 'fragment4', 'fragment5'];
      peer.sendFrame(TEXT, parts[0], { fin: false });
      peer.sendFrame(CONT, parts[1], { fin: false });
      peer.sendFrame(PING, 'pongme 1!');
      await peer.waitFor((f) => f.length === 1);
      await delay(20);
      peer.sendFrame(CONT, parts[2], { fin: false });
      peer.sendFrame(CONT, parts[3], { fin: false });
      peer.sendFrame(PING, 'pongme 2!');
      await peer.waitFor((f) => f.length === 2);
      await delay(20);
      peer.sendFrame(CONT, parts[4]);
      await peer.waitFor((f) => f.length === 3);
      expect(summary(peer.frames)).toEqual([frame(PONG, 'pongme 1!'), frame(PONG, 'pongme 2!'), frame(TEXT, parts.join(''))]);
    });

    it('a text message in 1-byte fragments (multi-byte characters split across fragments) is echoed', async () => {
      const { peer } = await open(fixture);
      const text = 'Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞';
      const bytes = Buffer.from(text);
      const frames = [...bytes].map((byte, i) => clientFrame(i === 0 ? TEXT : CONT, Buffer.from([byte]), { fin: i === bytes.length - 1 }));
      peer.write(Buffer.concat(frames));
      await peer.waitFor((f) => f.length === 1);
      expect(summary(peer.frames)).toEqual([frame(TEXT, text)]);
    });

    it('a binary message in 1-byte fragments, the first and a middle one empty, is echoed', async () => {
      const { peer } = await open(fixture);
      const bytes = Buffer.from([0, 1, 2, 3, 4, 255]);
      const frames = [clientFrame(BINARY, Buffer.alloc(0), { fin: false })];
      bytes.forEach((byte, i) => {
        frames.push(clientFrame(CONT, Buffer.from([byte]), { fin: false }));
        if (i === 2) frames.push(clientFrame(CONT, Buffer.alloc(0), { fin: false }));
      });
      frames.push(clientFrame(CONT, Buffer.alloc(0)));
      peer.write(Buffer.concat(frames));
      await peer.waitFor((f) => f.length === 1);
      expect(summary(peer.frames)).toEqual([frame(BINARY, bytes)]);
    });
  });

  describe('6. UTF-8 handling', () => {
    const valid = [
      ['6.1 empty', ''],
      ['6.2 Hello-µ@ßöäüàá-UTF-8!!', 'Hello-µ@ßöäüàá-UTF-8!!'],
      ['6.5 κόσμε', 'κόσμε'],
      ['6.7 first of each length', '\u0000 \u0080 \u0800 \u{10000}'],
      ['6.8 last of each length', '\u007f \u07ff \uffff \u{10ffff}'],
      ['6.9 other boundaries', '\ud7ff \ue000 \ufffd \u{10fffd}'],
      ['6.x noncharacters are valid UTF-8', '\ufffe \uffff \u{1fffe} \u{10ffff}'],
    ];

    it.each(valid)('%s is echoed', async (_name, text) => {
      const { peer } = await open(fixture);
      await expectEcho(peer, TEXT, text);
    });

    it('6.2.2-6.2.4 valid text split into 2 fragments at every byte boundary is echoed', async () => {
      const { peer } = await open(fixture);
      const text = 'Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞';
      const bytes = Buffer.from(text);
      for (let cut = 0; cut <= bytes.length; cut++) {
        peer.write(Buffer.concat([clientFrame(TEXT, bytes.subarray(0, cut), { fin: false }), clientFrame(CONT, bytes.subarray(cut))]));
      }
      await peer.waitFor((f) => f.length === bytes.length + 1);
      expect(summary(peer.frames)).toEqual(Array.from({ length: bytes.length + 1 }, () => frame(TEXT, text)));
    });

    const invalid: Array<[string, number[]]> = [
      ['6.3.1 κόσμε + surrogate U+D800 + edited', [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]],
      ['6.6 truncated κόσμε (ends with a lead byte)', [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce]],
      ['6.8.1 5-byte sequence', [0xf8, 0x88, 0x80, 0x80, 0x80]],
      ['6.8.2 6-byte sequence', [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80]],
      ['6.3/6.4 above U+10FFFF (f4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
      ['6.10 first continuation byte', [0x80]],
      ['6.10 last continuation byte', [0xbf]],
      ['6.11 lone lead bytes followed by spaces', [0xc0, 0x20, 0xc1, 0x20]],
      ['6.12 sequence missing its last byte', [0xe0, 0x80]],
      ['6.14 impossible bytes fe', [0xfe]],
      ['6.14 impossible bytes ff', [0xff]],
      ['6.16 overlong slash (2 bytes)', [0xc0, 0xaf]],
      ['6.16 overlong slash (3 bytes)', [0xe0, 0x80, 0xaf]],
      ['6.16 overlong slash (4 bytes)', [0xf0, 0x80, 0x80, 0xaf]],
      ['6.17 overlong NUL', [0xc0, 0x80]],
      ['6.18 single surrogate U+DFFF', [0xed, 0xbf, 0xbf]],
      ['6.19 surrogate pair U+D800 U+DC00', [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80]],
    ];

    it.each(invalid)('%s closes with 1007', async (_name, bytes) => {
      await expectViolation(fixture, (peer) => peer.write(Buffer.concat([clientFrame(TEXT, Buffer.from(bytes)), trailer()])), 1007, 'Invalid UTF-8 Data Received');
    });

    it('invalid UTF-8 in the last fragment of a fragmented message closes with 1007', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(TEXT, 'valid ', { fin: false }), clientFrame(CONT, Buffer.from([0xce])), trailer()])),
        1007,
        'Invalid UTF-8 Data Received',
      );
    });

    it('6.4.1 fail fast: the 1007 arrives after the fragment with f4 90 80 80, before the next fragment is sent', async () => {
      let sentFinal = false;
      await expectViolation(
        fixture,
        async (peer) => {
          const side = (await fixture.sideOf(peer.socket.localPort)) as ServerSide;
          peer.sendFrame(TEXT, 'κόσμε', { fin: false });
          await delay(50);
          expect(peer.frames).toEqual([]);
          expect(side.closeEvent).toBeNull();
          peer.sendFrame(CONT, Buffer.from([0xf4, 0x90, 0x80, 0x80]), { fin: false });
          const close = await peer.waitForClose();
          expect(sentFinal).toBe(false);
          expect(close.code).toBe(1007);
          expect(side.closeEvent).toEqual({ code: 1007, description: 'Invalid UTF-8 Data Received' });
          sentFinal = true;
          peer.sendFrame(CONT, 'edited');
        },
        1007,
        'Invalid UTF-8 Data Received',
      );
      expect(sentFinal).toBe(true);
    });

    it('6.4.1 fail fast in the first fragment: f4 90 80 80 inside fragment 1 closes before fragment 2', async () => {
      await expectViolation(
        fixture,
        async (peer) => {
          peer.sendFrame(TEXT, Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from('edited')]), { fin: false });
          const close = await peer.waitForClose();
          expect(close.code).toBe(1007);
          peer.sendFrame(CONT, 'the rest');
        },
        1007,
        'Invalid UTF-8 Data Received',
      );
    });

    it('6.4.2 fail fast across fragments: fragment 1 ends with f4 (a valid prefix), fragment 2 starts with 90', async () => {
      await expectViolation(
        fixture,
        async (peer) => {
          const side = (await fixture.sideOf(peer.socket.localPort)) as ServerSide;
          peer.sendFrame(TEXT, Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xf4])]), { fin: false });
          await delay(50);
          expect(peer.frames).toEqual([]);
          expect(side.closeEvent).toBeNull();
          peer.sendFrame(CONT, Buffer.from([0x90]), { fin: false });
          const close = await peer.waitForClose();
          expect(close.code).toBe(1007);
          expect(side.closeEvent).toEqual({ code: 1007, description: 'Invalid UTF-8 Data Received' });
          peer.sendFrame(CONT, Buffer.concat([Buffer.from([0x80, 0x80]), Buffer.from('edited')]));
        },
        1007,
        'Invalid UTF-8 Data Received',
      );
    });

    it('6.4.2 variant: a 3-byte surrogate prefix (ed a0) split as ed | a0 fails at the second fragment', async () => {
      await expectViolation(
        fixture,
        async (peer) => {
          peer.sendFrame(TEXT, Buffer.from([0x61, 0xed]), { fin: false });
          await delay(50);
          expect(peer.frames).toEqual([]);
          peer.sendFrame(CONT, Buffer.from([0xa0]), { fin: false });
          expect((await peer.waitForClose()).code).toBe(1007);
          peer.sendFrame(CONT, Buffer.from([0x80]));
        },
        1007,
        'Invalid UTF-8 Data Received',
      );
    });

    it('6.4.3/6.4.4 (one frame in TCP chops): the 1007 comes before the rest of the frame is sent', async () => {
      // Text is checked as it streams in, so the bad bytes fail the connection mid-frame.
      await expectViolation(
        fixture,
        async (peer) => {
          const side = (await fixture.sideOf(peer.socket.localPort)) as ServerSide;
          const bytes = clientFrame(TEXT, Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from('edited')]));
          // Header (2 + 4 mask bytes) and 'κόσμε' (10 bytes) plus the f4: a valid prefix so far.
          peer.write(bytes.subarray(0, 6 + 11));
          await delay(50);
          expect(peer.frames).toEqual([]);
          expect(side.closeEvent).toBeNull();
          // 0x90 after 0xf4 cannot be UTF-8: the close must come now, with 8 bytes still unsent.
          peer.write(bytes.subarray(17, 18));
          expect((await peer.waitForClose()).code).toBe(1007);
          expect(side.closeEvent).toEqual({ code: 1007, description: 'Invalid UTF-8 Data Received' });
          peer.write(bytes.subarray(18));
        },
        1007,
        'Invalid UTF-8 Data Received',
      );
    });

    it('6.4.4 variant: the same in 1-byte chops still closes with 1007', async () => {
      await expectViolation(
        fixture,
        async (peer) => {
          const bytes = clientFrame(TEXT, Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from('edited')]));
          await writeChopped(peer, bytes, 1);
        },
        1007,
        'Invalid UTF-8 Data Received',
      );
    });

    it('valid text sent in 1-byte chops (multi-byte characters cut everywhere) is echoed intact', async () => {
      const { peer } = await open(fixture);
      const text = 'κόσμε 😀 €uro ✓'.repeat(20);
      await writeChopped(peer, clientFrame(TEXT, text), 1);
      await peer.waitFor((f) => f.length > 0);
      expect(summary(peer.frames)).toEqual([frame(TEXT, text)]);
      peer.destroy();
    });
  });

  describe('7. close handling', () => {
    it('7.1.1 text then close(1000): the text is echoed, then the close', async () => {
      const { peer, side } = await open(fixture);
      peer.write(Buffer.concat([clientFrame(TEXT, 'Hello World!'), clientFrame(CLOSE, closePayload(1000))]));
      await peer.closed;
      expect(summary(peer.frames)).toEqual([frame(TEXT, 'Hello World!'), closeFrame(1000)]);
      expect(await side.closed).toEqual({ code: 1000, description: 'Normal connection closure' });
    });

    it('7.1.2 close twice: one close back', async () => {
      const { peer } = await open(fixture);
      peer.write(Buffer.concat([clientFrame(CLOSE, closePayload(1000)), clientFrame(CLOSE, closePayload(1000))]));
      await peer.closed;
      expect(summary(peer.frames)).toEqual([closeFrame(1000)]);
    });

    it('7.1.3 ping after close gets no pong', async () => {
      const { peer } = await open(fixture);
      peer.write(Buffer.concat([clientFrame(CLOSE, closePayload(1000)), clientFrame(PING, 'too late')]));
      await peer.closed;
      expect(summary(peer.frames)).toEqual([closeFrame(1000)]);
    });

    it('7.1.4 text after close is not echoed', async () => {
      const { peer } = await open(fixture);
      peer.write(Buffer.concat([clientFrame(CLOSE, closePayload(1000)), clientFrame(TEXT, 'too late')]));
      await peer.closed;
      expect(summary(peer.frames)).toEqual([closeFrame(1000)]);
    });

    it('7.1.5 a fragmented message interrupted by close is not echoed', async () => {
      const { peer } = await open(fixture);
      peer.write(Buffer.concat([clientFrame(TEXT, 'fragment1', { fin: false }), clientFrame(CLOSE, closePayload(1000)), clientFrame(CONT, 'fragment2')]));
      await peer.closed;
      expect(summary(peer.frames)).toEqual([closeFrame(1000)]);
    });

    it('7.1.6 a large message before the close is echoed whole, then the close', async () => {
      const { peer } = await open(fixture);
      const big = Buffer.alloc(256 * 1024, 0x42);
      peer.write(Buffer.concat([clientFrame(BINARY, big), clientFrame(CLOSE, closePayload(1000))]));
      await peer.closed;
      expect(peer.frames.map((f) => [f.opcode, f.payload.length])).toEqual([
        [BINARY, big.length],
        [CLOSE, 2],
      ]);
      expect(peer.frames[0].payload.equals(big)).toBe(true);
    });

    it('7.3.1 an empty close gets 1000 back; the server reports 1005', async () => {
      const { peer, side } = await open(fixture);
      peer.sendFrame(CLOSE);
      await peer.closed;
      expect(summary(peer.frames)).toEqual([closeFrame(1000)]);
      expect(await side.closed).toEqual({ code: 1005, description: 'Reason not provided' });
    });

    it('7.3.2 a 1-byte close payload closes with 1002', async () => {
      await expectViolation(fixture, (peer) => peer.sendFrame(CLOSE, Buffer.from([0x03])), 1002, 'Close frame payload must be empty or at least 2 bytes.');
    });

    it('7.3.3/7.3.4 close 1000 with and without a reason: code echoed, reason reported locally', async () => {
      const first = await open(fixture);
      first.peer.sendClose(1000);
      await first.peer.closed;
      expect(summary(first.peer.frames)).toEqual([closeFrame(1000)]);
      expect(await first.side.closed).toEqual({ code: 1000, description: 'Normal connection closure' });

      const second = await open(fixture);
      second.peer.sendClose(1000, 'Hello World!');
      await second.peer.closed;
      expect(summary(second.peer.frames)).toEqual([closeFrame(1000)]);
      expect(await second.side.closed).toEqual({ code: 1000, description: 'Hello World!' });
    });

    it('7.3.5 a close reason of 123 bytes is accepted', async () => {
      const { peer, side } = await open(fixture);
      const reason = 'é'.repeat(61) + 'x'; // 123 bytes
      expect(Buffer.byteLength(reason)).toBe(123);
      peer.sendClose(1000, reason);
      await peer.closed;
      expect(summary(peer.frames)).toEqual([closeFrame(1000)]);
      expect(await side.closed).toEqual({ code: 1000, description: reason });
    });

    it('7.3.6 a close reason of 124 bytes (payload 126) closes with 1002', async () => {
      await expectViolation(fixture, (peer) => peer.sendClose(1000, 'y'.repeat(124)), 1002, 'Illegal control frame longer than 125 bytes.');
    });

    it('7.5.1 a close reason that is not valid UTF-8 closes with 1007', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.sendFrame(CLOSE, closePayload(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64]))),
        1007,
        'Invalid UTF-8 Data Received',
      );
    });

    it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])('7.7 valid close code %i is echoed and reported', async (code) => {
      const { peer, side } = await open(fixture);
      peer.sendClose(code, 'reason');
      await peer.closed;
      expect(summary(peer.frames)).toEqual([closeFrame(code)]);
      expect(await side.closed).toEqual({ code, description: 'reason' });
    });

    it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])('7.9 invalid close code %i closes with 1002', async (code) => {
      await expectViolation(fixture, (peer) => peer.sendClose(code, 'bad'), 1002, `Invalid close code ${code} received.`);
    });
  });

  describe('masking', () => {
    it('an unmasked client frame closes with 1002', async () => {
      await expectViolation(
        fixture,
        (peer) => peer.write(Buffer.concat([clientFrame(TEXT, 'masked ok'), clientFrame(TEXT, 'unmasked', { maskKey: null }), trailer()])),
        1002,
        'Received an unmasked frame from the client.',
        [frame(TEXT, 'masked ok')],
      );
    });

    it('an unmasked control frame closes with 1002', async () => {
      await expectViolation(fixture, (peer) => peer.sendFrame(PING, 'unmasked', { maskKey: null }), 1002, 'Received an unmasked frame from the client.');
    });
  });

  describe('9. limits and large messages', () => {
    it.each([64 * 1024, 256 * 1024, MiB, 4 * MiB, 16 * MiB])('9.1/9.2 text and binary messages of %i bytes are echoed intact', async (size) => {
      const { peer } = await open(fixture);
      const text = 'BAsd7&jh23'.repeat(Math.ceil(size / 10)).slice(0, size);
      await expectEcho(peer, TEXT, text);
      await expectEcho(peer, BINARY, randomBytes(size));
    }, 30000);

    it.each([64, 256, 1024, 4096, 16384, 65536])('9.3/9.4 a 1 MiB message in fragments of %i bytes is echoed intact', async (fragmentSize) => {
      const { peer } = await open(fixture);
      const payload = randomBytes(MiB);
      const frames: Buffer[] = [];
      for (let offset = 0; offset < payload.length; offset += fragmentSize) {
        const end = Math.min(offset + fragmentSize, payload.length);
        frames.push(clientFrame(offset === 0 ? BINARY : CONT, payload.subarray(offset, end), { fin: end === payload.length }));
      }
      peer.write(Buffer.concat(frames));
      await peer.waitFor((f) => f.length === 1, 15000);
      expect(peer.frames[0].opcode).toBe(BINARY);
      expect(peer.frames[0].fin).toBe(true);
      expect(peer.frames[0].payload.equals(payload)).toBe(true);
    }, 30000);

    describe('with maxReceivedFrameSize 1000 and maxReceivedMessageSize 2000', () => {
      let limited: Fixture;
      beforeAll(async () => {
        limited = await startEchoServer({ maxReceivedFrameSize: 1000, maxReceivedMessageSize: 2000 });
      });
      afterAll(async () => {
        await stopEchoServer(limited);
      });

      it('a frame of exactly maxReceivedFrameSize is accepted', async () => {
        const { peer } = await open(limited);
        await expectEcho(peer, BINARY, Buffer.alloc(1000, 1));
      });

      it('a frame over maxReceivedFrameSize closes with 1009', async () => {
        await expectViolation(limited, (peer) => peer.write(Buffer.concat([clientFrame(BINARY, Buffer.alloc(1001, 1)), trailer()])), 1009, 'Frame size of 1001 bytes exceeds maximum accepted frame size');
      });

      it('a 64-bit-length frame over the limit closes with 1009 before its payload arrives', async () => {
        await expectViolation(
          limited,
          (peer) => {
            const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]); // 65536 bytes announced
            peer.write(header);
          },
          1009,
          'Frame size of 65536 bytes exceeds maximum accepted frame size',
        );
      });

      it('a 64-bit length with a non-zero high word closes with 1002', async () => {
        await expectViolation(
          limited,
          (peer) => peer.write(Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4])),
          1002,
          'Unsupported 64-bit length frame received',
        );
      });

      it('fragments summing to exactly maxReceivedMessageSize are accepted', async () => {
        const { peer } = await open(limited);
        const payload = randomBytes(2000);
        peer.write(Buffer.concat([clientFrame(BINARY, payload.subarray(0, 1000), { fin: false }), clientFrame(CONT, payload.subarray(1000))]));
        await peer.waitFor((f) => f.length === 1);
        expect(summary(peer.frames)).toEqual([frame(BINARY, payload)]);
      });

      it('fragments summing past maxReceivedMessageSize close with 1009 at the fragment that crosses it', async () => {
        await expectViolation(
          limited,
          async (peer) => {
            peer.write(Buffer.concat([clientFrame(TEXT, 'a'.repeat(1000), { fin: false }), clientFrame(CONT, 'b'.repeat(1000), { fin: false })]));
            await delay(50);
            expect(peer.frames).toEqual([]);
            peer.sendFrame(CONT, 'c', { fin: false });
            expect((await peer.waitForClose()).code).toBe(1009);
            peer.sendFrame(CONT, 'd');
          },
          1009,
          'Maximum message size exceeded.',
        );
      });
    });
  });

  describe('10. auto-fragmentation', () => {
    it('10.1.1 a 64 KiB text message in 1300-octet fragments is reassembled and echoed', async () => {
      const { peer } = await open(fixture);
      const text = '*'.repeat(65536);
      const frames: Buffer[] = [];
      for (let offset = 0; offset < text.length; offset += 1300) {
        const end = Math.min(offset + 1300, text.length);
        frames.push(clientFrame(offset === 0 ? TEXT : CONT, text.slice(offset, end), { fin: end === text.length }));
      }
      expect(frames).toHaveLength(51);
      peer.write(Buffer.concat(frames));
      await peer.waitFor((f) => f.length === 1);
      expect(summary(peer.frames)).toEqual([frame(TEXT, text)]);
    });

    it('the server auto-fragments its echo at fragmentationThreshold (1300): 51 frames, FIN only on the last', async () => {
      const fragmenting = await startEchoServer({ fragmentOutgoingMessages: true, fragmentationThreshold: 1300, maxReceivedFrameSize: 0x20000 });
      try {
        const { peer } = await open(fragmenting);
        const text = 'abcdefghijklmnop'.repeat(4096); // 65536 bytes
        peer.sendFrame(TEXT, text);
        await peer.waitFor((f) => f.length === 51);
        expect(peer.frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual(
          Array.from({ length: 51 }, (_, i) => [i === 0 ? TEXT : CONT, i === 50, i === 50 ? 65536 - 50 * 1300 : 1300]),
        );
        expect(Buffer.concat(peer.frames.map((f) => f.payload)).toString()).toBe(text);
      } finally {
        await stopEchoServer(fragmenting);
      }
    });
  });
});
