import { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import { Blob } from 'node:buffer';
import { W3CWebSocket } from '../../src/w3c-websocket';
import { CloseEvent, ErrorEvent } from '../../src/w3c-events';
import * as core from '../../src/index';
import { EvilServer, acceptResponse, closePayload } from '../helpers/evil-server';
import { Cleanup, startEchoServer, type EchoServer, type Implementation } from '../helpers/interop-peers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Track a socket so it is closed after the test. */
function track(ws: W3CWebSocket): W3CWebSocket {
  return cleanup.add(ws, (socket) => {
    if (socket.readyState === W3CWebSocket.OPEN || socket.readyState === W3CWebSocket.CONNECTING) socket.close();
    if (socket.readyState === W3CWebSocket.CLOSED) return undefined;
    return nextEvent(socket, 'close');
  });
}

function nextEvent<E extends Event = Event>(target: EventTarget, type: string, timeoutMs = 5000): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${type}"`)), timeoutMs);
    target.addEventListener(type, (event) => {
      clearTimeout(timer);
      resolve(event as E);
    }, { once: true });
  });
}

/** Resolve once open; reject with the error event's error. */
async function open(...args: ConstructorParameters<typeof W3CWebSocket>): Promise<W3CWebSocket> {
  const ws = track(new W3CWebSocket(...args));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', (event) => reject((event as ErrorEvent).error), { once: true });
  });
  return ws;
}

async function echoServer(kind: Implementation = 'wsuite', protocols?: string[]): Promise<EchoServer> {
  return cleanup.add(await startEchoServer(kind, { protocols }), (s) => s.close());
}

async function evilServer(respond?: Parameters<typeof EvilServer.start>[0]): Promise<EvilServer> {
  return cleanup.add(await EvilServer.start(respond), (s) => s.close());
}

/** Record the order of `error`/`close` events and the readyState seen at each. */
function recordEnd(ws: W3CWebSocket): Promise<{ order: string[]; states: number[]; error: ErrorEvent | undefined; close: CloseEvent }> {
  const order: string[] = [];
  const states: number[] = [];
  let error: ErrorEvent | undefined;
  ws.addEventListener('open', () => order.push('open'));
  ws.addEventListener('error', (event) => {
    order.push('error');
    states.push(ws.readyState);
    error = event as ErrorEvent;
  });
  return nextEvent<CloseEvent>(ws, 'close').then((close) => {
    order.push('close');
    states.push(ws.readyState);
    return { order, states, error, close };
  });
}

describe('W3CWebSocket interface', () => {
  it('has CONNECTING, OPEN, CLOSING and CLOSED on the class and on instances, read-only', () => {
    expect([W3CWebSocket.CONNECTING, W3CWebSocket.OPEN, W3CWebSocket.CLOSING, W3CWebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
    for (const target of [W3CWebSocket, W3CWebSocket.prototype]) {
      const descriptor = Object.getOwnPropertyDescriptor(target, 'CLOSING');
      expect(descriptor).toMatchObject({ value: 2, writable: false, enumerable: true, configurable: false });
    }
    expect(() => {
      (W3CWebSocket as unknown as Record<string, number>).OPEN = 5;
    }).toThrow(TypeError);
  });

  it('is an EventTarget, the w3cwebsocket export and the lib/W3CWebSocket deep require', () => {
    expect(W3CWebSocket.prototype).toBeInstanceOf(EventTarget);
    expect(core.w3cwebsocket).toBe(W3CWebSocket);
    expect(core.W3CWebSocket).toBe(W3CWebSocket);
    expect(require('../../src/lib/W3CWebSocket')).toBe(W3CWebSocket);
    expect(Object.keys(core).slice(0, 9)).toEqual(['server', 'client', 'router', 'frame', 'request', 'connection', 'w3cwebsocket', 'deprecation', 'version']);
  });

  it('starts CONNECTING, with the serialized URL and empty protocol and extensions', async () => {
    const server = await evilServer(() => null);
    const ws = track(new W3CWebSocket(`ws://127.0.0.1:${server.port}`));
    expect(ws.readyState).toBe(W3CWebSocket.CONNECTING);
    expect(ws.url).toBe(`ws://127.0.0.1:${server.port}/`);
    expect(ws.protocol).toBe('');
    expect(ws.extensions).toBe('');
    expect(ws.bufferedAmount).toBe(0);
    expect(ws.binaryType).toBe('arraybuffer');
    expect([ws.onopen, ws.onmessage, ws.onerror, ws.onclose]).toEqual([null, null, null, null]);
    expect(new W3CWebSocket(`http://127.0.0.1:${server.port}/x?y#z`).url).toBe(`ws://127.0.0.1:${server.port}/x?y`);
  });

  it('throws a SyntaxError DOMException for a bad URL or protocol list', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => new W3CWebSocket('example.com/chat'), 'You must specify a full WebSocket URL, including protocol.'],
      [() => new W3CWebSocket('localhost:8080'), 'Unsupported URL scheme "localhost:"'],
      [() => new W3CWebSocket('ftp://example.com/'), 'Unsupported URL scheme "ftp:"'],
      [() => new W3CWebSocket('ws://127.0.0.1:1/', ['ok', 'not ok']), 'Protocol list contains invalid character " "'],
      [() => new W3CWebSocket('ws://127.0.0.1:1/', ['chat', 'chat']), 'each subprotocol may be requested once'],
    ];
    for (const [construct, message] of cases) {
      let thrown: unknown;
      try {
        construct();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DOMException);
      expect(thrown).toMatchObject({ name: 'SyntaxError' });
      expect((thrown as Error).message).toContain(message);
    }
  });

  it('does not modify the clientConfig it is given', async () => {
    const server = await evilServer(() => null);
    const clientConfig = { assembleFragments: false, tlsOptions: { rejectUnauthorized: false } };
    track(new W3CWebSocket(server.url(), null, null, null, null, clientConfig));
    expect(clientConfig).toEqual({ assembleFragments: false, tlsOptions: { rejectUnauthorized: false } });
  });
});

