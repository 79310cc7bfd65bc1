/**
 * WebSocketRequest over real sockets: what it parses from the handshake, what `accept()` writes
 * (subprotocol, origin, cookies) and refuses, what `reject()` writes, header injection, and a
 * client reset while the request is pending.
 */
import { Socket } from 'node:net';
import { startServer, type TestServer } from '../helpers/raw-peer';
import { ClientPool, echo, headOf, maskedFrame, nextEvent, rawUpgrade, thrownBy, type RawExchange, type RawUpgradeOptions } from '../helpers/server-harness';
import { waitUntil } from '../helpers/integration-kit';
import { WebSocketRequest } from '../../src/request';
import { WebSocketConnection } from '../../src/connection';
import type { SetCookie } from '../../src/protocol/cookies';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const SWITCHING = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${RFC_ACCEPT}`;

const pool = new ClientPool();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  await pool.closeAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const server = await startServer(options);
  cleanups.push(() => server.close());
  return server;
}

/** Send a handshake and return the request the server emits, unanswered. */
async function pending(server: TestServer, options: RawUpgradeOptions = {}): Promise<{ request: WebSocketRequest; exchange: RawExchange }> {
  const requestEvent = nextEvent<[WebSocketRequest]>(server.wss, 'request');
  const exchange = await rawUpgrade(server.port, options);
  cleanups.push(() => {
    exchange.socket.destroy();
  });
  const [request] = await requestEvent;
  return { request, exchange };
}

/** A server whose request listener does nothing: tests answer through `pending()`. */
async function holdingServer(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const server = await serve(options);
  server.wss.on('request', () => undefined);
  return server;
}

describe('properties', () => {
  it('parses a version 13 handshake', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, {
      path: '/chat/room?x=1&y=two&y=three',
      headers: {
        'Sec-WebSocket-Key': RFC_KEY,
        Origin: 'http://origin.example',
        'Sec-WebSocket-Origin': 'http://not-used-for-v13.example',
        'Sec-WebSocket-Protocol': 'Chat, SuperChat',
        'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits, X-Foo; a=1; b',
        Cookie: 'a=1; b="two%20x"; c; d=; e=f=g,h=i',
      },
    });
    expect(request.resource).toBe('/chat/room?x=1&y=two&y=three');
    expect(request.resourceURL.pathname).toBe('/chat/room');
    expect({ ...request.resourceURL.query }).toEqual({ x: '1', y: ['two', 'three'] });
    expect(request.host).toBe(`127.0.0.1:${server.port}`);
    expect(request.key).toBe(RFC_KEY);
    expect(request.webSocketVersion).toBe(13);
    expect(request.origin).toBe('http://origin.example');
    expect(request.requestedProtocols).toEqual(['chat', 'superchat']);
    expect({ ...request.protocolFullCaseMap }).toEqual({ chat: 'Chat', superchat: 'SuperChat' });
    expect(request.requestedExtensions).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits' }] },
      { name: 'x-foo', params: [{ name: 'a', value: '1' }, { name: 'b' }] },
    ]);
    expect(request.cookies).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: 'two x' },
      { name: 'c', value: null },
      { name: 'd', value: '' },
      { name: 'e', value: 'f=g' },
      { name: 'h', value: 'i' },
    ]);
    expect(request.remoteAddress).toBe('127.0.0.1');
    expect(request.remoteAddresses).toEqual(['127.0.0.1']);
    expect(request.httpRequest.headers.origin).toBe('http://origin.example');
    expect(request.socket).toBeInstanceOf(Socket);
    expect(request._resolved).toBe(false);

    const connection = request.accept('superchat');
    expect(headOf(await exchange.head())).toBe(`${SWITCHING}\r\nSec-WebSocket-Protocol: SuperChat`);
    expect(connection).toBeInstanceOf(WebSocketConnection);
    expect(connection.webSocketVersion).toBe(13);
    expect(connection.remoteAddress).toBe('127.0.0.1');
    expect(connection.remoteAddresses).toEqual(['127.0.0.1']);
  });

  it('takes the origin from Sec-WebSocket-Origin for version 8 and echoes it under that name', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, {
      headers: {
        'Sec-WebSocket-Key': RFC_KEY,
        'Sec-WebSocket-Version': '8',
        'Sec-WebSocket-Origin': 'http://v8.example',
        Origin: 'http://ignored.example',
      },
    });
    expect(request.webSocketVersion).toBe(8);
    expect(request.origin).toBe('http://v8.example');
    const connection = request.accept(null, 'http://allowed.example');
    expect(connection.webSocketVersion).toBe(8);
    expect(headOf(await exchange.head())).toBe(`${SWITCHING}\r\nSec-WebSocket-Origin: http://allowed.example`);
  });

  it('has empty lists and no origin when the client sends none', async () => {
    const server = await holdingServer();
    const { request } = await pending(server);
    expect(request.origin).toBeUndefined();
    expect(request.requestedProtocols).toEqual([]);
    expect(request.requestedExtensions).toEqual([]);
    expect(request.cookies).toEqual([]);
    expect(request.resource).toBe('/');
    expect({ ...request.resourceURL.query }).toEqual({});
  });

  it('skips cookie and extension parsing when parseCookies and parseExtensions are false', async () => {
    const server = await holdingServer({ parseCookies: false, parseExtensions: false });
    // A malformed escape is not an error when cookies are not parsed.
    const { request } = await pending(server, { headers: { Cookie: 'a=1; bad=%E0%A4%A', 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
    expect(request.cookies).toEqual([]);
    expect(request.requestedExtensions).toEqual([]);
    expect(request.httpRequest.headers.cookie).toBe('a=1; bad=%E0%A4%A');
  });

  it('follows X-Forwarded-For, and hands the addresses to the connection', async () => {
    const server = await holdingServer();
    const { request } = await pending(server, { headers: { 'X-Forwarded-For': '1.2.3.4, 5.6.7.8' } });
    expect(request.remoteAddress).toBe('1.2.3.4');
    expect(request.remoteAddresses).toEqual(['1.2.3.4', '5.6.7.8', '127.0.0.1']);
    const connection = request.accept();
    expect(connection.remoteAddress).toBe('1.2.3.4');
    expect(connection.remoteAddresses).toEqual(['1.2.3.4', '5.6.7.8', '127.0.0.1']);
  });

  it('ignores X-Forwarded-For with ignoreXForwardedFor', async () => {
    const server = await holdingServer({ ignoreXForwardedFor: true });
    const { request } = await pending(server, { headers: { 'X-Forwarded-For': '1.2.3.4, 5.6.7.8' } });
    expect(request.remoteAddress).toBe('127.0.0.1');
    expect(request.remoteAddresses).toEqual(['127.0.0.1']);
  });
});

describe('accept', () => {
  it.each(['chat', 'CHAT', 'Chat'])('accept(%p) matches the requested "Chat" and the 101 carries "Chat"', async (argument) => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, { headers: { 'Sec-WebSocket-Key': RFC_KEY, 'Sec-WebSocket-Protocol': 'other, Chat' } });
    expect(request.requestedProtocols).toEqual(['other', 'chat']);
    const connection = request.accept(argument);
    expect(headOf(await exchange.head())).toBe(`${SWITCHING}\r\nSec-WebSocket-Protocol: Chat`);
    // As in WebSocket-Node, the connection keeps the argument as passed.
    expect(connection.protocol).toBe(argument);
  });

  it('works with a real client that requests a mixed-case protocol', async () => {
    const server = await serve();
    server.wss.on('request', (request) => {
      const connection = request.accept('CHAT');
      connection.on('message', (m) => connection.sendUTF(m.type === 'utf8' ? m.utf8Data : ''));
    });
    const ws = await pool.open(server.url, ['Chat']);
    expect(ws.protocol).toBe('Chat');
    expect(await echo(ws, 'mixed case')).toBe('mixed case');
  });

  it('accepts with no protocol header when the protocol is falsy, even if the client asked for one', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, { headers: { 'Sec-WebSocket-Key': RFC_KEY, 'Sec-WebSocket-Protocol': 'chat' } });
    const connection = request.accept(null);
    expect(headOf(await exchange.head())).toBe(SWITCHING);
    expect(connection.protocol).toBeUndefined();
  });

  it.each<[string, string | undefined, string]>([
    ['a protocol the client did not request', 'chat', 'other'],
    ['a protocol when the client requested none', undefined, 'chat'],
  ])('refuses %s: throws, and the client gets 500', async (_name, requested, argument) => {
    const server = await holdingServer();
    const connects: WebSocketConnection[] = [];
    server.wss.on('connect', (c) => connects.push(c));
    const headers: Record<string, string> = requested ? { 'Sec-WebSocket-Protocol': requested } : {};
    const { request, exchange } = await pending(server, { headers });
    const error = thrownBy(() => request.accept(argument));
    expect(error.message).toBe('Specified protocol was not requested by the client.');
    expect(await exchange.response).toBe('HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n');
    expect(request._resolved).toBe(true);
    expect(server.wss.pendingRequests).toEqual([]);
    expect(server.wss.connections).toEqual([]);
    expect(connects).toEqual([]);
  });

  it('refuses a protocol that is not a token', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, { headers: { 'Sec-WebSocket-Protocol': 'chat' } });
    expect(thrownBy(() => request.accept('a b')).message).toBe('Illegal character " " in subprotocol.');
    expect(await exchange.response).toBe('HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n');
  });

  it('may be called once: a second accept or reject throws', async () => {
    const server = await holdingServer();
    const { request } = await pending(server);
    request.accept();
    const message = 'WebSocketRequest may only be accepted or rejected one time.';
    expect(thrownBy(() => request.accept()).message).toBe(message);
    expect(thrownBy(() => request.reject(500)).message).toBe(message);
    expect(server.wss.connections).toHaveLength(1);
  });

  it('emits requestResolved, then requestAccepted, before returning', async () => {
    const server = await holdingServer();
    const { request } = await pending(server);
    const events: string[] = [];
    request.on('requestResolved', (r) => events.push(`resolved:${r === request}`));
    request.on('requestAccepted', (c) => events.push(`accepted:${c instanceof WebSocketConnection}`));
    request.on('requestRejected', () => events.push('rejected'));
    request.accept();
    events.push('returned');
    expect(events).toEqual(['resolved:true', 'accepted:true', 'returned']);
  });

  it('echoes the allowed origin with CR/LF stripped, so it cannot inject a header', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, { headers: { 'Sec-WebSocket-Key': RFC_KEY } });
    request.accept(null, 'http://a.example\r\nX-Injected: 1\r\n\r\nHTTP/1.1 200 OK');
    const head = headOf(await exchange.head());
    expect(head).toBe(`${SWITCHING}\r\nOrigin: http://a.exampleX-Injected: 1HTTP/1.1 200 OK`);
    expect(head.split('\r\n').some((line) => line.startsWith('X-Injected'))).toBe(false);
  });

  it('adds extraHeaders to the 101, one line per value, never overriding the handshake or adding a body header', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, { headers: { 'Sec-WebSocket-Key': RFC_KEY } });
    request.accept(null, null, undefined, {
      'X-Trace-Id': 't-1',
      'set-cookie': ['a=1', 'b=2'],
      'X-Count': 3,
      'Sec-WebSocket-Accept': 'forged',
      upgrade: 'h2c',
      'Content-Length': 0,
      'Transfer-Encoding': 'chunked',
      'X-Unset': undefined as unknown as string,
      'X-Evil': 'v\r\nX-Injected: 1',
    });
    expect(headOf(await exchange.head())).toBe(`${SWITCHING}\r\nX-Trace-Id: t-1\r\nset-cookie: a=1\r\nset-cookie: b=2\r\nX-Count: 3\r\nX-Evil: vX-Injected: 1`);
  });

  it('writes one exact Set-Cookie line per cookie', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, { headers: { 'Sec-WebSocket-Key': RFC_KEY } });
    request.accept(null, null, [
      {
        name: 'sess',
        value: '"quoted"',
        path: '/p',
        domain: 'Example.COM',
        expires: new Date(0),
        maxage: 3600,
        secure: true,
        httponly: true,
      },
      { name: 'plain', value: 'v' },
      { name: 'x\r\ny', value: 'v;w' },
      { name: 'age', value: '1', maxage: '60.4' },
      { name: 'zero', value: '1', maxage: 0, secure: false, httponly: false },
    ]);
    expect(headOf(await exchange.head())).toBe(
      [
        SWITCHING,
        'Set-Cookie: sess="quoted";Path=/p;Domain=example.com;Expires=Thu, 01 Jan 1970 00:00:00 GMT;Max-Age=3600;Secure;HttpOnly',
        'Set-Cookie: plain=v',
        'Set-Cookie: xy=vw',
        'Set-Cookie: age=1;Max-Age=60',
        'Set-Cookie: zero=1',
      ].join('\r\n'),
    );
  });

  const cookieFailures: Array<[string, unknown, string]> = [
    ['not an array', 'a=1', 'Value supplied for "cookies" argument must be an array.'],
    ['no value', [{ name: 'a' }], 'Each cookie to set must at least provide a "name" and "value"'],
    ['an empty value', [{ name: 'a', value: '' }], 'Each cookie to set must at least provide a "name" and "value"'],
    ['no name', [{ value: '1' }], 'Each cookie to set must at least provide a "name" and "value"'],
    ['a duplicate name', [{ name: 'a', value: '1' }, { name: 'a', value: '2' }], 'You may not specify the same cookie name twice.'],
    ['a duplicate name after stripping', [{ name: 'a', value: '1' }, { name: 'a\r\n', value: '2' }], 'You may not specify the same cookie name twice.'],
    ['an illegal name character', [{ name: 'a=b', value: '1' }], 'Illegal character = in cookie name'],
    ['an illegal value character', [{ name: 'a', value: 'x,y' }], 'Illegal character , in cookie value'],
    ['a backslash in the value', [{ name: 'a', value: 'x\\y' }], 'Illegal character \\ in cookie value'],
    ['an illegal path character', [{ name: 'a', value: '1', path: '/p;q' }], 'Illegal character ; in cookie path'],
    ['CR/LF in the path', [{ name: 'a', value: '1', path: '/p\r\nX-Injected: 1' }], 'Illegal character \r in cookie path'],
    ['a non-string domain', [{ name: 'a', value: '1', domain: 5 }], 'Domain must be specified and must be a string.'],
    ['an illegal domain character', [{ name: 'a', value: '1', domain: 'a;b' }], 'Illegal character ; in cookie domain'],
    ['expires not a Date', [{ name: 'a', value: '1', expires: 'tomorrow' }], 'Value supplied for cookie "expires" must be a valid date object'],
    ['an invalid Date', [{ name: 'a', value: '1', expires: new Date('nope') }], 'Value supplied for cookie "expires" must be a valid date object'],
    ['a non-numeric maxage', [{ name: 'a', value: '1', maxage: 'abc' }], 'Value supplied for cookie "maxage" must be a non-zero number'],
    ['a negative maxage', [{ name: 'a', value: '1', maxage: -5 }], 'Value supplied for cookie "maxage" must be a non-zero number'],
    ['a non-boolean secure', [{ name: 'a', value: '1', secure: 'yes' }], 'Value supplied for cookie "secure" must be of type boolean'],
    ['a non-boolean httponly', [{ name: 'a', value: '1', httponly: 1 }], 'Value supplied for cookie "httponly" must be of type boolean'],
  ];

  describe('cookie validation', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer();
      server.wss.on('request', () => undefined);
    });
    afterAll(() => server.close());

    it.each(cookieFailures)('%s: accept throws and the client gets 500', async (_name, cookies, message) => {
      const { request, exchange } = await pending(server);
      const connects: WebSocketConnection[] = [];
      server.wss.on('connect', (c) => connects.push(c));
      try {
        const error = thrownBy(() => request.accept(null, null, cookies as SetCookie[]));
        expect(error.message).toBe(message);
        expect(await exchange.response).toBe('HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n');
        expect(request._resolved).toBe(true);
        expect(server.wss.pendingRequests).toEqual([]);
        expect(connects).toEqual([]);
      } finally {
        server.wss.removeAllListeners('connect');
      }
    });
  });
});

