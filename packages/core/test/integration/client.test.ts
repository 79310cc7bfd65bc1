import { Agent, createServer as createHttpServer, globalAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketClient } from '../../src/client';
import { CLIENT_DEFAULTS } from '../../src/client-config';
import type { WebSocketConnection } from '../../src/connection';
import type { ClientExtensionNegotiator } from '../../src/protocol/client-handshake';
import { computeAcceptKey, isValidKey } from '../../src/protocol/handshake';
import * as core from '../../src/index';
import { EvilServer, acceptResponse, buildFrame } from '../helpers/evil-server';
import { Cleanup, nextEvent, openClient, startEchoServer, type Implementation } from '../helpers/interop-peers';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Connect `client` and resolve with the connection, or reject with the `connectFailed` error. */
function connectClient(client: WebSocketClient, ...args: Parameters<WebSocketClient['connect']>): Promise<WebSocketConnection> {
  return new Promise((resolve, reject) => {
    client.once('connect', (connection) => {
      cleanup.add(connection, (c) => c.drop(1001, '', true));
      resolve(connection);
    });
    client.once('connectFailed', reject);
    client.connect(...args);
  });
}

/** Connect and resolve with the `connectFailed` error; rejects if the connection opens. */
function connectFailure(client: WebSocketClient, ...args: Parameters<WebSocketClient['connect']>): Promise<Error & { code?: string; statusCode?: number }> {
  return new Promise((resolve, reject) => {
    client.once('connect', (connection) => {
      connection.drop(1001, '', true);
      reject(new Error('connected, but a failure was expected'));
    });
    client.once('connectFailed', resolve);
    client.connect(...args);
  });
}

async function evilServer(respond?: Parameters<typeof EvilServer.start>[0]): Promise<EvilServer> {
  return cleanup.add(await EvilServer.start(respond), (server) => server.close());
}

async function unusedPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('WebSocketClient config', () => {
  it("uses WebSocket-Node's client defaults", () => {
    expect(new WebSocketClient().config).toEqual({
      maxReceivedFrameSize: 0x100000,
      maxReceivedMessageSize: 0x800000,
      fragmentOutgoingMessages: true,
      fragmentationThreshold: 0x4000,
      webSocketVersion: 13,
      assembleFragments: true,
      disableNagleAlgorithm: true,
      closeTimeout: 5000,
      tlsOptions: {},
      keepalive: false,
      keepaliveInterval: 20000,
      dropConnectionOnKeepaliveTimeout: true,
      keepaliveGracePeriod: 10000,
      useNativeKeepalive: false,
      perMessageDeflate: true,
    });
    expect(Object.isFrozen(CLIENT_DEFAULTS)).toBe(true);
  });

  it("accepts webSocketVersion 8 and 13 and throws WebSocket-Node's message for others", () => {
    expect(new WebSocketClient({ webSocketVersion: 8 }).config.webSocketVersion).toBe(8);
    for (const webSocketVersion of [7, 14, '13']) {
      expect(() => new WebSocketClient({ webSocketVersion } as never)).toThrow(
        new RangeError('Requested webSocketVersion is not supported. Allowed values are 8 and 13.'),
      );
    }
  });

  it("merges tlsOptions into a copy and never changes the caller's object", () => {
    const tlsOptions = { rejectUnauthorized: false, servername: 'example' };
    const config = { tlsOptions, closeTimeout: 100 };
    const a = new WebSocketClient(config);
    const b = new WebSocketClient(config);
    expect(config).toEqual({ tlsOptions: { rejectUnauthorized: false, servername: 'example' }, closeTimeout: 100 });
    expect(config.tlsOptions).toBe(tlsOptions);
    expect(a.config.tlsOptions).toEqual(tlsOptions);
    expect(a.config.tlsOptions).not.toBe(tlsOptions);
    expect(a.config.tlsOptions).not.toBe(b.config.tlsOptions);
    expect(a.config).not.toBe(b.config);
  });

  it('passes unknown keys through and rejects bad values with the option named', () => {
    expect(new WebSocketClient({ custom: 1 }).config.custom).toBe(1);
    expect(() => new WebSocketClient({ maxReceivedFrameSize: -1 })).toThrow(RangeError);
    expect(() => new WebSocketClient({ maxReceivedFrameSize: -1 })).toThrow('"maxReceivedFrameSize"');
    expect(() => new WebSocketClient({ fragmentOutgoingMessages: 'yes' } as never)).toThrow(TypeError);
    expect(() => new WebSocketClient({ keepalive: true, keepaliveInterval: 'x' } as never)).toThrow(
      'keepaliveInterval must be specified and numeric if keepalive is true.',
    );
    expect(() => new WebSocketClient('x' as never)).toThrow(new TypeError('WebSocketClient config must be an object, got string.'));
    expect(() => new WebSocketClient({ tlsOptions: 'x' } as never)).toThrow('Option "tlsOptions" must be an object');
    expect(() => new WebSocketClient(null)).not.toThrow();
  });

  it('is the `client` export and the lib/WebSocketClient deep require', () => {
    expect(core.client).toBe(WebSocketClient);
    expect(core.WebSocketClient).toBe(WebSocketClient);
    expect(require('../../src/lib/WebSocketClient')).toBe(WebSocketClient);
  });
});

