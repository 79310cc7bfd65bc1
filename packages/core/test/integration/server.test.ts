/**
 * WebSocketServer over real sockets: config and validation, mounting, events, dispatch,
 * bookkeeping, closing, broadcasting, `head` bytes and two servers on one http.Server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { RawPeer, startServer, type TestServer } from '../helpers/raw-peer';
import { ClientPool, echo, maskedFrame, nextClose, nextEvent, nextMessage, rawUpgrade, thrownBy } from '../helpers/server-harness';
import { WebSocketServer } from '../../src/server';
import { WebSocketRequest } from '../../src/request';
import { WebSocketConnection } from '../../src/connection';

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

/** Accept every request and echo text and binary messages. */
function acceptAndEcho(wss: WebSocketServer): void {
  wss.on('request', (request) => {
    const connection = request.accept(request.requestedProtocols[0] ?? null, request.origin);
    echoOn(connection);
  });
}

function echoOn(connection: WebSocketConnection): void {
  connection.on('message', (message) => {
    if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
}

async function listen(http: Server): Promise<number> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  );
  return (http.address() as AddressInfo).port;
}

function dropAll(...servers: WebSocketServer[]): void {
  for (const wss of servers) {
    wss.shutDown();
    for (const connection of [...wss.connections]) connection.drop(1001, 'test over', true);
  }
}

const DEFAULTS = {
  perMessageDeflate: false,
  maxReceivedFrameSize: 0x10000,
  maxReceivedMessageSize: 0x100000,
  fragmentOutgoingMessages: true,
  fragmentationThreshold: 0x4000,
  keepalive: true,
  keepaliveInterval: 20000,
  dropConnectionOnKeepaliveTimeout: true,
  keepaliveGracePeriod: 10000,
  useNativeKeepalive: false,
  assembleFragments: true,
  autoAcceptConnections: false,
  ignoreXForwardedFor: false,
  parseCookies: true,
  parseExtensions: true,
  disableNagleAlgorithm: true,
  closeTimeout: 5000,
  noServer: false,
  // Additions (on by default; see COMPATIBILITY.md).
  handshakeTimeout: 10000,
  maxPendingRequests: 1000,
  maxConnections: 50000,
  maxHandshakeHeaderSize: 16384,
  maxBufferedAmount: 8 * 1024 * 1024,
  bufferOverflowPolicy: 'close',
  allowedOrigins: undefined,
};

