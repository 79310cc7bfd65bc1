/**
 * Client-side conformance: what Autobahn's fuzzing server checks of a client in categories 1–7,
 * 9 and 10, replayed by a raw "evil" server. As with Autobahn, the client under test echoes every
 * message; each case checks the echo, the pongs, and the close frame (code) the client sends back.
 */
import { WebSocketClient } from '../../src/client';
import type { WebSocketConnection } from '../../src/connection';
import { EvilServer, buildFrame, closePayload, type EvilPeer, type FrameSpec } from '../helpers/evil-server';
import { Cleanup } from '../helpers/interop-peers';

const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;
const LIMIT = 32 * 1024 * 1024;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Case {
  peer: EvilPeer;
  connection: WebSocketConnection;
  /** The client's `close` event. */
  closed: Promise<{ code: number; description: string }>;
}

/** Connect an echoing client (Autobahn's testee behaviour) to a fresh evil server. */
async function startCase(config: Record<string, unknown> = {}): Promise<Case> {
  const server = cleanup.add(await EvilServer.start(), (s) => s.close());
  const client = new WebSocketClient({ maxReceivedFrameSize: LIMIT, maxReceivedMessageSize: LIMIT, closeTimeout: 1000, ...config });
  const connection = await new Promise<WebSocketConnection>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('connectFailed', reject);
    client.connect(server.url());
  });
  cleanup.add(connection, (c) => c.drop(1001, '', true));
  connection.on('message', (message) => (message.type === 'utf8' ? connection.sendUTF(message.utf8Data) : connection.sendBytes(message.binaryData)));
  const closed = new Promise<{ code: number; description: string }>((resolve) => connection.on('close', (code, description) => resolve({ code, description })));
  return { peer: await server.nextPeer(), connection, closed };
}

/** The peer's next frames must end with the client failing the connection with `code`; nothing follows the close. */
async function expectFailure(c: Case, code: number, description?: string): Promise<void> {
  const sent = await c.peer.waitForClose();
  expect(sent.code).toBe(code);
  const closeIndex = c.peer.frames.findIndex((f) => f.opcode === CLOSE);
  c.peer.destroy();
  const local = await c.closed;
  expect(local.code).toBe(code);
  if (description !== undefined) expect(local.description).toBe(description);
  expect(c.peer.frames.length).toBe(closeIndex + 1);
}

/** Close normally from the server side and check the client answers with `code` (and echoes nothing more). */
async function expectCleanClose(c: Case, code = 1000): Promise<void> {
  c.peer.send({ opcode: CLOSE, payload: closePayload(1000) });
  expect((await c.peer.waitForClose()).code).toBe(code);
  c.peer.destroy();
  await c.closed;
}

async function expectEcho(c: Case, opcode: number, payload: Buffer | string, index = 0): Promise<void> {
  const messages = await c.peer.waitForMessages(index + 1, 30000);
  expect(messages[index].opcode).toBe(opcode);
  const expected = typeof payload === 'string' ? Buffer.from(payload) : payload;
  expect(messages[index].payload.length).toBe(expected.length);
  expect(messages[index].payload.equals(expected)).toBe(true);
}

function pongs(peer: EvilPeer): string[] {
  return peer.frames.filter((f) => f.opcode === PONG).map((f) => f.payload.toString('hex'));
}