describe('reject', () => {
  it('writes the exact status line, reason and extra headers, then closes', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server);
    const events: string[] = [];
    request.on('requestResolved', () => events.push('resolved'));
    request.on('requestRejected', (r) => events.push(`rejected:${r === request}`));
    request.reject(418, 'go away', { 'X-Extra': 'yes', 'Retry-After': 30 });
    expect(events).toEqual(['resolved', 'rejected:true']);
    expect(await exchange.response).toBe(
      "HTTP/1.1 418 I'm a Teapot\r\nConnection: close\r\nX-WebSocket-Reject-Reason: go away\r\nX-Extra: yes\r\nRetry-After: 30\r\n\r\n",
    );
    expect(server.wss.pendingRequests).toEqual([]);
  });

  it('defaults to 403 with no reason', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server);
    request.reject();
    expect(await exchange.response).toBe('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
  });

  it('throws a RangeError for a status that is not a refusal, and stays unresolved', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server);
    for (const status of [101, 200, 299, 600, 1000, 404.5]) {
      expect(() => request.reject(status)).toThrow(new RangeError(`reject() needs an HTTP status from 300 to 599 (a refusal), got ${status}.`));
    }
    expect(request._resolved).toBe(false);
    request.reject(302, 'moved', { Location: '/elsewhere' });
    expect(await exchange.response).toBe('HTTP/1.1 302 Found\r\nConnection: close\r\nX-WebSocket-Reject-Reason: moved\r\nLocation: /elsewhere\r\n\r\n');
  });

  it('answers 403 for a status that is not a number', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server);
    request.reject('500' as unknown as number, 'string status');
    expect(await exchange.response).toBe('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nX-WebSocket-Reject-Reason: string status\r\n\r\n');
  });

  it('strips CR/LF from the reason and extra headers, so nothing can be injected', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server);
    request.reject(400, 'bad\r\nX-Injected: 1\r\n\r\nHTTP/1.1 200 OK', {
      'X-Extra': 'v\r\nX-Injected2: 2',
      'X-Evil\r\nX-Injected3': 'k',
      'X-Newline\n': 'line\nfeed',
    });
    const response = await exchange.response;
    expect(response).toBe(
      [
        'HTTP/1.1 400 Bad Request',
        'Connection: close',
        'X-WebSocket-Reject-Reason: badX-Injected: 1HTTP/1.1 200 OK',
        'X-Extra: vX-Injected2: 2',
        'X-EvilX-Injected3: k',
        'X-Newline: linefeed',
        '',
        '',
      ].join('\r\n'),
    );
    const lines = response.split(/\r\n|\n|\r/);
    expect(lines.filter((line) => /^X-Injected/i.test(line))).toEqual([]);
    expect(lines.filter((line) => line.startsWith('HTTP/'))).toEqual(['HTTP/1.1 400 Bad Request']);
  });
});