describe('W3CWebSocket lifecycle', () => {
  it('goes CONNECTING → OPEN → CLOSING → CLOSED, firing open then close', async () => {
    const server = await echoServer();
    const ws = track(new W3CWebSocket(server.url));
    const seen: string[] = [];
    ws.onopen = () => seen.push(`open:${ws.readyState}`);
    const end = recordEnd(ws);
    await nextEvent(ws, 'open');
    ws.close(4000, 'done');
    seen.push(`after close():${ws.readyState}`);
    const { order, states, close } = await end;
    expect(seen).toEqual(['open:1', 'after close():2']);
    expect(order).toEqual(['open', 'close']);
    expect(states).toEqual([3]);
    expect(close).toBeInstanceOf(Event);
    expect(close).toMatchObject({ type: 'close', code: 4000, reason: 'done', wasClean: true });
    expect(await server.closes.next('server close')).toEqual({ code: 4000, reason: 'done' });
  });

  it('reports the subprotocol the server selected, and opens with "" when it selects none', async () => {
    const server = await echoServer('wsuite', ['chat', 'superchat']);
    expect((await open(server.url, ['superchat', 'chat'])).protocol).toBe('superchat');
    expect((await open(server.url, 'chat')).protocol).toBe('chat');
    expect((await open(server.url, ['unknown'])).protocol).toBe('');
    expect(server.requests.map((r) => r.protocols)).toEqual([['superchat', 'chat'], ['chat'], ['unknown']]);
  });

  it('passes origin, headers and request options (an agent) to the client', async () => {
    const server = await evilServer();
    let created = 0;
    class CountingAgent extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>): Duplex {
        created++;
        return super.createConnection(...args) as Duplex;
      }
    }
    await open(server.url('/path?q=1'), null, 'https://origin.example', { 'X-Token': 'abc' }, { agent: new CountingAgent() });
    const { request } = await server.nextPeer();
    expect(request.path).toBe('/path?q=1');
    expect(request.headers.origin).toBe('https://origin.example');
    expect(request.headers['x-token']).toBe('abc');
    expect(created).toBe(1);
  });

  it('is clean, with the code and reason, for any clean close started by the server', async () => {
    const server = await echoServer();
    for (const [code, reason] of [[1001, 'going away'], [4002, 'custom'], [1000, '']] as const) {
      const ws = await open(server.url);
      const end = recordEnd(ws);
      ws.send(`!close:${code}:${reason}`);
      const { order, close } = await end;
      expect(order).toEqual(['close']);
      expect(close).toMatchObject({ code, wasClean: true });
      if (reason) expect(close.reason).toBe(reason);
    }
  });

  it('is not clean, with 1006, when the TCP connection drops', async () => {
    const server = await echoServer();
    const ws = await open(server.url);
    const end = recordEnd(ws);
    ws.send('!drop');
    const { order, close } = await end;
    expect(order).toEqual(['close']);
    expect(close).toMatchObject({ code: 1006, reason: '', wasClean: false });
  });

  it('is not clean, with 1006, when the server never answers our close', async () => {
    const server = await evilServer();
    const ws = await open(server.url(), null, null, null, null, { closeTimeout: 50 });
    const peer = await server.nextPeer();
    const end = recordEnd(ws);
    ws.close(4000);
    expect(await peer.waitForClose()).toEqual({ code: 4000, reason: '' });
    const { close } = await end;
    expect(close).toMatchObject({ code: 1006, wasClean: false });
  });

  it('close() without arguments sends 1000 with no reason', async () => {
    const server = await evilServer();
    const ws = await open(server.url());
    const peer = await server.nextPeer();
    ws.close();
    expect(await peer.waitForClose()).toEqual({ code: 1000, reason: '' });
    peer.send({ opcode: 0x8, payload: closePayload(1000) });
    peer.end();
    expect(await nextEvent<CloseEvent>(ws, 'close')).toMatchObject({ code: 1000, wasClean: true });
  });
});