const tick = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('1 framing', () => {
  it.each([0, 125, 126, 127, 128, 65535, 65536])('1.1 text message of %i bytes is echoed', async (length) => {
    const c = await startCase();
    const payload = '*'.repeat(length);
    c.peer.send({ opcode: TEXT, payload });
    await expectEcho(c, TEXT, payload);
    await expectCleanClose(c);
  });

  it.each([0, 125, 126, 127, 128, 65535, 65536])('1.2 binary message of %i bytes is echoed', async (length) => {
    const c = await startCase();
    const payload = Buffer.alloc(length, 0xfe);
    c.peer.send({ opcode: BINARY, payload });
    await expectEcho(c, BINARY, payload);
    await expectCleanClose(c);
  });

  it('1.1.8 / 1.2.8 a 65536-byte message arriving in 997-byte chops is echoed', async () => {
    const c = await startCase();
    await c.peer.sendChopped(buildFrame({ opcode: TEXT, payload: '*'.repeat(65536) }), 997);
    await c.peer.sendChopped(buildFrame({ opcode: BINARY, payload: Buffer.alloc(65536, 0xfe) }), 997);
    await expectEcho(c, TEXT, '*'.repeat(65536));
    await expectEcho(c, BINARY, Buffer.alloc(65536, 0xfe), 1);
    await expectCleanClose(c);
  });

  it('every frame the client sends is masked', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'a' }, { opcode: PING, payload: 'b' });
    await c.peer.waitFor((f) => f.length >= 2);
    await expectCleanClose(c);
    expect(c.peer.frames.every((f) => f.masked)).toBe(true);
  });

  it('a masked frame from the server fails the connection with 1002', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'masked', mask: true });
    await expectFailure(c, 1002, 'Received a masked frame from the server.');
    expect(c.peer.messages).toHaveLength(0);
  });
});

describe('2 pings and pongs', () => {
  it.each([
    ['2.1 no payload', Buffer.alloc(0)],
    ['2.2 text payload', Buffer.from('Hello, world!')],
    ['2.3 binary payload', Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])],
    ['2.4 125-byte payload', Buffer.alloc(125, 0xfe)],
  ])('%s: answered by a pong with the same payload', async (_name, payload) => {
    const c = await startCase();
    c.peer.send({ opcode: PING, payload });
    await c.peer.waitFor(() => pongs(c.peer).length === 1, 'a pong');
    expect(pongs(c.peer)).toEqual([payload.toString('hex')]);
    await expectCleanClose(c);
  });

  it('2.5 a 126-byte ping fails the connection with 1002 and gets no pong', async () => {
    const c = await startCase();
    c.peer.send({ opcode: PING, payload: Buffer.alloc(126, 0xfe) });
    await expectFailure(c, 1002, 'Illegal control frame longer than 125 bytes.');
    expect(pongs(c.peer)).toEqual([]);
  });

  it('2.6 a 125-byte ping written one byte at a time is answered', async () => {
    const c = await startCase();
    await c.peer.sendChopped(buildFrame({ opcode: PING, payload: Buffer.alloc(125, 0xfe) }), 1);
    await c.peer.waitFor(() => pongs(c.peer).length === 1, 'a pong');
    expect(pongs(c.peer)).toEqual([Buffer.alloc(125, 0xfe).toString('hex')]);
    await expectCleanClose(c);
  });

  it('2.7 / 2.8 unsolicited pongs are ignored', async () => {
    const c = await startCase();
    c.peer.send({ opcode: PONG }, { opcode: PONG, payload: 'unsolicited pong payload' }, { opcode: TEXT, payload: 'marker' });
    await expectEcho(c, TEXT, 'marker');
    await expectCleanClose(c);
    expect(c.peer.frames.map((f) => f.opcode)).toEqual([TEXT, CLOSE]);
  });

  it('2.9 an unsolicited pong then a ping: only the ping is answered', async () => {
    const c = await startCase();
    c.peer.send({ opcode: PONG, payload: 'unsolicited' }, { opcode: PING, payload: 'ping payload' });
    await c.peer.waitFor(() => pongs(c.peer).length === 1, 'a pong');
    expect(pongs(c.peer)).toEqual([Buffer.from('ping payload').toString('hex')]);
    await expectCleanClose(c);
  });

  it('2.10 / 2.11 ten pings, at once or one byte at a time, get ten pongs in order', async () => {
    const c = await startCase();
    const specs = Array.from({ length: 10 }, (_, i) => ({ opcode: PING, payload: `payload-${i}` }));
    c.peer.send(...specs);
    await c.peer.sendChopped(Buffer.concat(specs.map((s) => buildFrame({ ...s, payload: `chopped-${s.payload}` }))), 1);
    await c.peer.waitFor(() => pongs(c.peer).length === 20, '20 pongs');
    expect(pongs(c.peer).map((hex) => Buffer.from(hex, 'hex').toString())).toEqual([
      ...specs.map((s) => s.payload),
      ...specs.map((s) => `chopped-${s.payload}`),
    ]);
    await expectCleanClose(c);
  });
});

