/**
 * WebSocketRouter over real sockets: path forms (exact string, '*', RegExp), protocol forms
 * (named, '*', none), dispatch order, 404, mount/unmount/attach/detach errors, and the
 * WebSocketRouterRequest handed to handlers.
 */
import { startServer, type TestServer } from '../helpers/raw-peer';
import { ClientPool, echo, headOf, nextEvent, rawUpgrade, thrownBy, type RawExchange, type RawUpgradeOptions } from '../helpers/server-harness';
import { WebSocketRouter, type RouterCallback } from '../../src/router';
import { WebSocketRouterRequest } from '../../src/router-request';
import { WebSocketRequest } from '../../src/request';
import { WebSocketConnection } from '../../src/connection';
import { WebSocketServer } from '../../src/server';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const NOT_FOUND = 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nX-WebSocket-Reject-Reason: No handler is available for the given request.\r\n\r\n';

const pool = new ClientPool();
let server: TestServer;
let router: WebSocketRouter;
const exchanges: RawExchange[] = [];

beforeEach(async () => {
  server = await startServer();
  router = new WebSocketRouter({ server: server.wss });
});

afterEach(async () => {
  await pool.closeAll();
  for (const exchange of exchanges.splice(0)) exchange.socket.destroy();
  await server.close();
});

/** A handler that records the router requests it gets and accepts them with an echo. */
function acceptingHandler(name: string, log: string[]): RouterCallback {
  return (request) => {
    log.push(`${name}:${request.protocol}`);
    const connection = request.accept();
    connection.on('message', (m) => connection.sendUTF(`${name}:${m.type === 'utf8' ? m.utf8Data : ''}`));
  };
}

async function upgrade(options: RawUpgradeOptions): Promise<RawExchange> {
  const exchange = await rawUpgrade(server.port, options);
  exchanges.push(exchange);
  return exchange;
}

/** The status line of the handshake reply, once it arrives. */
async function statusOf(options: RawUpgradeOptions): Promise<string> {
  const exchange = await upgrade(options);
  return (await exchange.head()).split('\r\n')[0];
}

