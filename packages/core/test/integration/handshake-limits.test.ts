/**
 * Handshake limits over real sockets: the handshake timeout (408), oversized heads (431 from
 * core; what Node's own parser answers before core sees a request), and the caps on pending
 * requests and on connections (503). Every refusal also reaches `upgradeError` with its code.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { RawPeer, startServer, type TestServer } from '../helpers/raw-peer';
import { nextEvent, rawSend, rawUpgrade } from '../helpers/server-harness';
import { waitUntil } from '../helpers/integration-kit';
import { WebSocketServer, type WebSocketServerOptions } from '../../src/server';
import type { WebSocketRequest } from '../../src/request';
import type { HandshakeError } from '../../src/protocol/errors';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Omit<WebSocketServerOptions, 'httpServer'> = {}): Promise<TestServer> {
  const server = await startServer({ keepalive: false, ...options });
  cleanups.push(() => server.close());
  return server;
}

/** Every `upgradeError` of `server`, in order. */
function upgradeErrors(server: TestServer): HandshakeError[] {
  const errors: HandshakeError[] = [];
  server.wss.on('upgradeError', (error) => errors.push(error as HandshakeError));
  return errors;
}

/** Hold every request (never accept or reject) and collect them. */
function holdRequests(server: TestServer): WebSocketRequest[] {
  const held: WebSocketRequest[] = [];
  server.wss.on('request', (request) => held.push(request));
  return held;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

/** An HTTP server on 127.0.0.1:0 with a WebSocketServer mounted, built from `httpOptions`. */
async function nodeServer(httpOptions: Parameters<typeof createServer>[0]): Promise<{ http: Server; wss: WebSocketServer; port: number; seen: string[] }> {
  const http = createServer(httpOptions, (_req, res) => res.end());
  const wss = new WebSocketServer({ httpServer: http, keepalive: false });
  const seen: string[] = [];
  wss.on('request', (request) => {
    seen.push('request');
    request.reject(400);
  });
  wss.on('upgradeError', (error) => seen.push(`upgradeError ${(error as HandshakeError).code}`));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        wss.shutDown();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  );
  return { http, wss, port: (http.address() as AddressInfo).port, seen };
}