describe('3 reserved bits', () => {
  const rsv = (bits: number): Pick<FrameSpec, 'rsv1' | 'rsv2' | 'rsv3'> => ({ rsv1: (bits & 4) !== 0, rsv2: (bits & 2) !== 0, rsv3: (bits & 1) !== 0 });

  it.each([
    ['3.1 text, RSV = 1', TEXT, 1],
    ['3.4 text, RSV = 4', TEXT, 4],
    ['3.5 binary, RSV = 5', BINARY, 5],
    ['3.6 ping, RSV = 6', PING, 6],
    ['3.7 close, RSV = 7', CLOSE, 7],
  ])('%s fails the connection with 1002', async (_name, opcode, bits) => {
    const c = await startCase();
    c.peer.send({ opcode, payload: opcode === CLOSE ? closePayload(1000) : 'Hello', ...rsv(bits) });
    await expectFailure(c, 1002);
    expect(c.peer.messages).toHaveLength(0);
    expect(pongs(c.peer)).toEqual([]);
  });

  it('3.2 / 3.3 a valid text, a text with RSV = 2, then a ping: first echoed, then 1002, no pong', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'Hello' });
    await expectEcho(c, TEXT, 'Hello');
    c.peer.send({ opcode: TEXT, payload: 'Hello', ...rsv(2) }, { opcode: PING, payload: 'p' });
    await expectFailure(c, 1002, 'Unsupported usage of rsv bits without negotiated extension.');
    expect(pongs(c.peer)).toEqual([]);
  });
});

describe('4 opcodes', () => {
  it.each([
    ['4.1.1', 3],
    ['4.1.2', 4],
    ['4.1.3', 5],
    ['4.1.4', 6],
    ['4.1.5', 7],
    ['4.2.1', 0xb],
    ['4.2.2', 0xc],
    ['4.2.3', 0xd],
    ['4.2.4', 0xe],
    ['4.2.5', 0xf],
  ])('%s reserved opcode %i after a valid text: echo, then 1002, nothing after', async (_name, opcode) => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'Hello' }, { opcode, payload: 'reserved' }, { opcode: PING, payload: 'p' });
    await expectFailure(c, 1002, `Unrecognized Opcode: 0x${opcode.toString(16)}`);
    expect(c.peer.messages.map((m) => m.payload.toString())).toEqual(['Hello']);
    expect(pongs(c.peer)).toEqual([]);
  });
});