describe('paths', () => {
  it('a string path matches exactly, ignoring the query string', async () => {
    const log: string[] = [];
    router.mount('/chat', 'chat', acceptingHandler('chat', log));
    const ws = await pool.open(`${server.url}/chat?room=1`, 'chat');
    expect(ws.protocol).toBe('chat');
    expect(await echo(ws, 'hi')).toBe('chat:hi');
    expect(log).toEqual(['chat:chat']);

    for (const path of ['/chat/sub', '/Chat', '/chatroom', '/', '/x/chat']) {
      const exchange = await upgrade({ path, headers: { 'Sec-WebSocket-Protocol': 'chat' } });
      expect(await exchange.response).toBe(NOT_FOUND);
    }
    expect(log).toEqual(['chat:chat']);
  });

  it('a string path is escaped, not a pattern', async () => {
    const log: string[] = [];
    router.mount('/a.b', null, acceptingHandler('dot', log));
    expect((await (await upgrade({ path: '/axb' })).response)).toBe(NOT_FOUND);
    expect(await statusOf({ path: '/a.b' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(log).toEqual(['dot:null']);
  });

  it("'*' matches any path", async () => {
    const log: string[] = [];
    router.mount('*', null, acceptingHandler('any', log));
    expect(await statusOf({ path: '/' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(await statusOf({ path: '/deep/nested/path?q=1' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(log).toEqual(['any:null', 'any:null']);
  });

  it('a RegExp is used as given (not anchored)', async () => {
    const log: string[] = [];
    router.mount(/room\/\d+/, null, acceptingHandler('room', log));
    expect(await statusOf({ path: '/lobby/room/42/chat' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(await statusOf({ path: '/room/7' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(await (await upgrade({ path: '/room/x' })).response).toBe(NOT_FOUND);
    expect(log).toEqual(['room:null', 'room:null']);
  });

  it('a global RegExp matches on every request (lastIndex does not leak)', async () => {
    const log: string[] = [];
    router.mount(/^\/g$/g, null, acceptingHandler('g', log));
    expect(await statusOf({ path: '/g' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(await statusOf({ path: '/g' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(log).toEqual(['g:null', 'g:null']);
  });
});

describe('protocols', () => {
  it("'*' matches any protocol and hands over the client's first, lower-cased", async () => {
    const log: string[] = [];
    router.mount('/p', '*', acceptingHandler('star', log));
    const exchange = await upgrade({ path: '/p', headers: { 'Sec-WebSocket-Key': RFC_KEY, 'Sec-WebSocket-Protocol': 'Foo, bar' } });
    expect(headOf(await exchange.head())).toBe(`${SWITCHING}\r\nSec-WebSocket-Protocol: Foo`);
    // '*' also takes clients that request no protocol.
    expect(await statusOf({ path: '/p' })).toBe('HTTP/1.1 101 Switching Protocols');
    expect(log).toEqual(['star:foo', 'star:null']);
  });

  it('a falsy protocol handles clients that request none, and only those', async () => {
    const log: string[] = [];
    router.mount('/none', null, acceptingHandler('none', log));
    const ws = await pool.open(`${server.url}/none`);
    expect(ws.protocol).toBe('');
    expect(await echo(ws, 'plain')).toBe('none:plain');
    expect(await (await upgrade({ path: '/none', headers: { 'Sec-WebSocket-Protocol': 'chat' } })).response).toBe(NOT_FOUND);
    expect(log).toEqual(['none:null']);
    // undefined and '' mean the same: no protocol.
    expect(thrownBy(() => router.mount('/none', undefined, () => undefined)).message).toBe('You may only mount one handler per path/protocol combination.');
    expect(thrownBy(() => router.mount('/none', '', () => undefined)).message).toBe('You may only mount one handler per path/protocol combination.');
  });

  it('mounted protocols are case-insensitive', async () => {
    const log: string[] = [];
    router.mount('/c', 'CHAT', acceptingHandler('chat', log));
    expect(router.handlers[0].protocol).toBe('chat');
    const ws = await pool.open(`${server.url}/c`, 'Chat');
    expect(ws.protocol).toBe('Chat');
    expect(log).toEqual(['chat:chat']);
  });
});

describe('dispatch order', () => {
  it("client protocol order is the outer loop: '*' wins for the first protocol over a specific handler for the second", async () => {
    const log: string[] = [];
    router.mount('/o', 'second', acceptingHandler('specific', log));
    router.mount('/o', '*', acceptingHandler('star', log));
    const ws = await pool.open(`${server.url}/o`, ['first', 'second']);
    expect(ws.protocol).toBe('first');
    expect(await echo(ws, 'm')).toBe('star:m');
    expect(log).toEqual(['star:first']);
  });

  it('the client\'s earlier protocol wins even when its handler was mounted later', async () => {
    const log: string[] = [];
    router.mount('/o', 'b', acceptingHandler('b', log));
    router.mount('/o', 'a', acceptingHandler('a', log));
    const ws = await pool.open(`${server.url}/o`, ['a', 'b']);
    expect(ws.protocol).toBe('a');
    expect(log).toEqual(['a:a']);
  });

  it('falls through to the next protocol when the first has no handler', async () => {
    const log: string[] = [];
    router.mount('/o', 'b', acceptingHandler('b', log));
    const ws = await pool.open(`${server.url}/o`, ['a', 'b']);
    expect(ws.protocol).toBe('b');
    expect(log).toEqual(['b:b']);
  });

  it('mount order is the inner loop: the first matching handler wins', async () => {
    const log: string[] = [];
    router.mount(/^\/q/, 'x', acceptingHandler('regex', log));
    router.mount('/q', 'x', acceptingHandler('exact', log));
    const ws = await pool.open(`${server.url}/q`, 'x');
    expect(await echo(ws, 'who')).toBe('regex:who');
    expect(log).toEqual(['regex:x']);
  });

  it("answers 404 'No handler is available for the given request.' when nothing matches", async () => {
    router.mount('/only', 'chat', () => {
      throw new Error('must not be called');
    });
    const exchange = await upgrade({ path: '/other', headers: { 'Sec-WebSocket-Protocol': 'chat' } });
    expect(await exchange.response).toBe(NOT_FOUND);
    const wrongProtocol = await upgrade({ path: '/only', headers: { 'Sec-WebSocket-Protocol': 'other' } });
    expect(await wrongProtocol.response).toBe(NOT_FOUND);
    expect(server.wss.pendingRequests).toEqual([]);
  });
});

describe('mount and unmount', () => {
  it('rejects bad mounts', () => {
    const callback: RouterCallback = () => undefined;
    expect(thrownBy(() => router.mount('', 'p', callback)).message).toBe('You must specify a path for this handler.');
    expect(thrownBy(() => router.mount(null as never, 'p', callback)).message).toBe('You must specify a path for this handler.');
    expect(thrownBy(() => router.mount('/x', 'p', undefined as never)).message).toBe('You must specify a callback for this handler.');
    expect(thrownBy(() => router.mount(42 as never, 'p', callback)).message).toBe('Path must be specified as either a string or a RegExp.');
    router.mount('/x', 'p', callback);
    expect(thrownBy(() => router.mount('/x', 'p', callback)).message).toBe('You may only mount one handler per path/protocol combination.');
    expect(thrownBy(() => router.mount('/x', 'P', callback)).message).toBe('You may only mount one handler per path/protocol combination.');
    expect(thrownBy(() => router.mount(/^\/x$/, 'p', callback)).message).toBe('You may only mount one handler per path/protocol combination.');
    // Same path with another protocol, or another path with the same protocol, is fine.
    router.mount('/x', 'q', callback);
    router.mount('/y', 'p', callback);
    expect(router.handlers.map((h) => [h.pathString, h.protocol])).toEqual([
      ['/x', 'p'],
      ['/x', 'q'],
      ['/y', 'p'],
    ]);
  });

  it('stores handlers as {path, pathString, protocol, callback}', () => {
    const callback: RouterCallback = () => undefined;
    router.mount('*', null, callback);
    router.mount(/abc/i, 'Proto', callback);
    expect(router.handlers).toEqual([
      { path: /^.*$/, pathString: '*', protocol: '____no_protocol____', callback },
      { path: /abc/i, pathString: '/abc/i', protocol: 'proto', callback },
    ]);
  });

  it('unmount removes handlers; without a protocol it removes the no-protocol handler', async () => {
    const log: string[] = [];
    router.mount('/u', 'chat', acceptingHandler('chat', log));
    router.mount('/u', null, acceptingHandler('none', log));
    router.unmount('/u');
    expect(router.handlers.map((h) => h.protocol)).toEqual(['chat']);
    expect(await (await upgrade({ path: '/u' })).response).toBe(NOT_FOUND);

    router.unmount('/u', 'CHAT');
    expect(router.handlers).toEqual([]);
    expect(await (await upgrade({ path: '/u', headers: { 'Sec-WebSocket-Protocol': 'chat' } })).response).toBe(NOT_FOUND);
    expect(log).toEqual([]);
  });

  it('unmount of a RegExp path finds the same RegExp source', () => {
    router.mount(/^\/r/, 'p', () => undefined);
    router.unmount(/^\/r/, 'p');
    expect(router.handlers).toEqual([]);
  });

  it('unmount errors', () => {
    router.mount('/x', 'p', () => undefined);
    const notFound = 'Unable to find a route matching the specified path and protocol.';
    expect(thrownBy(() => router.unmount('/x', 'q')).message).toBe(notFound);
    expect(thrownBy(() => router.unmount('/y', 'p')).message).toBe(notFound);
    expect(thrownBy(() => router.unmount('/x')).message).toBe(notFound);
    expect(thrownBy(() => router.unmount(42 as never, 'p')).message).toBe('Path must be specified as either a string or a RegExp.');
    expect(router.handlers).toHaveLength(1);
  });
});

describe('attach and detach', () => {
  it('the constructor attaches to config.server', () => {
    expect(router.server).toBe(server.wss);
    expect(router.config.server).toBe(server.wss);
    expect(server.wss.listenerCount('request')).toBe(1);
  });

  it('attachServer needs a server; detachServer needs to be attached', () => {
    const loose = new WebSocketRouter();
    expect(loose.server).toBeUndefined();
    expect(thrownBy(() => loose.attachServer(undefined as never)).message).toBe('You must specify a WebSocketServer instance to attach to.');
    expect(thrownBy(() => loose.detachServer()).message).toBe('Cannot detach from server: not attached.');
    const wss = new WebSocketServer();
    loose.attachServer(wss);
    expect(loose.server).toBe(wss);
    expect(wss.listenerCount('request')).toBe(1);
    loose.detachServer();
    expect(loose.server).toBeUndefined();
    expect(wss.listenerCount('request')).toBe(0);
    expect(thrownBy(() => loose.detachServer()).message).toBe('Cannot detach from server: not attached.');
  });

  it('after detachServer the server has no handler and answers 404 itself', async () => {
    router.mount('*', '*', () => {
      throw new Error('must not be called');
    });
    router.detachServer();
    const exchange = await upgrade({ path: '/' });
    expect(await exchange.response).toBe(
      'HTTP/1.1 404 Not Found\r\nConnection: close\r\nX-WebSocket-Reject-Reason: No handler is configured to accept the connection.\r\n\r\n',
    );
  });
});

describe('WebSocketRouterRequest', () => {
  async function routed(options: RawUpgradeOptions, protocol: string | null = '*'): Promise<{ request: WebSocketRouterRequest; exchange: RawExchange }> {
    const got = new Promise<WebSocketRouterRequest>((resolve) => router.mount('*', protocol, resolve));
    const exchange = await upgrade(options);
    return { request: await got, exchange };
  }

  it('copies the request properties', async () => {
    const serverRequest = nextEvent<[WebSocketRequest]>(server.wss, 'request');
    const { request } = await routed({
      path: '/props/x?a=1',
      headers: {
        Origin: 'http://origin.example',
        'Sec-WebSocket-Protocol': 'Proto',
        'Sec-WebSocket-Extensions': 'x-ext; k=v',
        Cookie: 'c=1',
        'X-Forwarded-For': '9.9.9.9',
      },
    });
    const [underlying] = await serverRequest;
    expect(request).toBeInstanceOf(WebSocketRouterRequest);
    expect(request.webSocketRequest).toBe(underlying);
    expect(request.protocol).toBe('proto');
    expect(request.origin).toBe('http://origin.example');
    expect(request.resource).toBe('/props/x?a=1');
    expect(request.resourceURL.pathname).toBe('/props/x');
    expect(request.resourceURL.query).toEqual({ a: '1' });
    expect(request.httpRequest).toBe(underlying.httpRequest);
    expect(request.remoteAddress).toBe('9.9.9.9');
    expect(request.webSocketVersion).toBe(13);
    expect(request.requestedExtensions).toEqual([{ name: 'x-ext', params: [{ name: 'k', value: 'v' }] }]);
    expect(request.cookies).toEqual([{ name: 'c', value: '1' }]);
    const loose = request as unknown as Record<string, unknown>;
    expect(loose.host).toBeUndefined();
    expect(loose.remoteAddresses).toBeUndefined();
    expect(loose.requestedProtocols).toBeUndefined();
  });

  it('has a null protocol for clients that request none', async () => {
    const { request } = await routed({ path: '/' }, null);
    expect(request.protocol).toBeNull();
  });

  it('accept(origin, cookies) accepts with the matched protocol and emits requestAccepted', async () => {
    const { request, exchange } = await routed({ path: '/acc', headers: { 'Sec-WebSocket-Key': RFC_KEY, 'Sec-WebSocket-Protocol': 'one, Two' } }, 'two');
    expect(request.protocol).toBe('two');
    const accepted: WebSocketConnection[] = [];
    request.on('requestAccepted', (c) => accepted.push(c));
    const connection = request.accept('http://allowed.example', [{ name: 'sid', value: 'abc' }]);
    expect(accepted).toEqual([connection]);
    expect(connection).toBeInstanceOf(WebSocketConnection);
    expect(connection.protocol).toBe('two');
    expect(server.wss.connections).toEqual([connection]);
    expect(headOf(await exchange.head())).toBe(`${SWITCHING}\r\nSec-WebSocket-Protocol: Two\r\nOrigin: http://allowed.example\r\nSet-Cookie: sid=abc`);
  });

  it('reject(status, reason, extraHeaders) delegates and emits requestRejected', async () => {
    const { request, exchange } = await routed({ path: '/rej' });
    const rejected: WebSocketRouterRequest[] = [];
    request.on('requestRejected', (r) => rejected.push(r));
    request.reject(401, 'who are you', { 'WWW-Authenticate': 'Bearer' });
    expect(rejected).toEqual([request]);
    expect(request.webSocketRequest._resolved).toBe(true);
    expect(await exchange.response).toBe(
      'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nX-WebSocket-Reject-Reason: who are you\r\nWWW-Authenticate: Bearer\r\n\r\n',
    );
    expect(server.wss.pendingRequests).toEqual([]);
  });
});