describe('WebSocketClient.connect arguments', () => {
  it("throws at once for a bad protocol list, with WebSocket-Node's message, and sends nothing", () => {
    const client = new WebSocketClient();
    const failed = jest.fn();
    client.on('connectFailed', failed);
    expect(() => client.connect('ws://127.0.0.1:1/', ['chat', 'bad protocol'])).toThrow(new TypeError('Protocol list contains invalid character " "'));
    expect(() => client.connect('ws://127.0.0.1:1/', 'a;b')).toThrow('Protocol list contains invalid character ";"');
    expect(client._req).toBeNull();
    expect(failed).not.toHaveBeenCalled();
  });

  it('throws at once for URLs without a ws/wss scheme instead of misreading them', () => {
    const client = new WebSocketClient();
    expect(() => client.connect('localhost:8080/chat')).toThrow('Unsupported URL scheme "localhost:"');
    expect(() => client.connect('127.0.0.1:8080')).toThrow('You must specify a full WebSocket URL, including protocol.');
    expect(() => client.connect('/chat')).toThrow('You must specify a full WebSocket URL, including protocol.');
    expect(() => client.connect('ftp://example.com/')).toThrow('Unsupported URL scheme "ftp:"');
    expect(() => client.connect('ws://')).toThrow('You must specify a full WebSocket URL, including hostname. Relative URLs are not supported.');
    expect(client._req).toBeNull();
  });
});

const PAIRS: Array<[Implementation, Implementation]> = [
  ['wsuite', 'wsuite'],
  ['wsuite', 'ws'],
  ['ws', 'wsuite'],
];