describe('5 fragmentation', () => {
  it.each([
    ['5.1 ping', PING],
    ['5.2 pong', PONG],
  ])('%s in two fragments fails the connection with 1002', async (_name, opcode) => {
    const c = await startCase();
    c.peer.send({ opcode, payload: 'frag1', fin: false }, { opcode: CONTINUATION, payload: 'frag2' });
    await expectFailure(c, 1002, 'Control frames must not be fragmented.');
  });

  it('5.3 / 5.4 / 5.5 a text message in two fragments (at once, with a delay, one byte at a time) is echoed whole', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'fragment1', fin: false }, { opcode: CONTINUATION, payload: 'fragment2' });
    await expectEcho(c, TEXT, 'fragment1fragment2');
    c.peer.send({ opcode: TEXT, payload: 'delayed1', fin: false });
    await tick();
    c.peer.send({ opcode: CONTINUATION, payload: 'delayed2' });
    await expectEcho(c, TEXT, 'delayed1delayed2', 1);
    await c.peer.sendChopped(Buffer.concat([buildFrame({ opcode: TEXT, payload: 'bytewise1', fin: false }), buildFrame({ opcode: CONTINUATION, payload: 'bytewise2' })]), 1);
    await expectEcho(c, TEXT, 'bytewise1bytewise2', 2);
    await expectCleanClose(c);
  });

  it('5.6 / 5.7 / 5.8 a ping between fragments is answered and the message echoed', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'fragment1', fin: false }, { opcode: PING, payload: 'ping payload' }, { opcode: CONTINUATION, payload: 'fragment2' });
    await expectEcho(c, TEXT, 'fragment1fragment2');
    expect(pongs(c.peer)).toEqual([Buffer.from('ping payload').toString('hex')]);
    expect(c.peer.frames.map((f) => f.opcode)).toEqual([PONG, TEXT]);
    await expectCleanClose(c);
  });

  it.each([
    ['5.9 / 5.10 / 5.11 continuation with FIN, nothing to continue', true],
    ['5.12 / 5.13 / 5.14 continuation without FIN, nothing to continue', false],
  ])('%s: 1002', async (_name, fin) => {
    const c = await startCase();
    c.peer.send({ opcode: CONTINUATION, payload: 'non-continuation payload', fin }, { opcode: TEXT, payload: 'Hello, world!' });
    await expectFailure(c, 1002, 'Unexpected Continuation Frame');
    expect(c.peer.messages).toHaveLength(0);
  });

  it('5.15 a complete fragmented message, then a stray continuation: echo, then 1002', async () => {
    const c = await startCase();
    c.peer.send(
      { opcode: TEXT, payload: 'fragment1', fin: false },
      { opcode: CONTINUATION, payload: 'fragment2' },
      { opcode: CONTINUATION, payload: 'fragment3', fin: false },
      { opcode: TEXT, payload: 'fragment4' },
    );
    await expectFailure(c, 1002, 'Unexpected Continuation Frame');
    expect(c.peer.messages.map((m) => m.payload.toString())).toEqual(['fragment1fragment2']);
  });

  it('5.16 / 5.17 continuation frames first, repeated: 1002', async () => {
    const c = await startCase();
    c.peer.send({ opcode: CONTINUATION, payload: 'fragment1', fin: false }, { opcode: TEXT, payload: 'fragment2', fin: false }, { opcode: CONTINUATION, payload: 'fragment3' });
    await expectFailure(c, 1002);
    expect(c.peer.messages).toHaveLength(0);
  });

  it('5.18 a text message whose fragments are both text frames: 1002', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'fragment1', fin: false }, { opcode: TEXT, payload: 'fragment2' });
    await expectFailure(c, 1002, 'Illegal frame opcode 0x1 received in middle of fragmented message.');
    expect(c.peer.messages).toHaveLength(0);
  });

  it('5.19 / 5.20 a five-fragment message with pings between delayed fragments: all pongs, then the echo', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'fragment1', fin: false }, { opcode: CONTINUATION, payload: 'fragment2', fin: false }, { opcode: PING, payload: 'pongme 1!' });
    await tick();
    c.peer.send({ opcode: CONTINUATION, payload: 'fragment3', fin: false }, { opcode: PING, payload: 'pongme 2!' });
    await tick();
    c.peer.send({ opcode: CONTINUATION, payload: 'fragment4', fin: false }, { opcode: CONTINUATION, payload: 'fragment5' });
    await expectEcho(c, TEXT, 'fragment1fragment2fragment3fragment4fragment5');
    expect(pongs(c.peer).map((hex) => Buffer.from(hex, 'hex').toString())).toEqual(['pongme 1!', 'pongme 2!']);
    await expectCleanClose(c);
  });
});