describe('handshakeTimeout', () => {
  it('answers a request the application never decides with 408 and closes it', async () => {
    const server = await serve({ handshakeTimeout: 150 });
    const errors = upgradeErrors(server);
    const held = holdRequests(server);
    const exchange = await rawUpgrade(server.port);
    expect(await exchange.response).toBe(
      'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nX-WebSocket-Reject-Reason: The WebSocket handshake was not accepted or rejected within 150 ms.\r\n\r\n',
    );
    expect(errors.map((e) => [e.code, e.httpCode])).toEqual([['WS_ERR_HANDSHAKE_TIMEOUT', 408]]);
    expect(server.wss.pendingRequests).toEqual([]);
    // Answered once: a late decision is refused like any second answer.
    expect(() => held[0].accept()).toThrow('WebSocketRequest may only be accepted or rejected one time.');
  });

  it('is on by default (10 s) and can be turned off with 0', async () => {
    expect((await serve()).wss.config?.handshakeTimeout).toBe(10000);
    const server = await serve({ handshakeTimeout: 0 });
    const before = timers();
    holdRequests(server);
    const requested = nextEvent(server.wss, 'request');
    const exchange = await rawUpgrade(server.port);
    await requested;
    expect(timers()).toBe(before);
    expect(server.wss.pendingRequests).toHaveLength(1);
    exchange.socket.destroy();
  });

  it('clears its timer when the request is answered, or when its socket goes away first', async () => {
    const server = await serve({ handshakeTimeout: 60_000 });
    const held = holdRequests(server);
    const before = timers();

    let requested = nextEvent(server.wss, 'request');
    const first = await rawUpgrade(server.port);
    await requested;
    expect(timers()).toBe(before + 1);
    held[0].reject(403);
    expect(timers()).toBe(before);
    await first.response;

    requested = nextEvent(server.wss, 'request');
    const second = await rawUpgrade(server.port);
    await requested;
    expect(timers()).toBe(before + 1);
    second.socket.resetAndDestroy();
    await waitUntil(() => server.wss.pendingRequests.length === 0, 5000, 'the reset request to be forgotten');
    expect(timers()).toBe(before);
  });

  it("leaves a socket that never completes its request head to Node's headersTimeout: 408 before core sees anything", async () => {
    const { port, seen } = await nodeServer({ headersTimeout: 200, requestTimeout: 400, connectionsCheckingInterval: 50 });
    const exchange = await rawSend(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'));
    expect(await exchange.response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(seen).toEqual([]);
  });
});

describe('oversized and malformed upgrade heads', () => {
  it('answers a head over maxHandshakeHeaderSize with 431 and no request event', async () => {
    const server = await serve({ maxHandshakeHeaderSize: 1024 });
    const errors = upgradeErrors(server);
    const held = holdRequests(server);
    const exchange = await rawUpgrade(server.port, { headers: { 'X-Padding': 'a'.repeat(1200) } });
    const response = await exchange.response;
    expect(response).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\nConnection: close\r\nX-WebSocket-Reject-Reason: Request header fields too large \(\d+ bytes; the limit is 1024\)\.\r\n\r\n$/);
    expect(errors.map((e) => [e.code, e.httpCode])).toEqual([['WS_ERR_HANDSHAKE_HEADERS_TOO_LARGE', 431]]);
    expect(held).toEqual([]);

    // Just under the limit is fine.
    const under = await rawUpgrade(server.port, { headers: { 'X-Padding': 'a'.repeat(700) } });
    await waitUntil(() => held.length === 1, 5000, 'the request under the limit');
    expect(errors).toHaveLength(1);
    under.socket.destroy();
  });

  it("lets Node's parser answer what it refuses before core sees it: 431 past maxHeaderSize, 400 for a malformed header line", async () => {
    const { port, seen } = await nodeServer({ maxHeaderSize: 4096 });
    const big = await rawUpgrade(port, { headers: { 'X-Padding': 'a'.repeat(5000) } });
    expect(await big.response).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    const malformed = await rawSend(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nBad Header Line\r\n\r\n'));
    expect(await malformed.response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const control = await rawSend(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0001b\r\n\r\n'));
    expect(await control.response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(seen).toEqual([]);
  });

  it('answers what does reach core but breaks the handshake rules with 400 (two keys joined by Node)', async () => {
    const server = await serve();
    const errors = upgradeErrors(server);
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    await closed;
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(errors.map((e) => e.httpCode)).toEqual([400]);
  });
});

describe('caps', () => {
  it('answers 503 past maxPendingRequests, and takes requests again once one is decided', async () => {
    const server = await serve({ maxPendingRequests: 2 });
    const errors = upgradeErrors(server);
    const held = holdRequests(server);
    const a = await rawUpgrade(server.port, { path: '/a' });
    const b = await rawUpgrade(server.port, { path: '/b' });
    await waitUntil(() => held.length === 2, 5000, 'two pending requests');
    const c = await rawUpgrade(server.port, { path: '/c' });
    expect(await c.response).toBe('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nX-WebSocket-Reject-Reason: Too many WebSocket handshakes in progress.\r\n\r\n');
    expect(errors.map((e) => [e.code, e.httpCode])).toEqual([['WS_ERR_HANDSHAKE_TOO_MANY_PENDING', 503]]);
    expect(held.map((r) => r.resource)).toEqual(['/a', '/b']);

    held[0].reject(401);
    await a.response;
    const d = await rawUpgrade(server.port, { path: '/d' });
    await waitUntil(() => held.length === 3, 5000, 'the request after one was decided');
    expect(server.wss.pendingRequests.map((r) => r.resource)).toEqual(['/b', '/d']);
    b.socket.destroy();
    d.socket.destroy();
  });

  it('answers 503 past maxConnections (pending requests count), and accepts again once one closes', async () => {
    const server = await serve({ maxConnections: 2 });
    const errors = upgradeErrors(server);
    server.wss.on('request', (request) => {
      if (request.resource !== '/hold') request.accept();
    });
    const first = await RawPeer.connect(server.port);
    expect(first.status).toBe(101);
    const held = await rawUpgrade(server.port, { path: '/hold' });
    await waitUntil(() => server.wss.pendingRequests.length === 1, 5000, 'the held request');
    const refused = await RawPeer.connect(server.port);
    expect(refused.status).toBe(503);
    expect(refused.header('X-WebSocket-Reject-Reason')).toBe('Too many WebSocket connections.');
    expect(errors.map((e) => [e.code, e.httpCode])).toEqual([['WS_ERR_HANDSHAKE_TOO_MANY_CONNECTIONS', 503]]);
    expect(server.wss.connections).toHaveLength(1);

    first.destroy();
    await waitUntil(() => server.wss.connections.length === 0, 5000, 'the first connection to close');
    const next = await RawPeer.connect(server.port);
    expect(next.status).toBe(101);
    next.destroy();
    held.socket.destroy();
  });

  it('has both caps on by default', async () => {
    const server = await serve();
    expect(server.wss.config?.maxPendingRequests).toBe(1000);
    expect(server.wss.config?.maxConnections).toBe(50000);
    expect(server.wss.config?.maxHandshakeHeaderSize).toBe(16384);
  });
});