describe.each(PAIRS)('%s client with a %s server', (clientKind, serverKind) => {
  async function pair(protocols?: string[], serverProtocols: string[] = ['chat', 'superchat']) {
    const server = cleanup.add(await startEchoServer(serverKind, { protocols: serverProtocols }), (s) => s.close());
    const client = cleanup.add(await openClient(clientKind, server.url, { protocols }), (c) => c.terminate());
    return { server, client };
  }

  it('exchanges text messages, including non-ASCII text', async () => {
    const { client } = await pair();
    client.send('hello');
    client.send('κόσμε \u{1F600} \u0000 end');
    expect(await client.messages.next('first echo')).toBe('hello');
    expect(await client.messages.next('second echo')).toBe('κόσμε \u{1F600} \u0000 end');
  });

  it('exchanges binary messages', async () => {
    const { client } = await pair();
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    client.send(bytes);
    const echoed = await client.messages.next('binary echo');
    expect(Buffer.isBuffer(echoed)).toBe(true);
    expect(echoed).toEqual(bytes);
  });

  it('delivers empty text and empty binary messages', async () => {
    const { client } = await pair();
    client.send('');
    client.send(Buffer.alloc(0));
    client.send('after');
    expect(await client.messages.next('empty text')).toBe('');
    expect(await client.messages.next('empty binary')).toEqual(Buffer.alloc(0));
    expect(await client.messages.next('marker')).toBe('after');
  });

  it('exchanges 16 MiB text and binary messages', async () => {
    const { client } = await pair();
    const binary = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < binary.length; i += 4096) binary.writeUInt32BE(i, i);
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(binary.length / 36)).slice(0, binary.length);
    client.send(binary);
    client.send(text);
    const echoedBinary = (await client.messages.next('16 MiB binary', 30000)) as Buffer;
    expect(echoedBinary.length).toBe(binary.length);
    expect(echoedBinary.equals(binary)).toBe(true);
    const echoedText = (await client.messages.next('16 MiB text', 30000)) as string;
    expect(echoedText.length).toBe(text.length);
    expect(echoedText === text).toBe(true);
  }, 60000);

  it('reassembles messages the server sends in fragments', async () => {
    const { client } = await pair();
    const text = 'fragmented ü message '.repeat(50);
    client.send(`!fragments:7:${text}`);
    expect(await client.messages.next('fragmented message')).toBe(text);
    client.send('!fragments:1:single');
    expect(await client.messages.next('single-frame message')).toBe('single');
  });

  it('answers server pings with pongs, and gets pongs for its own pings', async () => {
    const { client } = await pair();
    client.ping(Buffer.from('client-ping'));
    expect((await client.pongs.next('pong from the server')).toString()).toBe('client-ping');
    client.send('!ping:server-ping');
    expect(await client.messages.next('server report of our pong')).toBe('pong:server-ping');
  });

  it('negotiates the first requested subprotocol the server supports', async () => {
    const { server, client } = await pair(['unknown', 'superchat', 'chat']);
    expect(client.protocol).toBe('superchat');
    expect(server.requests[0].protocols).toEqual(['unknown', 'superchat', 'chat']);
  });

  it('client-initiated close: both sides see the code and reason', async () => {
    const { server, client } = await pair();
    client.close(4000, 'client bye');
    expect(await server.closes.next('server close')).toEqual({ code: 4000, reason: 'client bye' });
    // A wsuite client reports its own close; ws reports the server's reply (code echoed, no text).
    expect(await client.closed).toEqual({ code: 4000, reason: clientKind === 'wsuite' ? 'client bye' : '' });
  });

  it('server-initiated close: the client sees the code and reason', async () => {
    const { server, client } = await pair();
    client.send('!close:4001:server bye');
    expect(await client.closed).toEqual({ code: 4001, reason: 'server bye' });
    expect((await server.closes.next('server close')).code).toBe(4001);
  });

  it('the server drops the TCP connection: the client closes with 1006', async () => {
    const { client } = await pair();
    client.send('!drop');
    expect((await client.closed).code).toBe(1006);
  });

  it('the client drops the TCP connection: the server closes with 1006', async () => {
    const { server, client } = await pair();
    client.send('ready?');
    await client.messages.next('echo');
    client.terminate();
    expect((await server.closes.next('server close')).code).toBe(1006);
  });
});

describe.each(['wsuite', 'ws'] as const)('wsuite client with a %s server that supports none of the requested subprotocols', (serverKind) => {
  it('opens with no subprotocol (as browsers do; WebSocket-Node failed here)', async () => {
    const server = cleanup.add(await startEchoServer(serverKind, { protocols: ['chat'] }), (s) => s.close());
    const client = cleanup.add(await openClient('wsuite', server.url, { protocols: ['unknown', 'other'] }), (c) => c.terminate());
    expect(client.protocol).toBeUndefined();
    expect(server.requests[0].protocols).toEqual(['unknown', 'other']);
    client.send('still works');
    expect(await client.messages.next('echo')).toBe('still works');
  });
});