/** Autobahn section 6 vectors: valid UTF-8 is echoed, invalid UTF-8 fails the connection with 1007. */
const VALID_UTF8: Array<[string, string]> = [
  ['6.2 Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!').toString('hex')],
  ['6.5.1 κόσμε', 'cebae1bdb9cf83cebcceb5'],
  ['6.7.1 first 1-byte sequence U+0000', '00'],
  ['6.7.2 first 2-byte sequence U+0080', 'c280'],
  ['6.7.3 first 3-byte sequence U+0800', 'e0a080'],
  ['6.7.4 first 4-byte sequence U+10000', 'f0908080'],
  ['6.9.1 last 1-byte sequence U+007F', '7f'],
  ['6.9.2 last 2-byte sequence U+07FF', 'dfbf'],
  ['6.9.3 last 3-byte sequence U+FFFF', 'efbfbf'],
  ['6.9.4 last 4-byte sequence U+10FFFF', 'f48fbfbf'],
  ['6.11.1 U+D7FF', 'ed9fbf'],
  ['6.11.2 U+E000', 'ee8080'],
  ['6.11.3 U+FFFD', 'efbfbd'],
  ['6.22.1 noncharacter U+FFFE', 'efbfbe'],
  ['6.22.3 noncharacter U+1FFFE', 'f09fbfbe'],
  ['6.22.33 noncharacter U+FDD0', 'efb790'],
];

const INVALID_UTF8: Array<[string, string]> = [
  ['6.3.1 κόσμε followed by a surrogate', 'cebae1bdb9cf83cebcceb5eda080656469746564'],
  ['6.6.1 truncated 2-byte sequence', 'ce'],
  ['6.6.3 κ then a truncated 3-byte sequence', 'cebae1'],
  ['6.6.4 κ then a truncated 3-byte sequence (2 bytes)', 'cebae1bd'],
  ['6.8.1 5-byte sequence', 'f888808080'],
  ['6.8.2 6-byte sequence', 'fc8480808080'],
  ['6.10.2 first impossible U+110000', 'f4908080'],
  ['6.10.3 4-byte sequence above U+10FFFF', 'f7bfbfbf'],
  ['6.12.1 lone continuation 0x80', '80'],
  ['6.12.2 lone continuation 0xbf', 'bf'],
  ['6.12.3 two continuation bytes', '80bf'],
  ['6.12.4 three continuation bytes', '80bf80'],
  ['6.13.1 lonely 2-byte start followed by a space', 'c020'],
  ['6.13.2 lonely 3-byte start followed by a space', 'e020'],
  ['6.13.3 lonely 4-byte start followed by a space', 'f020'],
  ['6.14.1 2-byte sequence missing its last byte', 'c0'],
  ['6.14.2 3-byte sequence missing its last byte', 'e080'],
  ['6.14.3 4-byte sequence missing its last byte', 'f08080'],
  ['6.14.6 last 2-byte sequence missing its last byte', 'df'],
  ['6.14.7 last 3-byte sequence missing its last byte', 'efbf'],
  ['6.15.1 concatenated incomplete sequences', 'c0e080f08080dfefbff7bfbf'],
  ['6.16.1 impossible byte 0xfe', 'fe'],
  ['6.16.2 impossible byte 0xff', 'ff'],
  ['6.16.3 impossible bytes fe fe ff ff', 'fefeffff'],
  ['6.17.1 overlong "/" in 2 bytes', 'c0af'],
  ['6.17.2 overlong "/" in 3 bytes', 'e080af'],
  ['6.17.3 overlong "/" in 4 bytes', 'f08080af'],
  ['6.18.1 maximum overlong 2-byte', 'c1bf'],
  ['6.18.2 maximum overlong 3-byte', 'e09fbf'],
  ['6.18.3 maximum overlong 4-byte', 'f08fbfbf'],
  ['6.19.1 overlong NUL in 2 bytes', 'c080'],
  ['6.19.2 overlong NUL in 3 bytes', 'e08080'],
  ['6.19.3 overlong NUL in 4 bytes', 'f0808080'],
  ['6.20.1 lone surrogate U+D800', 'eda080'],
  ['6.20.3 lone surrogate U+DB80', 'edae80'],
  ['6.20.5 lone surrogate U+DC00', 'edb080'],
  ['6.20.7 lone surrogate U+DFFF', 'edbfbf'],
  ['6.21.1 surrogate pair U+D800 U+DC00', 'eda080edb080'],
  ['6.21.8 surrogate pair U+DBFF U+DFFF', 'edafbfedbfbf'],
];