describe('construction and config', () => {
  it('leaves config undefined without a config, with empty lists', () => {
    const wss = new WebSocketServer();
    expect(wss.config).toBeUndefined();
    expect(wss.connections).toEqual([]);
    expect(wss.pendingRequests).toEqual([]);
  });

  it('mount throws without an httpServer', () => {
    const message = 'You must specify an httpServer on which to mount the WebSocket server.';
    expect(() => new WebSocketServer().mount({})).toThrow(new Error(message));
    expect(() => new WebSocketServer({ httpServer: undefined })).toThrow(new Error(message));
    expect(() => new WebSocketServer({ keepalive: false })).toThrow(new Error(message));
    const wss = new WebSocketServer();
    expect(() => wss.mount({ httpServer: null as never })).toThrow(new Error(message));
    expect(wss.config).toBeUndefined();
  });

  it('merges WebSocket-Node\'s defaults at mount; httpServer becomes an array', () => {
    const http = createServer();
    const wss = new WebSocketServer();
    wss.mount({ httpServer: http });
    expect(wss.config).toEqual({ ...DEFAULTS, httpServer: [http] });
    expect(wss.config?.httpServer[0]).toBe(http);
    expect(http.listenerCount('upgrade')).toBe(1);
    wss.unmount();
    expect(http.listenerCount('upgrade')).toBe(0);
  });

  it('keeps an array of servers, user values and unknown keys', () => {
    const a = createServer();
    const b = createServer();
    const wss = new WebSocketServer({ httpServer: [a, b], maxReceivedFrameSize: 1000, closeTimeout: 0, myOwnKey: 'kept' });
    expect(wss.config?.httpServer).toEqual([a, b]);
    expect(wss.config?.maxReceivedFrameSize).toBe(1000);
    expect(wss.config?.closeTimeout).toBe(0);
    expect(wss.config?.myOwnKey).toBe('kept');
    expect(wss.config?.maxReceivedMessageSize).toBe(0x100000);
    expect(a.listenerCount('upgrade')).toBe(1);
    expect(b.listenerCount('upgrade')).toBe(1);
    wss.unmount();
  });

  it.each<[string, Record<string, unknown>, ErrorConstructor, string]>([
    ['maxReceivedFrameSize "x"', { maxReceivedFrameSize: 'x' }, TypeError, 'Option "maxReceivedFrameSize" must be a number, got "x".'],
    ['maxReceivedMessageSize 1.5', { maxReceivedMessageSize: 1.5 }, RangeError, 'Option "maxReceivedMessageSize" must be a positive integer (bytes), got 1.5.'],
    ['fragmentationThreshold 0', { fragmentationThreshold: 0 }, RangeError, 'Option "fragmentationThreshold" must be a positive integer (bytes), got 0.'],
    ['fragmentationThreshold NaN', { fragmentationThreshold: NaN }, TypeError, 'Option "fragmentationThreshold" must be a number, got NaN.'],
    ['closeTimeout -1', { closeTimeout: -1 }, RangeError, 'Option "closeTimeout" must be a non-negative number of milliseconds, got -1.'],
    ['closeTimeout "5"', { closeTimeout: '5' }, RangeError, 'Option "closeTimeout" must be a non-negative number of milliseconds, got "5".'],
    ['autoAcceptConnections "yes"', { autoAcceptConnections: 'yes' }, TypeError, 'Option "autoAcceptConnections" must be a boolean, got "yes".'],
    ['keepaliveInterval "a"', { keepalive: true, keepaliveInterval: 'a' }, TypeError, 'keepaliveInterval must be specified and numeric if keepalive is true.'],
    [
      'keepaliveGracePeriod "b"',
      { keepalive: true, keepaliveGracePeriod: 'b' },
      TypeError,
      'keepaliveGracePeriod  must be specified and numeric if dropConnectionOnKeepaliveTimeout is true.',
    ],
    ['httpServer {}', { httpServer: {} }, TypeError, 'httpServer must be an http.Server or https.Server (or an array of them).'],
  ])('rejects %s at construction', (_name, options, ErrorType, message) => {
    const http = createServer();
    const error = thrownBy(() => new WebSocketServer({ httpServer: http, ...options }));
    expect(error).toBeInstanceOf(ErrorType);
    expect(error.message).toBe(message);
    // Nothing was mounted.
    expect(http.listenerCount('upgrade')).toBe(0);
  });

  it('does not check keepalive numbers when keepalive is off', () => {
    const http = createServer();
    const options: Record<string, unknown> = { httpServer: http, keepalive: false, keepaliveInterval: 'a', keepaliveGracePeriod: 'b' };
    const wss = new WebSocketServer(options);
    expect(wss.config?.keepalive).toBe(false);
    wss.unmount();
  });

  it('handleUpgrade before mount throws', () => {
    expect(() => new WebSocketServer().handleUpgrade({} as IncomingMessage, {} as Duplex)).toThrow(
      new Error('WebSocketServer is not mounted: call mount(config) or pass a config to the constructor first.'),
    );
  });
});