describe('a client reset while the request is pending', () => {
  it('does not crash the server, which keeps serving; a later accept closes with 1006', async () => {
    const server = await serve();
    const held: WebSocketRequest[] = [];
    server.wss.on('request', (request) => {
      if (request.resource === '/hold') {
        held.push(request);
        return;
      }
      const connection = request.accept();
      connection.on('message', (m) => connection.sendUTF(m.type === 'utf8' ? m.utf8Data : ''));
    });
    const { request, exchange } = await pending(server, { path: '/hold' });
    expect(server.wss.pendingRequests).toEqual([request]);
    const serverSocketClosed = nextEvent(request.socket, 'close');
    exchange.socket.resetAndDestroy();
    await serverSocketClosed;
    expect(request._socketIsClosing).toBe(true);
    expect(server.wss.pendingRequests).toEqual([]);

    // The process is alive and serving.
    const ws = await pool.open(server.url);
    expect(await echo(ws, 'still here')).toBe('still here');

    const serverCloses: Array<[number, string]> = [];
    server.wss.on('close', (_c, code, description) => serverCloses.push([code, description]));
    const connection = request.accept();
    expect(connection).toBeInstanceOf(WebSocketConnection);
    const [code, description] = await nextEvent<[number, string]>(connection, 'close');
    expect([code, description]).toEqual([1006, 'TCP connection lost before handshake completed.']);
    expect(connection.closeReasonCode).toBe(1006);
    expect(serverCloses).toEqual([[1006, 'TCP connection lost before handshake completed.']]);
    expect(server.wss.connections).toHaveLength(1);
    expect(held).toEqual([request]);
  });

  it('a later reject after the reset neither throws nor writes', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server);
    const serverSocketClosed = nextEvent(request.socket, 'close');
    exchange.socket.resetAndDestroy();
    await serverSocketClosed;
    expect(() => request.reject(400, 'too late')).not.toThrow();
    expect(request._resolved).toBe(true);
  });
});