/** One frame per byte: the first a text frame, the rest continuations, the last with FIN. */
function bytewiseFragments(bytes: Buffer): FrameSpec[] {
  if (bytes.length === 0) return [{ opcode: TEXT }];
  return [...bytes].map((byte, i) => ({ opcode: i === 0 ? TEXT : CONTINUATION, payload: Buffer.from([byte]), fin: i === bytes.length - 1 }));
}

describe('6 UTF-8 handling', () => {
  it('6.1 empty text messages, whole and in empty fragments, are echoed', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT });
    c.peer.send({ opcode: TEXT, fin: false }, { opcode: CONTINUATION, fin: false }, { opcode: CONTINUATION });
    c.peer.send({ opcode: TEXT, fin: false }, { opcode: CONTINUATION, payload: 'middle frame payload', fin: false }, { opcode: CONTINUATION });
    await expectEcho(c, TEXT, '');
    await expectEcho(c, TEXT, '', 1);
    await expectEcho(c, TEXT, 'middle frame payload', 2);
    await expectCleanClose(c);
  });

  it.each(VALID_UTF8)('%s is echoed, whole and one byte per fragment', async (_name, hex) => {
    const c = await startCase();
    const bytes = Buffer.from(hex, 'hex');
    c.peer.send({ opcode: TEXT, payload: bytes });
    c.peer.send(...bytewiseFragments(bytes));
    await expectEcho(c, TEXT, bytes);
    await expectEcho(c, TEXT, bytes, 1);
    await expectCleanClose(c);
  });

  it.each(INVALID_UTF8)('%s in one frame fails the connection with 1007', async (_name, hex) => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: Buffer.from(hex, 'hex') });
    await expectFailure(c, 1007, 'Invalid UTF-8 Data Received');
    expect(c.peer.messages).toHaveLength(0);
  });

  it.each(INVALID_UTF8)('%s one byte per fragment fails the connection with 1007', async (_name, hex) => {
    const c = await startCase();
    c.peer.send(...bytewiseFragments(Buffer.from(hex, 'hex')));
    await expectFailure(c, 1007, 'Invalid UTF-8 Data Received');
    expect(c.peer.messages).toHaveLength(0);
  });

  it('6.4.1 fail fast: an invalid fragment fails the connection before the message ends', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: Buffer.from('cebae1bdb9cf83cebcceb5', 'hex'), fin: false });
    c.peer.send({ opcode: CONTINUATION, payload: Buffer.from('f4908080', 'hex'), fin: false });
    await expectFailure(c, 1007);
  });

  it('6.4.2 fail fast: a fragment that makes a cut sequence invalid fails the connection at once', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: Buffer.from('cebae1bdb9cf83cebcceb5f4', 'hex'), fin: false });
    await tick();
    expect(c.peer.frames).toHaveLength(0);
    c.peer.send({ opcode: CONTINUATION, payload: Buffer.from('90', 'hex'), fin: false });
    await expectFailure(c, 1007);
  });

  it('6.4.3 / 6.4.4 an invalid frame arriving in chops fails the connection with 1007', async () => {
    const c = await startCase();
    const frame = buildFrame({ opcode: TEXT, payload: Buffer.from('cebae1bdb9cf83cebcceb5f4908080656469746564', 'hex') });
    await c.peer.sendChopped(frame, 8, 5);
    await expectFailure(c, 1007);
  });
});