describe('mounting', () => {
  it('serves two http servers at once', async () => {
    const a = createServer();
    const b = createServer();
    const wss = new WebSocketServer({ httpServer: [a, b] });
    cleanups.push(() => dropAll(wss));
    acceptAndEcho(wss);
    const portA = await listen(a);
    const portB = await listen(b);
    const wsA = await pool.open(`ws://127.0.0.1:${portA}/a`);
    const wsB = await pool.open(`ws://127.0.0.1:${portB}/b`);
    expect(await echo(wsA, 'to a')).toBe('to a');
    expect(await echo(wsB, 'to b')).toBe('to b');
    expect(wss.connections).toHaveLength(2);
  });

  it('unmount stops handling upgrades but leaves open connections alone', async () => {
    const server = await serve();
    const requests: WebSocketRequest[] = [];
    server.wss.on('request', (request) => requests.push(request));
    acceptAndEcho(server.wss);
    const ws = await pool.open(server.url);
    expect(requests).toHaveLength(1);

    server.wss.unmount();
    expect(server.http.listenerCount('upgrade')).toBe(0);
    // The http.Server now treats the upgrade as a plain request (our test handler answers 404).
    const peer = await RawPeer.connect(server.port);
    expect(peer.status).toBe(404);
    expect(peer.header('X-WebSocket-Reject-Reason')).toBeUndefined();
    peer.destroy();
    expect(requests).toHaveLength(1);

    expect(await echo(ws, 'still open')).toBe('still open');
    expect(server.wss.connections).toHaveLength(1);
  });
});