describe('WebSocketClient sending fragments', () => {
  it.each(['wsuite', 'ws'] as const)('splits messages over fragmentationThreshold; a %s server reassembles them', async (serverKind) => {
    const server = cleanup.add(await startEchoServer(serverKind), (s) => s.close());
    const client = cleanup.add(await openClient('wsuite', server.url, { config: { fragmentationThreshold: 1000 } }), (c) => c.terminate());
    const text = 'x'.repeat(3500);
    const bytes = Buffer.alloc(2001, 7);
    client.send(text);
    client.send(bytes);
    expect(await client.messages.next('text')).toBe(text);
    expect(await client.messages.next('binary')).toEqual(bytes);
  });

  it('sends ceil(length / threshold) frames, only the last with FIN', async () => {
    const server = await evilServer();
    const connection = await connectClient(new WebSocketClient({ fragmentationThreshold: 1000 }), server.url());
    const peer = await server.nextPeer();
    connection.sendUTF('y'.repeat(3500));
    const [message] = await peer.waitForMessages(1);
    expect(message.frameCount).toBe(4);
    expect(peer.frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([
      [1, false, 1000],
      [0, false, 1000],
      [0, false, 1000],
      [0, true, 500],
    ]);
  });
});

describe('WebSocketClient handshake request', () => {
  it('sends the path, query, Host, Origin and custom headers, and forces the handshake headers', async () => {
    const server = await evilServer();
    const client = new WebSocketClient({ perMessageDeflate: false });
    await connectClient(client, server.url('/chat/room?x=1&y=%20'), null, 'https://app.example', { 'X-Custom': 'yes', 'Sec-WebSocket-Version': '99', Upgrade: 'h2c' });
    const { request } = await server.nextPeer();
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/chat/room?x=1&y=%20');
    expect(request.headers).toMatchObject({
      host: `127.0.0.1:${server.port}`,
      origin: 'https://app.example',
      'x-custom': 'yes',
      'sec-websocket-version': '13',
      upgrade: 'websocket',
      connection: 'Upgrade',
    });
    expect(request.headers).not.toHaveProperty('sec-websocket-protocol');
    expect(request.headers).not.toHaveProperty('sec-websocket-extensions');
    expect(isValidKey(request.key)).toBe(true);
    expect(client.base64nonce).toBe(request.key);
    expect(client.url?.href).toBe(server.url('/chat/room?x=1&y=%20'));
    expect(client.secure).toBe(false);
  });

  it('sends Sec-WebSocket-Origin and version 8 when webSocketVersion is 8', async () => {
    const server = await evilServer();
    const connection = await connectClient(new WebSocketClient({ webSocketVersion: 8 }), server.url(), [], 'https://o.example');
    const { request } = await server.nextPeer();
    expect(request.headers['sec-websocket-version']).toBe('8');
    expect(request.headers['sec-websocket-origin']).toBe('https://o.example');
    expect(request.headers).not.toHaveProperty('origin');
    expect(connection.webSocketVersion).toBe(8);
  });

  it('sends URL credentials as Basic authorization', async () => {
    const server = await evilServer();
    await connectClient(new WebSocketClient(), `ws://user:p%40ss@127.0.0.1:${server.port}/`);
    const { request } = await server.nextPeer();
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('uses a fresh connection (agent: false) by default', async () => {
    const server = await evilServer(() => null);
    const client = new WebSocketClient();
    client.connect(server.url());
    const req = client._req as ClientRequest & { agent: Agent };
    expect(req).not.toBeNull();
    expect(req.agent).not.toBe(globalAgent);
    client.abort();
  });

  it('connects through the agent given in extraRequestOptions', async () => {
    const server = await evilServer();
    const created: string[] = [];
    class CountingAgent extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>): Duplex {
        const options = args[0] as { host?: string; port?: number };
        created.push(`${options.host}:${options.port}`);
        return super.createConnection(...args) as Duplex;
      }
    }
    await connectClient(new WebSocketClient(), server.url(), null, null, null, { agent: new CountingAgent() });
    expect(created).toEqual([`127.0.0.1:${server.port}`]);
  });

  it('works through an HTTP CONNECT proxy reached by a custom agent', async () => {
    const echo = cleanup.add(await startEchoServer('wsuite'), (s) => s.close());
    const tunnels: string[] = [];
    const proxy = createHttpServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, clientSocket: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = netConnect(Number(port), host, () => {
        clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      upstream.on('error', () => clientSocket.destroy());
      clientSocket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    cleanup.add(proxy, (p) => new Promise<void>((resolve) => {
      p.closeAllConnections();
      p.close(() => resolve());
    }));
    const proxyPort = (proxy.address() as AddressInfo).port;
    class TunnelAgent extends Agent {
      override createConnection(options: { host?: string | null; port?: number | null }, callback: (error: Error | null, socket: Duplex) => void): Duplex {
        const connectRequest = httpRequest({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${options.host}:${options.port}`, agent: false });
        connectRequest.on('connect', (_res, socket) => callback(null, socket));
        connectRequest.on('error', (error) => callback(error, undefined as unknown as Duplex));
        connectRequest.end();
        return undefined as unknown as Duplex;
      }
    }
    const connection = await connectClient(new WebSocketClient(), echo.url + '/through-proxy', null, null, null, { agent: new TunnelAgent() });
    expect(tunnels).toEqual([`127.0.0.1:${echo.port}`]);
    expect(echo.requests[0].path).toBe('/through-proxy');
    const echoed = nextEvent<[{ type: string; utf8Data?: string }]>(connection, 'message');
    connection.sendUTF('via proxy');
    expect((await echoed)[0].utf8Data).toBe('via proxy');
  });

  it('delivers frames that arrive with the 101 right after the connect event', async () => {
    const server = await evilServer((request) => Buffer.concat([Buffer.from(acceptResponse(request)), buildFrame({ opcode: 1, payload: 'early' }), buildFrame({ opcode: 2, payload: Buffer.from([1, 2]) })]));
    const client = new WebSocketClient();
    const received: unknown[] = [];
    const opened = new Promise<void>((resolve) => {
      client.on('connect', (connection) => {
        cleanup.add(connection, (c) => c.drop(1001, '', true));
        connection.on('message', (message) => {
          received.push(message.type === 'utf8' ? message.utf8Data : [...message.binaryData]);
          if (received.length === 2) resolve();
        });
      });
    });
    client.connect(server.url());
    await opened;
    expect(received).toEqual(['early', [1, 2]]);
    expect(client.firstDataChunk).toBeNull();
  });

  it('masks every frame with a fresh key from crypto random bytes', async () => {
    const server = await evilServer();
    const random = jest.spyOn(Math, 'random');
    const connection = await connectClient(new WebSocketClient(), server.url());
    const peer = await server.nextPeer();
    for (let i = 0; i < 20; i++) connection.sendUTF(`message ${i}`);
    connection.sendBytes(Buffer.alloc(70000, 1));
    connection.ping('p');
    connection.close(1000);
    await peer.waitForClose();
    expect(random).not.toHaveBeenCalled();
    random.mockRestore();
    // 20 texts, 70000 bytes in 5 frames of at most 16 KiB, a ping and a close.
    expect(peer.frames).toHaveLength(27);
    expect(peer.frames.every((frame) => frame.masked)).toBe(true);
    const keys = new Set(peer.frames.map((frame) => (frame.maskKey as Buffer).toString('hex')));
    expect(keys.size).toBe(peer.frames.length);
    expect(peer.messages.map((m) => m.payload.toString()).slice(0, 3)).toEqual(['message 0', 'message 1', 'message 2']);
  });

  it('negotiates extensions through a plugged-in negotiator', async () => {
    const server = await evilServer((request) => acceptResponse(request, ['Sec-WebSocket-Extensions: x-test; level=2']));
    class ExtendedClient extends WebSocketClient {
      protected override createExtensionNegotiator(): ClientExtensionNegotiator {
        return { offer: () => 'x-test', accept: (extensions) => extensions.map((e) => `${e.name}:${e.params.map((p) => `${p.name}=${p.value}`).join()}`) };
      }
    }
    const connection = await connectClient(new ExtendedClient(), server.url());
    const { request } = await server.nextPeer();
    expect(request.headers['sec-websocket-extensions']).toBe('x-test');
    expect(connection.extensions).toEqual(['x-test:level=2']);
  });
});

describe('WebSocketClient connection failures', () => {
  it('a non-101 answer fails with the status line and the headers', async () => {
    const http = createHttpServer((_req, res) => res.writeHead(404).end());
    const wss = new core.WebSocketServer({ httpServer: http });
    wss.on('request', (request) => request.reject(403, 'go away', { 'X-Extra': 'yes' }));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanup.add(http, (h) => new Promise<void>((resolve) => h.close(() => resolve())));
    const error = await connectFailure(new WebSocketClient(), `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    expect(error.message).toMatch(/^Server responded with a non-101 status: 403 Forbidden\nResponse Headers Follow:\n/);
    expect(error.message).toContain('\nx-websocket-reject-reason: go away\n');
    expect(error.message).toContain('\nx-extra: yes\n');
    expect(error.message.endsWith('\n')).toBe(true);
    expect(error).toMatchObject({ code: 'WS_ERR_SERVER_NOT_101', statusCode: 403 });
  });

  it('a non-101 answer goes to httpResponse instead of connectFailed when there is a listener', async () => {
    const server = await evilServer(() => 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 4\r\n\r\nnope');
    const client = new WebSocketClient();
    const failed = jest.fn();
    client.on('connectFailed', failed);
    const responded = nextEvent<[IncomingMessage, WebSocketClient]>(client, 'httpResponse');
    client.connect(server.url());
    const [response, emitter] = await responded;
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic');
    expect(emitter).toBe(client);
    const body = await new Promise<string>((resolve) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve(text));
    });
    expect(body).toBe('nope');
    await (await server.nextPeer()).closed;
    expect(failed).not.toHaveBeenCalled();
  });

  it('a wrong Sec-WebSocket-Accept fails and closes the socket', async () => {
    const server = await evilServer((request) => acceptResponse({ ...request, key: 'AAAAAAAAAAAAAAAAAAAAAA==' }));
    const failure = connectFailure(new WebSocketClient(), server.url());
    const peer = await server.nextPeer();
    const error = await failure;
    expect(error.message).toBe(`Sec-WebSocket-Accept header from server didn't match expected value of ${computeAcceptKey(peer.request.key)}`);
    expect(error.code).toBe('WS_ERR_SERVER_BAD_ACCEPT');
    await peer.closed;
  });

  it('a missing Sec-WebSocket-Accept fails', async () => {
    const server = await evilServer(() => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    expect((await connectFailure(new WebSocketClient(), server.url())).message).toBe('Expected Sec-WebSocket-Accept header from server');
  });

  it('a wrong Upgrade header fails', async () => {
    const server = await evilServer((request) => acceptResponse(request).replace('Upgrade: websocket', 'Upgrade: h2c'));
    expect((await connectFailure(new WebSocketClient(), server.url())).message).toBe('Expected an Upgrade: websocket header from the server');
  });

  it('a 101 without Connection: Upgrade fails with that message', async () => {
    const server = await evilServer((request) => acceptResponse(request).replace('Connection: Upgrade\r\n', ''));
    const failure = connectFailure(new WebSocketClient(), server.url());
    const peer = await server.nextPeer();
    expect((await failure).message).toBe('Expected a Connection: Upgrade header from the server');
    await peer.closed;
  });

  it('accepts Connection as a token list that contains Upgrade', async () => {
    const server = await evilServer((request) => acceptResponse(request).replace('Connection: Upgrade', 'Connection: keep-alive, Upgrade'));
    const connection = await connectClient(new WebSocketClient(), server.url());
    expect(connection.state).toBe('open');
  });

  it('a subprotocol the client did not request fails the connection', async () => {
    const server = await evilServer((request) => acceptResponse(request, ['Sec-WebSocket-Protocol: other']));
    expect((await connectFailure(new WebSocketClient(), server.url(), ['chat'])).message).toBe('Server did not respond with a requested protocol.');
    expect((await connectFailure(new WebSocketClient(), server.url())).message).toBe(
      'Server selected the subprotocol "other", but the client did not request any subprotocol.',
    );
  });

  it('a server that selects no subprotocol is accepted, with no protocol', async () => {
    const server = await evilServer();
    const client = new WebSocketClient();
    const connection = await connectClient(client, server.url(), ['chat', 'superchat']);
    expect(connection.protocol).toBeUndefined();
    expect(client.protocol).toBeUndefined();
    expect((await server.nextPeer()).request.headers['sec-websocket-protocol']).toBe('chat, superchat');
  });

  it('the selected subprotocol is reported on the connection and the client', async () => {
    const server = await evilServer((request) => acceptResponse(request, ['Sec-WebSocket-Protocol: superchat']));
    const client = new WebSocketClient();
    const connection = await connectClient(client, server.url(), ['chat', 'superchat']);
    expect(connection.protocol).toBe('superchat');
    expect(client.protocol).toBe('superchat');
  });

  it('an extension the client did not offer fails the connection', async () => {
    const server = await evilServer((request) => acceptResponse(request, ['Sec-WebSocket-Extensions: permessage-deflate']));
    const error = await connectFailure(new WebSocketClient({ perMessageDeflate: false }), server.url());
    expect(error.message).toBe('Server accepted the extension(s) "permessage-deflate", but the client did not offer any extension.');
  });

  it('offers permessage-deflate by default, and fails on an extension it did not offer', async () => {
    const server = await evilServer((request) => acceptResponse(request, ['Sec-WebSocket-Extensions: x-webkit-deflate-frame']));
    const client = new WebSocketClient();
    const error = await connectFailure(client, server.url());
    expect(error.message).toContain('x-webkit-deflate-frame');
    const { request } = await server.nextPeer();
    expect(request.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits');
  });

  it('connection refused fails with Node\'s error', async () => {
    const port = await unusedPort();
    const error = await connectFailure(new WebSocketClient(), `ws://127.0.0.1:${port}/`);
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('a DNS failure fails with Node\'s error naming the host', async () => {
    const error = await connectFailure(new WebSocketClient(), 'ws://no-such-host.invalid/');
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(error.code);
    expect(error.message).toContain('no-such-host.invalid');
  });

  it('a server that closes without answering fails with "socket hang up"', async () => {
    const server = await evilServer(() => null);
    const failure = connectFailure(new WebSocketClient(), server.url());
    (await server.nextPeer()).destroy();
    const error = await failure;
    expect(error.message).toBe('socket hang up');
    expect(error.code).toBe('ECONNRESET');
  });

  it('a handshake that does not finish within extraRequestOptions.timeout fails', async () => {
    const server = await evilServer(() => null);
    const failure = connectFailure(new WebSocketClient(), server.url(), null, null, null, { timeout: 100 });
    const peer = await server.nextPeer();
    const error = await failure;
    expect(error.message).toBe('The server did not answer the opening handshake within 100 ms.');
    expect(error.code).toBe('WS_ERR_HANDSHAKE_TIMEOUT');
    await peer.closed;
  });

  it('failures without a connectFailed listener throw nothing', async () => {
    const server = await evilServer((request) => acceptResponse({ ...request, key: 'AAAAAAAAAAAAAAAAAAAAAA==' }));
    const client = new WebSocketClient();
    const emitted = jest.spyOn(client, 'emit');
    client.connect(server.url());
    await (await server.nextPeer()).closed;
    client.connect(`ws://127.0.0.1:${await unusedPort()}/`);
    await new Promise<void>((resolve) => {
      const poll = (): void => void (emitted.mock.calls.length >= 2 ? resolve() : setTimeout(poll, 10));
      poll();
    });
    expect(emitted.mock.calls.map((call) => call[0])).toEqual(['connectFailed', 'connectFailed']);
  });
});

describe('WebSocketClient.abort', () => {
  it('cancels a pending attempt: connectFailed with an abort error, socket closed', async () => {
    const server = await evilServer(() => null);
    const client = new WebSocketClient();
    const failure = connectFailure(client, server.url());
    const peer = await server.nextPeer();
    client.abort();
    const error = await failure;
    expect(error).toMatchObject({ code: 'WS_ERR_CONNECT_ABORTED', message: 'The connection attempt was aborted: abort() was called before the server answered.' });
    expect(client._req).toBeNull();
    await peer.closed;
  });

  it('does nothing before connect or once connected', async () => {
    const server = await evilServer();
    const client = new WebSocketClient();
    expect(() => client.abort()).not.toThrow();
    const connection = await connectClient(client, server.url());
    client.abort();
    const peer = await server.nextPeer();
    connection.sendUTF('still open');
    expect((await peer.waitForMessages(1))[0].payload.toString()).toBe('still open');
  });
});

describe('WebSocketClient keepalive (server option names)', () => {
  it('pings a silent server and drops the connection with 1006 when no answer comes', async () => {
    const server = await evilServer();
    const connection = await connectClient(new WebSocketClient({ keepalive: true, keepaliveInterval: 50, keepaliveGracePeriod: 50 }), server.url());
    const peer = await server.nextPeer();
    const [code, description] = await nextEvent<[number, string]>(connection, 'close');
    expect([code, description]).toEqual([1006, 'Peer not responding.']);
    expect(peer.frames.filter((f) => f.opcode === 0x9)).toHaveLength(1);
    expect(peer.frames[0].masked).toBe(true);
  });

  it('keeps pinging and stays open while the server answers', async () => {
    const server = await evilServer();
    const connection = await connectClient(new WebSocketClient({ keepalive: true, keepaliveInterval: 30, keepaliveGracePeriod: 200 }), server.url());
    const peer = await server.nextPeer();
    const pings = (): number => peer.frames.filter((f) => f.opcode === 0x9).length;
    for (let answered = 0; answered < 3; answered++) {
      await peer.waitFor(() => pings() > answered, `ping ${answered + 1}`);
      peer.send({ opcode: 0xa });
    }
    expect(connection.state).toBe('open');
    expect(connection.connected).toBe(true);
  });
});