describe('7 close handling', () => {
  it('7.1.1 a text message then a close: echo, then close 1000', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'Hello World!' }, { opcode: CLOSE, payload: closePayload(1000) });
    expect((await c.peer.waitForClose()).code).toBe(1000);
    expect(c.peer.frames.map((f) => f.opcode)).toEqual([TEXT, CLOSE]);
    c.peer.end();
    expect(await c.closed).toEqual({ code: 1000, description: 'Normal connection closure' });
  });

  it('7.1.2 / 7.1.3 / 7.1.4 after a close, a second close, a ping and a text get no answer', async () => {
    const c = await startCase();
    c.peer.send({ opcode: CLOSE, payload: closePayload(1000) }, { opcode: CLOSE, payload: closePayload(1000) }, { opcode: PING, payload: 'p' }, { opcode: TEXT, payload: 'late' });
    await c.peer.waitForClose();
    await tick(50);
    expect(c.peer.frames.map((f) => f.opcode)).toEqual([CLOSE]);
    c.peer.end();
    await c.closed;
  });

  it('7.1.5 a fragment, a close, then the last fragment: no echo', async () => {
    const c = await startCase();
    c.peer.send({ opcode: TEXT, payload: 'fragment1', fin: false }, { opcode: CLOSE, payload: closePayload(1000) }, { opcode: CONTINUATION, payload: 'fragment2' });
    await c.peer.waitForClose();
    await tick(50);
    expect(c.peer.frames.map((f) => f.opcode)).toEqual([CLOSE]);
    c.peer.end();
    await c.closed;
  });

  it('7.1.6 a large message, a close, then a ping: echo, close 1000, no pong', async () => {
    const c = await startCase();
    const big = 'BAsd7&jh23'.repeat(26214);
    c.peer.send({ opcode: TEXT, payload: big }, { opcode: CLOSE, payload: closePayload(1000) }, { opcode: PING, payload: 'p' });
    expect((await c.peer.waitForClose()).code).toBe(1000);
    await tick(50);
    expect(pongs(c.peer)).toEqual([]);
    expect(c.peer.messages.map((m) => m.payload.length)).toEqual([big.length]);
    c.peer.end();
    await c.closed;
  });

  it('7.3.1 an empty close is answered with 1000; the client reports 1005', async () => {
    const c = await startCase();
    c.peer.send({ opcode: CLOSE });
    expect((await c.peer.waitForClose()).code).toBe(1000);
    c.peer.end();
    expect((await c.closed).code).toBe(1005);
  });

  it('7.3.2 a close with a 1-byte payload fails the connection with 1002', async () => {
    const c = await startCase();
    c.peer.send({ opcode: CLOSE, payload: Buffer.from([0x03]) });
    await expectFailure(c, 1002);
  });

  it.each([
    ['7.3.3 code only', ''],
    ['7.3.4 code and reason', 'Hello World!'],
    ['7.3.5 code and a 123-byte reason', '*'.repeat(123)],
  ])('%s: answered with 1000, the client reports the reason', async (_name, reason) => {
    const c = await startCase();
    c.peer.send({ opcode: CLOSE, payload: closePayload(1000, reason) });
    expect((await c.peer.waitForClose()).code).toBe(1000);
    c.peer.end();
    expect(await c.closed).toEqual({ code: 1000, description: reason || 'Normal connection closure' });
  });

  it('7.3.6 a close with a 124-byte reason (126-byte payload) fails the connection with 1002', async () => {
    const c = await startCase();
    c.peer.send({ opcode: CLOSE, payload: closePayload(1000, '*'.repeat(124)) });
    await expectFailure(c, 1002, 'Illegal control frame longer than 125 bytes.');
  });

  it('7.5.1 a close reason that is not UTF-8 fails the connection with 1007', async () => {
    const c = await startCase();
    c.peer.send({ opcode: CLOSE, payload: closePayload(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex')) });
    await expectFailure(c, 1007);
  });

  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])(
    '7.7 valid close code %i is echoed',
    async (code) => {
      const c = await startCase();
      c.peer.send({ opcode: CLOSE, payload: closePayload(code) });
      expect((await c.peer.waitForClose()).code).toBe(code);
      c.peer.end();
      expect((await c.closed).code).toBe(code);
    },
  );

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])('7.9 / 7.13 invalid close code %i fails the connection with 1002', async (code) => {
    const c = await startCase();
    c.peer.send({ opcode: CLOSE, payload: closePayload(code) });
    await expectFailure(c, 1002, `Invalid close code ${code} received.`);
  });

  it('the client closes; the server answers: clean close with the client\'s code', async () => {
    const c = await startCase();
    c.connection.close(4321, 'bye');
    expect(await c.peer.waitForClose()).toEqual({ code: 4321, reason: 'bye' });
    expect(c.connection.state).toBe('ending');
    c.peer.send({ opcode: CLOSE, payload: closePayload(4321) });
    c.peer.end();
    expect(await c.closed).toEqual({ code: 4321, description: 'bye' });
    expect(c.connection.waitingForCloseResponse).toBe(false);
  });

  it('the client closes; the server never answers: the close timeout ends the connection', async () => {
    const c = await startCase({ closeTimeout: 100 });
    c.connection.close(1000);
    await c.peer.waitForClose();
    await c.peer.closed;
    expect((await c.closed).code).toBe(1000);
    expect(c.connection.waitingForCloseResponse).toBe(true);
  });

  it('the server closes but keeps TCP open: the close timeout ends the connection', async () => {
    const c = await startCase({ closeTimeout: 100 });
    c.peer.send({ opcode: CLOSE, payload: closePayload(1001, 'going') });
    await c.peer.waitForClose();
    await c.peer.closed;
    expect(await c.closed).toEqual({ code: 1001, description: 'going' });
  });
});