describe('W3CWebSocket close(code, reason) validation', () => {
  it.each([999, 1001, 1005, 1006, 2999, 5000, 65535, -1, NaN])('close(%p) throws InvalidAccessError and leaves the socket open', async (code) => {
    const server = await echoServer();
    const ws = await open(server.url);
    expect(() => ws.close(code)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(ws.readyState).toBe(W3CWebSocket.OPEN);
    ws.send('still open');
    expect((await nextEvent<MessageEvent>(ws, 'message')).data).toBe('still open');
  });

  it('a reason over 123 UTF-8 bytes throws SyntaxError and leaves the socket open', async () => {
    const server = await echoServer();
    const ws = await open(server.url);
    for (const reason of ['x'.repeat(124), '\u20ac'.repeat(42)]) {
      let thrown: unknown;
      try {
        ws.close(1000, reason);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DOMException);
      expect(thrown).toMatchObject({ name: 'SyntaxError' });
      expect(ws.readyState).toBe(W3CWebSocket.OPEN);
    }
    ws.close(3000, '\u20ac'.repeat(41));
    expect(await server.closes.next('server close')).toEqual({ code: 3000, reason: '\u20ac'.repeat(41) });
  });

  it('clamps and rounds the code as WebIDL [Clamp] unsigned short does', async () => {
    const server = await echoServer();
    const ws = await open(server.url);
    ws.close(3999.5 as number);
    expect((await server.closes.next('server close')).code).toBe(4000);
  });

  it('does nothing once closing or closed', async () => {
    const server = await echoServer();
    const ws = await open(server.url);
    ws.close(4001);
    expect(() => ws.close(4002)).not.toThrow();
    await nextEvent(ws, 'close');
    expect(() => ws.close(4003)).not.toThrow();
    expect(await server.closes.next('server close')).toEqual({ code: 4001, reason: '' });
  });
});

describe('W3CWebSocket messages', () => {
  it('delivers text, empty text, and binary as a fresh ArrayBuffer by default', async () => {
    const server = await echoServer();
    const ws = await open(server.url);
    const received: MessageEvent[] = [];
    ws.onmessage = (event) => received.push(event as MessageEvent);
    ws.send('text');
    ws.send('');
    ws.send(new Uint8Array([1, 2, 3]));
    ws.send(new Uint8Array(0));
    while (received.length < 4) await nextEvent(ws, 'message');
    expect(received.map((e) => e.data instanceof ArrayBuffer ? [...new Uint8Array(e.data)] : e.data)).toEqual(['text', '', [1, 2, 3], []]);
    expect(received[2].data).toBeInstanceOf(ArrayBuffer);
    expect(received[0]).toBeInstanceOf(Event);
    expect(received[0].origin).toBe(`ws://127.0.0.1:${server.port}`);
    expect(received[0].target).toBe(ws);
  });

  it('delivers binary as a Blob or a Buffer when binaryType says so, and ignores unknown types', async () => {
    const server = await echoServer();
    const ws = await open(server.url);
    ws.binaryType = 'blob';
    ws.binaryType = 'unknown' as never;
    expect(ws.binaryType).toBe('blob');
    ws.send(Buffer.from('blob me'));
    const asBlob = (await nextEvent<MessageEvent>(ws, 'message')).data as Blob;
    expect(asBlob).toBeInstanceOf(Blob);
    expect(Buffer.from(await asBlob.arrayBuffer()).toString()).toBe('blob me');
    ws.binaryType = 'nodebuffer';
    ws.send(Buffer.from([9, 8]));
    const asBuffer = (await nextEvent<MessageEvent>(ws, 'message')).data;
    expect(Buffer.isBuffer(asBuffer)).toBe(true);
    expect(asBuffer).toEqual(Buffer.from([9, 8]));
  });

  it('sends strings, ArrayBuffers, views (only their bytes), Buffers and Blobs in order, and other values as strings', async () => {
    const server = await evilServer();
    const ws = await open(server.url());
    const peer = await server.nextPeer();
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    ws.send('text');
    ws.send(new Blob(['blob ', 'parts']));
    ws.send(backing.buffer);
    ws.send(backing.subarray(2, 5));
    ws.send(new DataView(backing.buffer, 6, 2));
    ws.send(Buffer.from('buffer'));
    ws.send(new Uint16Array([0x0102]));
    ws.send(42 as never);
    ws.send(null as never);
    const messages = await peer.waitForMessages(9);
    expect(messages.map((m) => [m.opcode, m.opcode === 1 ? m.payload.toString() : [...m.payload]])).toEqual([
      [1, 'text'],
      [2, [...Buffer.from('blob parts')]],
      [2, [0, 1, 2, 3, 4, 5, 6, 7]],
      [2, [2, 3, 4]],
      [2, [6, 7]],
      [2, [...Buffer.from('buffer')]],
      [2, [...Buffer.from(new Uint16Array([0x0102]).buffer)]],
      [1, '42'],
      [1, 'null'],
    ]);
    expect(peer.frames.every((f) => f.masked)).toBe(true);
  });

  it('send() throws InvalidStateError while connecting', async () => {
    const server = await evilServer(() => null);
    const ws = track(new W3CWebSocket(server.url()));
    expect(() => ws.send('too early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    expect(ws.bufferedAmount).toBe(0);
  });

  it('bufferedAmount counts bytes not yet written, then drops to 0', async () => {
    const server = await evilServer();
    const ws = await open(server.url(), null, null, null, null, { fragmentationThreshold: 1024 * 1024 });
    const peer = await server.nextPeer();
    const big = new Uint8Array(8 * 1024 * 1024);
    ws.send(big);
    ws.send('\u20ac');
    expect(ws.bufferedAmount).toBe(big.length + 3);
    await peer.waitForMessages(2, 20000);
    while (ws.bufferedAmount > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ws.bufferedAmount).toBe(0);
  });

  it('once closing, send() does not throw and only grows bufferedAmount', async () => {
    const server = await evilServer();
    const ws = await open(server.url());
    const peer = await server.nextPeer();
    ws.close(1000);
    expect(ws.readyState).toBe(W3CWebSocket.CLOSING);
    ws.send('abc');
    ws.send(new Uint8Array(5));
    expect(ws.bufferedAmount).toBe(8);
    await peer.waitForClose();
    peer.send({ opcode: 0x8, payload: closePayload(1000) });
    peer.end();
    await nextEvent(ws, 'close');
    ws.send('x');
    expect(ws.bufferedAmount).toBe(9);
    expect(peer.frames.map((f) => f.opcode)).toEqual([0x8]);
  });

  it('readyState is CLOSING as soon as the server\'s close frame arrives', async () => {
    const server = await evilServer();
    const ws = await open(server.url());
    const peer = await server.nextPeer();
    peer.send({ opcode: 0x8, payload: closePayload(4000, 'bye') });
    await peer.waitForClose();
    expect(ws.readyState).toBe(W3CWebSocket.CLOSING);
    peer.end();
    expect(await nextEvent<CloseEvent>(ws, 'close')).toMatchObject({ code: 4000, reason: 'bye', wasClean: true });
  });
});

describe('W3CWebSocket event handlers', () => {
  it('on* handlers keep their place among listeners, like in browsers', async () => {
    const server = await evilServer(() => null);
    const ws = track(new W3CWebSocket(server.url()));
    const calls: string[] = [];
    ws.addEventListener('message', () => calls.push('listener 1'));
    ws.onmessage = () => calls.push('handler A');
    ws.addEventListener('message', () => calls.push('listener 2'));
    ws.dispatchEvent(new Event('message'));
    ws.onmessage = () => calls.push('handler B');
    ws.dispatchEvent(new Event('message'));
    ws.onmessage = null;
    ws.dispatchEvent(new Event('message'));
    ws.onmessage = function (this: W3CWebSocket) {
      calls.push(`handler C, this is the socket: ${this === ws}`);
    };
    ws.dispatchEvent(new Event('message'));
    expect(calls).toEqual([
      'listener 1', 'handler A', 'listener 2',
      'listener 1', 'handler B', 'listener 2',
      'listener 1', 'listener 2',
      'listener 1', 'listener 2', 'handler C, this is the socket: true',
    ]);
    expect(typeof ws.onmessage).toBe('function');
    ws.onmessage = 'not a function' as never;
    expect(ws.onmessage).toBeNull();
  });

  it('supports listener objects, once and removeEventListener (Node\'s EventTarget)', async () => {
    const server = await evilServer(() => null);
    const ws = track(new W3CWebSocket(server.url()));
    const calls: string[] = [];
    const object = { handleEvent: (event: Event) => calls.push(`object ${event.type}`) };
    const removed = (): number => calls.push('removed');
    ws.addEventListener('open', object);
    ws.addEventListener('open', () => calls.push('once'), { once: true });
    ws.addEventListener('open', removed);
    ws.removeEventListener('open', removed);
    ws.dispatchEvent(new Event('open'));
    ws.dispatchEvent(new Event('open'));
    expect(calls).toEqual(['object open', 'once', 'object open']);
  });
});

describe('W3CWebSocket failures', () => {
  it('connection refused: error (with the cause), then close 1006, readyState CLOSED at both', async () => {
    const server = await evilServer();
    const port = server.port;
    await server.close();
    const ws = track(new W3CWebSocket(`ws://127.0.0.1:${port}/`));
    const { order, states, error, close } = await recordEnd(ws);
    expect(order).toEqual(['error', 'close']);
    expect(states).toEqual([3, 3]);
    expect(error).toBeInstanceOf(Event);
    expect(error).toBeInstanceOf(ErrorEvent);
    expect(error?.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(error?.error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(close).toBeInstanceOf(CloseEvent);
    expect([error?.constructor.name, close.constructor.name]).toEqual(['ErrorEvent', 'CloseEvent']);
    expect(close).toMatchObject({ code: 1006, reason: '', wasClean: false });
  });

  it.each([
    ['an unknown subprotocol', (request: Parameters<typeof acceptResponse>[0]) => acceptResponse(request, ['Sec-WebSocket-Protocol: nope']), 'Server did not respond with a requested protocol.'],
    ['a wrong accept key', (request: Parameters<typeof acceptResponse>[0]) => acceptResponse({ ...request, key: 'AAAAAAAAAAAAAAAAAAAAAA==' }), "Sec-WebSocket-Accept header from server didn't match"],
    ['a 403', () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', 'Server responded with a non-101 status: 403 Forbidden'],
  ])('a handshake failure (%s): error with the message, then close 1006', async (_name, respond, message) => {
    const server = await evilServer(respond);
    const ws = track(new W3CWebSocket(server.url(), ['chat']));
    const { order, error, close } = await recordEnd(ws);
    expect(order).toEqual(['error', 'close']);
    expect(error?.message).toContain(message);
    expect(error?.error).toBeInstanceOf(Error);
    expect(close).toMatchObject({ code: 1006, wasClean: false });
  });

  it('close() while connecting: CLOSING at once, then error and close (1006), never open', async () => {
    const server = await evilServer(() => null);
    const ws = track(new W3CWebSocket(server.url()));
    const end = recordEnd(ws);
    await server.nextPeer();
    ws.close(1000, 'never mind');
    expect(ws.readyState).toBe(W3CWebSocket.CLOSING);
    const { order, states, error, close } = await end;
    expect(order).toEqual(['error', 'close']);
    expect(states).toEqual([3, 3]);
    expect(error?.error).toMatchObject({ code: 'WS_ERR_CONNECT_ABORTED' });
    expect(close).toMatchObject({ code: 1006, wasClean: false });
  });

  it('a protocol error by the server: error with the reason, close 1006 not clean; the server gets 1002', async () => {
    const server = await evilServer();
    const ws = await open(server.url());
    const peer = await server.nextPeer();
    const end = recordEnd(ws);
    peer.send({ opcode: 0x1, payload: 'bad', rsv2: true });
    expect((await peer.waitForClose()).code).toBe(1002);
    peer.end();
    const { order, error, close } = await end;
    expect(order).toEqual(['error', 'close']);
    expect(error?.message).toBe('Unsupported usage of rsv bits without negotiated extension.');
    expect(close).toMatchObject({ code: 1006, reason: '', wasClean: false });
  });

  it('invalid UTF-8 from the server: error, then close 1006; the server gets 1007', async () => {
    const server = await evilServer();
    const ws = await open(server.url());
    const peer = await server.nextPeer();
    const end = recordEnd(ws);
    peer.send({ opcode: 0x1, payload: Buffer.from([0xc0, 0xaf]) });
    expect((await peer.waitForClose()).code).toBe(1007);
    peer.end();
    const { order, error, close } = await end;
    expect(order).toEqual(['error', 'close']);
    expect(error?.message).toBe('Invalid UTF-8 Data Received');
    expect(close.code).toBe(1006);
  });

  it('a socket error after open: error with the cause, then close 1006', async () => {
    const server = await evilServer();
    const ws = await open(server.url());
    const peer = await server.nextPeer();
    const end = recordEnd(ws);
    peer.socket.resetAndDestroy();
    const { order, error, close } = await end;
    expect(order).toEqual(['error', 'close']);
    expect(error?.error).toMatchObject({ code: 'ECONNRESET' });
    expect(close).toMatchObject({ code: 1006, wasClean: false });
  });
});

describe('W3CWebSocket against a ws server', () => {
  it('negotiates, exchanges messages and sees the server\'s clean close', async () => {
    const server = await echoServer('ws', ['chat']);
    const ws = await open(server.url, ['other', 'chat']);
    expect(ws.protocol).toBe('chat');
    ws.send('');
    ws.send(new Uint8Array([7]));
    const texts: unknown[] = [];
    ws.onmessage = (event) => texts.push((event as MessageEvent).data);
    while (texts.length < 2) await nextEvent(ws, 'message');
    expect(texts[0]).toBe('');
    expect([...new Uint8Array(texts[1] as ArrayBuffer)]).toEqual([7]);
    const end = recordEnd(ws);
    ws.send('!close:4005:ws says bye');
    expect((await end).close).toMatchObject({ code: 4005, reason: 'ws says bye', wasClean: true });
  });
});

describe('lib/browser entry (package.json "browser")', () => {
  type BrowserEntry = { w3cwebsocket: (new (url: string, protocols?: string | string[], ...rest: unknown[]) => unknown) & Record<string, number> | null; version: string };
  const scope = globalThis as unknown as { WebSocket?: unknown };

  function loadWith(nativeWebSocket: unknown): BrowserEntry {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    scope.WebSocket = nativeWebSocket;
    try {
      let entry: BrowserEntry | undefined;
      jest.isolateModules(() => {
        entry = require('../../src/lib/browser') as BrowserEntry;
      });
      return entry as BrowserEntry;
    } finally {
      if (saved) Object.defineProperty(globalThis, 'WebSocket', saved);
      else delete scope.WebSocket;
    }
  }

  it('exports only w3cwebsocket and version, and w3cwebsocket is null without a native WebSocket', () => {
    const entry = loadWith(undefined);
    expect(Object.keys(entry)).toEqual(['w3cwebsocket', 'version']);
    expect(entry.w3cwebsocket).toBeNull();
    expect(entry.version).toBe(core.version);
  });

  it('wraps the native WebSocket: new returns a native instance, extra arguments are dropped, constants are proxied', () => {
    class FakeNative {
      static readonly CONNECTING = 10;
      static readonly OPEN = 11;
      static readonly CLOSING = 12;
      static readonly CLOSED = 13;
      readonly args: unknown[];
      constructor(...args: unknown[]) {
        this.args = args;
      }
    }
    const { w3cwebsocket } = loadWith(FakeNative);
    if (!w3cwebsocket) throw new Error('expected a wrapper');
    const withProtocols = new w3cwebsocket('wss://x/', ['a'], 'origin', { h: 1 }) as FakeNative;
    expect(withProtocols).toBeInstanceOf(FakeNative);
    expect(withProtocols.args).toEqual(['wss://x/', ['a']]);
    expect((new w3cwebsocket('wss://x/') as FakeNative).args).toEqual(['wss://x/']);
    expect([w3cwebsocket.CONNECTING, w3cwebsocket.OPEN, w3cwebsocket.CLOSING, w3cwebsocket.CLOSED]).toEqual([10, 11, 12, 13]);
  });
});