describe('events', () => {
  it('emits request with a WebSocketRequest, and connect synchronously inside accept', async () => {
    const server = await serve();
    const order: string[] = [];
    let connected: WebSocketConnection | undefined;
    let returned: WebSocketConnection | undefined;
    let seenRequest: WebSocketRequest | undefined;
    server.wss.on('connect', (connection) => {
      order.push('connect');
      connected = connection;
      expect(server.wss.connections).toEqual([connection]);
    });
    server.wss.on('request', (request) => {
      seenRequest = request;
      order.push('request');
      returned = request.accept();
      order.push('accept returned');
    });
    const ws = await pool.open(`${server.url}/events?x=1`);
    expect(order).toEqual(['request', 'connect', 'accept returned']);
    expect(seenRequest).toBeInstanceOf(WebSocketRequest);
    expect(seenRequest?.resource).toBe('/events?x=1');
    expect(connected).toBeInstanceOf(WebSocketConnection);
    expect(connected).toBe(returned);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('emits close(connection, code, description) after removing the connection', async () => {
    const server = await serve();
    acceptAndEcho(server.wss);
    const ws = await pool.open(server.url);
    const [connection] = server.wss.connections;
    let listAtClose: WebSocketConnection[] | undefined;
    const closed = new Promise<[WebSocketConnection, number, string]>((resolve) =>
      server.wss.on('close', (c, code, description) => {
        listAtClose = [...server.wss.connections];
        resolve([c, code, description]);
      }),
    );
    ws.close(4001, 'bye now');
    const [closedConnection, code, description] = await closed;
    expect(closedConnection).toBe(connection);
    expect(code).toBe(4001);
    expect(description).toBe('bye now');
    expect(listAtClose).toEqual([]);
    expect(server.wss.connections).toEqual([]);
  });

  it('emits close with the server\'s own code when the server closes', async () => {
    const server = await serve();
    acceptAndEcho(server.wss);
    const ws = await pool.open(server.url);
    const closed = nextEvent<[WebSocketConnection, number, string]>(server.wss, 'close');
    const clientClosed = nextClose(ws);
    server.wss.connections[0].close(4002, 'server says bye');
    const [, code, description] = await closed;
    expect([code, description]).toEqual([4002, 'server says bye']);
    expect(await clientClosed).toEqual({ code: 4002, reason: 'server says bye' });
  });

  it('emits upgradeError for an invalid handshake, and no request', async () => {
    const server = await serve();
    const requests: WebSocketRequest[] = [];
    server.wss.on('request', (request) => requests.push(request));
    const errorEvent = nextEvent<[Error & { httpCode: number }]>(server.wss, 'upgradeError');
    const peer = await RawPeer.connect(server.port, { headers: { 'Sec-WebSocket-Key': 'not-a-key' } });
    const [error] = await errorEvent;
    expect(error.message).toBe('Sec-WebSocket-Key must be a base64-encoded 16-byte value.');
    expect(error.httpCode).toBe(400);
    expect(peer.status).toBe(400);
    expect(requests).toEqual([]);
    peer.destroy();
  });
});

describe('dispatch', () => {
  it('autoAcceptConnections accepts with the first protocol and emits no request', async () => {
    const server = await serve({ autoAcceptConnections: true });
    const requests: WebSocketRequest[] = [];
    server.wss.on('request', (request) => requests.push(request));
    const connects: WebSocketConnection[] = [];
    server.wss.on('connect', (connection) => {
      connects.push(connection);
      echoOn(connection);
    });
    const ws = await pool.open(server.url, ['first', 'second']);
    expect(ws.protocol).toBe('first');
    expect(await echo(ws, 'auto')).toBe('auto');
    expect(requests).toEqual([]);
    expect(connects).toHaveLength(1);
    expect(connects[0].protocol).toBe('first');

    const peer = await RawPeer.connect(server.port, { headers: { 'Sec-WebSocket-Protocol': 'Alpha, beta', Origin: 'http://origin.example' } });
    expect(peer.status).toBe(101);
    expect(peer.header('Sec-WebSocket-Protocol')).toBe('Alpha');
    expect(peer.header('Origin')).toBe('http://origin.example');
    expect(requests).toEqual([]);
    peer.destroy();

    const plain = await RawPeer.connect(server.port);
    expect(plain.status).toBe(101);
    expect(plain.header('Sec-WebSocket-Protocol')).toBeUndefined();
    plain.destroy();
  });

  it('answers 404 when nobody listens for requests', async () => {
    const server = await serve();
    const exchange = await rawUpgrade(server.port);
    expect(await exchange.response).toBe(
      'HTTP/1.1 404 Not Found\r\nConnection: close\r\nX-WebSocket-Reject-Reason: No handler is configured to accept the connection.\r\n\r\n',
    );
    expect(server.wss.pendingRequests).toEqual([]);
    expect(server.wss.connections).toEqual([]);
  });
});

describe('pendingRequests', () => {
  async function pendingRequest(server: TestServer, path = '/'): Promise<{ request: WebSocketRequest; exchange: Awaited<ReturnType<typeof rawUpgrade>> }> {
    const requestEvent = nextEvent<[WebSocketRequest]>(server.wss, 'request');
    const exchange = await rawUpgrade(server.port, { path });
    const [request] = await requestEvent;
    return { request, exchange };
  }

  it('holds a request from the request event until it is accepted', async () => {
    const server = await serve();
    let atEmit: WebSocketRequest[] = [];
    server.wss.on('request', (request) => {
      atEmit = [...server.wss.pendingRequests];
      expect(atEmit[0]).toBe(request);
    });
    const { request, exchange } = await pendingRequest(server);
    expect(atEmit).toHaveLength(1);
    expect(server.wss.pendingRequests).toEqual([request]);
    request.accept();
    expect(server.wss.pendingRequests).toEqual([]);
    expect(server.wss.connections).toHaveLength(1);
    exchange.socket.destroy();
  });

  it('removes a request when it is rejected', async () => {
    const server = await serve();
    server.wss.on('request', () => undefined);
    const { request, exchange } = await pendingRequest(server);
    expect(server.wss.pendingRequests).toEqual([request]);
    request.reject(401, 'nope');
    expect(server.wss.pendingRequests).toEqual([]);
    expect(await exchange.response).toBe('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nX-WebSocket-Reject-Reason: nope\r\n\r\n');
  });

  it('removes a request whose socket closes, and a late accept gives a dropped connection', async () => {
    const server = await serve();
    server.wss.on('request', () => undefined);
    const { request, exchange } = await pendingRequest(server);
    const serverSocketClosed = nextEvent(request.socket, 'close');
    // A reset is seen at once; a plain FIN is only read once the request is answered.
    exchange.socket.resetAndDestroy();
    await serverSocketClosed;
    expect(server.wss.pendingRequests).toEqual([]);
    expect(request._socketIsClosing).toBe(true);

    const closes: Array<[number, string]> = [];
    server.wss.on('close', (_c, code, description) => closes.push([code, description]));
    const connection = request.accept();
    const [code, description] = await nextEvent<[number, string]>(connection, 'close');
    expect([code, description]).toEqual([1006, 'TCP connection lost before handshake completed.']);
    expect(closes).toEqual([[1006, 'TCP connection lost before handshake completed.']]);
    expect(server.wss.connections).toEqual([]);
  });

  it('keeps several pending requests in arrival order', async () => {
    const server = await serve();
    server.wss.on('request', () => undefined);
    const first = await pendingRequest(server, '/one');
    const second = await pendingRequest(server, '/two');
    expect(server.wss.pendingRequests.map((r) => r.resource)).toEqual(['/one', '/two']);
    first.request.reject();
    expect(server.wss.pendingRequests.map((r) => r.resource)).toEqual(['/two']);
    second.request.reject();
    expect(server.wss.pendingRequests).toEqual([]);
    await Promise.all([first.exchange.response, second.exchange.response]);
  });
});

describe('closing', () => {
  it('closeAllConnections closes connections with 1000 and answers pending requests with 503', async () => {
    const server = await serve();
    server.wss.on('request', (request) => {
      if (request.resource === '/hold') return;
      echoOn(request.accept());
    });
    const ws1 = await pool.open(server.url);
    const ws2 = await pool.open(server.url);
    const requestEvent = nextEvent<[WebSocketRequest]>(server.wss, 'request');
    const held = await rawUpgrade(server.port, { path: '/hold' });
    await requestEvent;
    expect(server.wss.pendingRequests).toHaveLength(1);

    const closes = [nextClose(ws1), nextClose(ws2)];
    server.wss.closeAllConnections();
    expect(await Promise.all(closes)).toEqual([
      { code: 1000, reason: 'Normal connection closure' },
      { code: 1000, reason: 'Normal connection closure' },
    ]);
    expect(await held.response).toBe('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
    expect(server.wss.pendingRequests).toEqual([]);

    // Still mounted: new clients are served.
    const ws3 = await pool.open(server.url);
    expect(await echo(ws3, 'again')).toBe('again');
  });

  it('shutDown unmounts and closes everything', async () => {
    const server = await serve();
    const requests: WebSocketRequest[] = [];
    server.wss.on('request', (request) => {
      requests.push(request);
      echoOn(request.accept());
    });
    const ws = await pool.open(server.url);
    const closed = nextClose(ws);
    server.wss.shutDown();
    expect(await closed).toEqual({ code: 1000, reason: 'Normal connection closure' });
    expect(server.http.listenerCount('upgrade')).toBe(0);
    const peer = await RawPeer.connect(server.port);
    expect(peer.status).toBe(404);
    expect(peer.header('X-WebSocket-Reject-Reason')).toBeUndefined();
    peer.destroy();
    expect(requests).toHaveLength(1);
  });
});

describe('broadcast', () => {
  async function threeClients(server: TestServer): Promise<WebSocket[]> {
    const clients = [await pool.open(server.url), await pool.open(server.url), await pool.open(server.url)];
    expect(server.wss.connections).toHaveLength(3);
    return clients;
  }

  async function allReceive(clients: WebSocket[], send: () => unknown): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
    const messages = Promise.all(clients.map((ws) => nextMessage(ws)));
    expect(send()).toBeUndefined();
    return messages;
  }

  it('broadcast, broadcastUTF and broadcastBytes reach every connection', async () => {
    const server = await serve();
    acceptAndEcho(server.wss);
    const clients = await threeClients(server);

    const text = await allReceive(clients, () => server.wss.broadcast('hello all'));
    expect(text.map((m) => [m.data.toString(), m.isBinary])).toEqual(Array(3).fill(['hello all', false]));

    const bytes = await allReceive(clients, () => server.wss.broadcast(Buffer.from([1, 2, 3])));
    expect(bytes.map((m) => [[...m.data], m.isBinary])).toEqual(Array(3).fill([[1, 2, 3], true]));

    const view = await allReceive(clients, () => server.wss.broadcast(new Uint8Array([9, 8])));
    expect(view.map((m) => [[...m.data], m.isBinary])).toEqual(Array(3).fill([[9, 8], true]));

    const object = await allReceive(clients, () => server.wss.broadcast({ toString: () => 'from toString' }));
    expect(object.map((m) => [m.data.toString(), m.isBinary])).toEqual(Array(3).fill(['from toString', false]));

    const number = await allReceive(clients, () => server.wss.broadcast(42 as unknown as string));
    expect(number.map((m) => m.data.toString())).toEqual(['42', '42', '42']);

    const utf = await allReceive(clients, () => server.wss.broadcastUTF('ünïcödé ✓'));
    expect(utf.map((m) => [m.data.toString('utf8'), m.isBinary])).toEqual(Array(3).fill(['ünïcödé ✓', false]));

    const raw = await allReceive(clients, () => server.wss.broadcastBytes(Buffer.from('raw bytes')));
    expect(raw.map((m) => [m.data.toString(), m.isBinary])).toEqual(Array(3).fill(['raw bytes', true]));
  });

  it('broadcast(null) and broadcast(undefined) throw TypeError; broadcastBytes needs a Buffer', async () => {
    const server = await serve();
    expect(thrownBy(() => server.wss.broadcast(null as never))).toBeInstanceOf(TypeError);
    expect(thrownBy(() => server.wss.broadcast(undefined as never))).toBeInstanceOf(TypeError);
    const error = thrownBy(() => server.wss.broadcastBytes('text' as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('You must pass a Node Buffer object to WebSocketServer.prototype.broadcastBytes()');
  });

  it('a broadcast above fragmentationThreshold arrives intact, in fragments', async () => {
    const server = await serve({ fragmentationThreshold: 1024 });
    acceptAndEcho(server.wss);
    const clients = await threeClients(server);
    const peer = await RawPeer.connect(server.port);
    expect(server.wss.connections).toHaveLength(4);

    const text = 'abcdefghij'.repeat(500) + '✓';
    // Framed once, as one buffer: each socket writes a single piece, not two per fragment.
    const handed: Array<readonly Buffer[]> = [];
    for (const connection of server.wss.connections) {
      const original = connection.sendEncodedFrames.bind(connection);
      jest.spyOn(connection, 'sendEncodedFrames').mockImplementation((frames, cb) => {
        handed.push(frames);
        return original(frames, cb);
      });
    }
    const received = await allReceive(clients, () => server.wss.broadcast(text));
    expect(handed).toHaveLength(4);
    for (const frames of handed) expect(frames).toEqual([handed[0][0]]);
    expect(received.map((m) => [m.data.toString(), m.isBinary])).toEqual(Array(3).fill([text, false]));

    const frames = await peer.waitFor((f) => f.some((frame) => frame.fin));
    const bytes = Buffer.byteLength(text);
    expect(frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([
      [1, false, 1024],
      [0, false, 1024],
      [0, false, 1024],
      [0, false, 1024],
      [0, true, bytes - 4096],
    ]);
    expect(Buffer.concat(frames.map((f) => f.payload)).toString()).toBe(text);

    const binary = Buffer.alloc(3000);
    for (let i = 0; i < binary.length; i++) binary[i] = i % 251;
    const receivedBinary = await allReceive(clients, () => server.wss.broadcastBytes(binary));
    for (const m of receivedBinary) {
      expect(m.isBinary).toBe(true);
      expect(m.data.equals(binary)).toBe(true);
    }
    peer.destroy();
  });
});

describe('handleUpgrade with head bytes', () => {
  it('delivers a frame written in the same TCP write as the handshake', async () => {
    const server = await serve();
    const received = new Promise<string>((resolve) => {
      server.wss.on('request', (request) => {
        const connection = request.accept();
        connection.on('message', (message) => resolve(message.type === 'utf8' ? message.utf8Data : 'binary'));
      });
    });
    const peer = await RawPeer.connect(server.port, { head: maskedFrame(0x1, 'sent with the handshake') });
    expect(peer.status).toBe(101);
    expect(await received).toBe('sent with the handshake');
    peer.destroy();
  });

  it('joins a frame split between the head and later socket data, in order', async () => {
    const server = await serve();
    const messages: string[] = [];
    const gotThree = new Promise<void>((resolve) => {
      server.wss.on('request', (request) => {
        const connection = request.accept();
        connection.on('message', (message) => {
          messages.push(message.type === 'utf8' ? message.utf8Data : `binary:${message.binaryData.toString('hex')}`);
          if (messages.length === 3) resolve();
        });
        // A protocol error would close the connection: fail with what arrived instead of timing out.
        connection.on('close', (code, description) => {
          messages.push(`close ${code} ${description}`);
          resolve();
        });
      });
    });
    const second = maskedFrame(0x2, Buffer.from([0xca, 0xfe]));
    const peer = await RawPeer.connect(server.port, {
      head: Buffer.concat([maskedFrame(0x1, 'sent with the handshake'), second.subarray(0, 3)]),
    });
    expect(peer.status).toBe(101);
    peer.write(second.subarray(3));
    peer.sendFrame(0x1, 'after the handshake');
    await gotThree;
    expect(messages).toEqual(['sent with the handshake', 'binary:cafe', 'after the handshake']);
    peer.destroy();
  });

  it('processes head bytes passed to handleUpgrade by a framework', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(() => dropAll(wss));
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => wss.handleUpgrade(request, socket, head));
    const received = new Promise<string>((resolve) => {
      wss.on('request', (request) => {
        const connection = request.accept();
        connection.on('message', (message) => resolve(message.type === 'utf8' ? message.utf8Data : 'binary'));
      });
    });
    const port = await listen(http);
    const peer = await RawPeer.connect(port, { head: maskedFrame(0x1, 'early bird') });
    expect(peer.status).toBe(101);
    expect(await received).toBe('early bird');
    peer.destroy();
  });
});

describe('two WebSocketServers on one http.Server', () => {
  it('does not crash when the first has no request listener', async () => {
    const http = createServer();
    const first = new WebSocketServer({ httpServer: http });
    const second = new WebSocketServer({ httpServer: http });
    cleanups.push(() => dropAll(first, second));
    const secondRequests: WebSocketRequest[] = [];
    second.on('request', (request) => {
      secondRequests.push(request);
      request.accept();
    });
    const port = await listen(http);
    const exchange = await rawUpgrade(port);
    expect(await exchange.response).toBe(
      'HTTP/1.1 404 Not Found\r\nConnection: close\r\nX-WebSocket-Reject-Reason: No handler is configured to accept the connection.\r\n\r\n',
    );
    expect(secondRequests).toEqual([]);

    // Still serving: a server with a listener mounted first takes the next requests.
    first.on('request', (request) => echoOn(request.accept()));
    const ws = await pool.open(`ws://127.0.0.1:${port}`);
    expect(await echo(ws, 'alive')).toBe('alive');
  });

  it('lets only the first server answer when both accept', async () => {
    const http = createServer();
    const first = new WebSocketServer({ httpServer: http });
    const second = new WebSocketServer({ httpServer: http });
    cleanups.push(() => dropAll(first, second));
    first.on('request', (request) => {
      const connection = request.accept();
      connection.on('message', (m) => connection.sendUTF(`first:${m.type === 'utf8' ? m.utf8Data : ''}`));
    });
    const secondRequests: WebSocketRequest[] = [];
    second.on('request', (request) => {
      secondRequests.push(request);
      request.accept();
    });
    const port = await listen(http);
    const ws = await pool.open(`ws://127.0.0.1:${port}`);
    expect(await echo(ws, 'x')).toBe('first:x');
    expect(first.connections).toHaveLength(1);
    expect(second.connections).toHaveLength(0);
    expect(secondRequests).toEqual([]);
  });
});