describe('9 limits and performance (Autobahn-style limits: 32 MiB)', () => {
  it.each([
    ['9.1.6 text', TEXT],
    ['9.2.6 binary', BINARY],
  ])('%s message of 16 MiB in one frame is echoed', async (_name, opcode) => {
    const c = await startCase();
    const payload = Buffer.alloc(16 * 1024 * 1024, opcode === TEXT ? 0x2a : 0xfe);
    c.peer.send({ opcode, payload });
    await expectEcho(c, opcode, payload);
    await expectCleanClose(c);
  }, 60000);

  it.each([64, 4096, 65536, 1024 * 1024])('9.3 / 9.4 a 4 MiB message in %i-byte fragments is echoed', async (size) => {
    const c = await startCase();
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = 0x41 + (i % 26);
    const frames: FrameSpec[] = [];
    for (let offset = 0; offset < payload.length; offset += size) {
      frames.push({ opcode: offset === 0 ? TEXT : CONTINUATION, payload: payload.subarray(offset, offset + size), fin: offset + size >= payload.length });
    }
    c.peer.send(...frames);
    await expectEcho(c, TEXT, payload);
    await expectCleanClose(c);
  }, 60000);

  it('9.5 / 9.6 a 1 MiB message written in small chops is echoed', async () => {
    const c = await startCase();
    const payload = Buffer.alloc(1024 * 1024, 0x2a);
    await c.peer.sendChopped(buildFrame({ opcode: TEXT, payload }), 4093);
    await expectEcho(c, TEXT, payload);
    await expectCleanClose(c);
  }, 60000);

  it.each([
    ['9.7 text', TEXT],
    ['9.8 binary', BINARY],
  ])('%s: 1000 messages sent back to back are echoed in order', async (_name, opcode) => {
    const c = await startCase();
    const specs = Array.from({ length: 1000 }, (_, i) => ({ opcode, payload: `message ${i}` }));
    c.peer.send(...specs);
    const messages = await c.peer.waitForMessages(1000);
    expect(messages.map((m) => m.payload.toString())).toEqual(specs.map((s) => s.payload));
    await expectCleanClose(c);
  });
});

describe('10 miscellaneous', () => {
  it('10.1.1 a 65536-byte text message auto-fragmented in 1300-byte frames is echoed', async () => {
    const c = await startCase();
    const payload = Buffer.alloc(65536, 0x2a);
    const frames: FrameSpec[] = [];
    for (let offset = 0; offset < payload.length; offset += 1300) {
      frames.push({ opcode: offset === 0 ? TEXT : CONTINUATION, payload: payload.subarray(offset, offset + 1300), fin: offset + 1300 >= payload.length });
    }
    c.peer.send(...frames);
    await expectEcho(c, TEXT, payload);
    await expectCleanClose(c);
  });
});