describe('a client that hangs up while its request waits for the application', () => {
  it('is noticed at once: the socket closes and the request leaves pendingRequests, long before handshakeTimeout', async () => {
    const server = await serve({ handshakeTimeout: 60000 });
    server.wss.on('request', () => undefined);
    const { request, exchange } = await pending(server);
    expect(server.wss.pendingRequests).toEqual([request]);
    const serverSocketClosed = nextEvent(request.socket, 'close');
    exchange.socket.end();
    await serverSocketClosed;
    expect(request._socketIsClosing).toBe(true);
    expect(server.wss.pendingRequests).toEqual([]);
    expect(await exchange.response).toBe('');

    // The application's late answer writes nothing and crashes nothing.
    const connection = request.accept();
    const [code] = await nextEvent<[number, string]>(connection, 'close');
    expect(code).toBe(1006);
    expect(server.wss.connections).toEqual([]);
  });

  it('a late reject after the hang-up neither throws nor writes', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server);
    const serverSocketClosed = nextEvent(request.socket, 'close');
    exchange.socket.end();
    await serverSocketClosed;
    expect(() => request.reject(401)).not.toThrow();
    expect(await exchange.response).toBe('');
  });

  it('keeps what the client sent before the 101 and delivers it first, in order, after a late accept', async () => {
    const server = await holdingServer();
    const { request, exchange } = await pending(server, { head: maskedFrame(0x1, 'one') });
    exchange.socket.write(maskedFrame(0x1, 'two'));
    exchange.socket.write(maskedFrame(0x1, 'three'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const connection = request.accept();
    const got: string[] = [];
    connection.on('message', (m) => got.push(m.type === 'utf8' ? m.utf8Data : 'binary'));
    exchange.socket.write(maskedFrame(0x1, 'four'));
    await waitUntil(() => got.length === 4, 5000, 'four messages');
    expect(got).toEqual(['one', 'two', 'three', 'four']);
  });

  it('stops reading after 64 KiB sent before the 101, and delivers all of it after a late accept', async () => {
    const server = await serve({ maxReceivedFrameSize: 1 << 20, maxReceivedMessageSize: 1 << 20 });
    server.wss.on('request', () => undefined);
    const { request, exchange } = await pending(server);
    const frames = Array.from({ length: 40 }, (_, i) => maskedFrame(0x2, Buffer.alloc(8192, i)));
    for (const frame of frames) exchange.socket.write(frame);
    // 320 KiB offered: the server keeps at most 64 KiB plus one socket read; the rest waits in the kernel.
    await waitUntil(() => request.socket.isPaused(), 5000, 'the server to stop reading');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(request.socket.bytesRead).toBeLessThan(200 * 1024);
    const connection = request.accept();
    const got: number[] = [];
    connection.on('message', (m) => {
      if (m.type !== 'binary') return;
      const data = m.binaryData;
      if (data.length === 8192 && data.every((b) => b === data[0])) got.push(data[0]);
    });
    await waitUntil(() => got.length === 40, 5000, 'forty messages');
    expect(got).toEqual(frames.map((_, i) => i));
  });

  it('is not read before the answer when the application answers at once', async () => {
    const watch = jest.spyOn(WebSocketRequest.prototype, '_watchForHangUp');
    try {
      const server = await serve();
      server.wss.on('request', (request) => {
        if (request.resource === '/now') request.accept();
        else setImmediate(() => request.accept());
      });
      await (await pending(server, { path: '/now' })).exchange.head();
      expect(watch).not.toHaveBeenCalled();
      await (await pending(server, { path: '/later' })).exchange.head();
      expect(watch).toHaveBeenCalledTimes(1);
    } finally {
      watch.mockRestore();
    }
  });

  it('a connection paused by the application at accept stays paused after a stop in reading', async () => {
    const server = await serve();
    server.wss.on('request', () => undefined);
    const { request, exchange } = await pending(server);
    for (let i = 0; i < 20; i++) exchange.socket.write(maskedFrame(0x2, Buffer.alloc(8192, i)));
    await waitUntil(() => request.socket.isPaused(), 5000, 'the server to stop reading');
    const connection = request.accept();
    connection.pause();
    let count = 0;
    connection.on('message', () => count++);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(count).toBe(0);
    connection.resume();
    await waitUntil(() => count === 20, 5000, 'twenty messages');
  });
});
