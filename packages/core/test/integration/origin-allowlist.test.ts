/**
 * The `allowedOrigins` option over real sockets: a list (serialized origins, compared
 * case-insensitively) or a function; other origins, and requests without one, get 403 before any
 * `request` event.
 */
import type { IncomingMessage } from 'node:http';
import { RawPeer, startServer, type TestServer } from '../helpers/raw-peer';
import type { WebSocketServerOptions } from '../../src/server';
import type { HandshakeError } from '../../src/protocol/errors';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server that accepts every request that reaches it, recording requests and refusals. */
async function serve(options: Omit<WebSocketServerOptions, 'httpServer'>): Promise<{ server: TestServer; requests: string[]; refusals: Array<[string, number]> }> {
  const server = await startServer({ keepalive: false, ...options });
  cleanups.push(() => server.close());
  const requests: string[] = [];
  const refusals: Array<[string, number]> = [];
  server.wss.on('request', (request) => {
    requests.push(request.origin ?? '(none)');
    request.accept();
  });
  server.wss.on('upgradeError', (error) => refusals.push([(error as HandshakeError).code, (error as HandshakeError).httpCode]));
  return { server, requests, refusals };
}

async function statusFor(server: TestServer, headers: Record<string, string | null>): Promise<{ status: number; reason: string | undefined }> {
  const peer = await RawPeer.connect(server.port, { headers, expectUpgrade: false });
  const result = { status: peer.status, reason: peer.header('X-WebSocket-Reject-Reason') };
  peer.destroy();
  return result;
}

describe('allowedOrigins as a list', () => {
  it('lets listed origins through (any letter case) and refuses others with 403 before the request event', async () => {
    const { server, requests, refusals } = await serve({ allowedOrigins: ['https://example.com', 'http://localhost:3000'] });
    expect(await statusFor(server, { Origin: 'https://example.com' })).toEqual({ status: 101, reason: undefined });
    expect(await statusFor(server, { Origin: 'HTTPS://Example.COM' })).toEqual({ status: 101, reason: undefined });
    expect(await statusFor(server, { Origin: 'http://localhost:3000' })).toEqual({ status: 101, reason: undefined });
    expect(await statusFor(server, { Origin: 'https://evil.example' })).toEqual({ status: 403, reason: 'Origin not allowed.' });
    expect(await statusFor(server, { Origin: 'https://example.com.evil.example' })).toEqual({ status: 403, reason: 'Origin not allowed.' });
    expect(await statusFor(server, { Origin: 'http://localhost:3001' })).toEqual({ status: 403, reason: 'Origin not allowed.' });
    expect(requests).toEqual(['https://example.com', 'HTTPS://Example.COM', 'http://localhost:3000']);
    expect(refusals).toEqual([
      ['WS_ERR_HANDSHAKE_ORIGIN_NOT_ALLOWED', 403],
      ['WS_ERR_HANDSHAKE_ORIGIN_NOT_ALLOWED', 403],
      ['WS_ERR_HANDSHAKE_ORIGIN_NOT_ALLOWED', 403],
    ]);
  });

  it('refuses a request without an origin, and lets "null" through only when listed', async () => {
    const strict = await serve({ allowedOrigins: ['https://example.com'] });
    expect(await statusFor(strict.server, {})).toEqual({ status: 403, reason: 'An Origin header is required.' });
    expect(await statusFor(strict.server, { Origin: 'null' })).toEqual({ status: 403, reason: 'Origin not allowed.' });
    const opaque = await serve({ allowedOrigins: ['null'] });
    expect(await statusFor(opaque.server, { Origin: 'null' })).toEqual({ status: 101, reason: undefined });
  });

  it('checks the version 8 Sec-WebSocket-Origin header too', async () => {
    const { server } = await serve({ allowedOrigins: ['https://example.com'] });
    expect(await statusFor(server, { 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Origin': 'https://example.com' })).toEqual({ status: 101, reason: undefined });
    expect(await statusFor(server, { 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Origin': 'https://evil.example' })).toEqual({ status: 403, reason: 'Origin not allowed.' });
  });

  it('lets every origin through when unset (the default, as in WebSocket-Node)', async () => {
    const { server, requests } = await serve({});
    expect(server.wss.config?.allowedOrigins).toBeUndefined();
    expect(await statusFor(server, { Origin: 'https://anything.example' })).toEqual({ status: 101, reason: undefined });
    expect(await statusFor(server, {})).toEqual({ status: 101, reason: undefined });
    expect(requests).toEqual(['https://anything.example', '(none)']);
  });
});

describe('allowedOrigins as a function', () => {
  it('is called with the origin and the HTTP request; only `true` lets the request through', async () => {
    const calls: Array<[string | undefined, string | undefined]> = [];
    const allowedOrigins = (origin: string | undefined, request: IncomingMessage): boolean => {
      calls.push([origin, request.url]);
      return origin === 'https://ok.example';
    };
    const { server } = await serve({ allowedOrigins });
    expect((await statusFor(server, { Origin: 'https://ok.example' })).status).toBe(101);
    expect((await statusFor(server, { Origin: 'https://no.example' })).status).toBe(403);
    expect((await statusFor(server, {})).status).toBe(403);
    expect(calls).toEqual([
      ['https://ok.example', '/'],
      ['https://no.example', '/'],
      [undefined, '/'],
    ]);
  });

  it('refuses when it returns something other than true (a Promise from an async function, say)', async () => {
    const { server } = await serve({ allowedOrigins: (async () => true) as never });
    expect(await statusFor(server, { Origin: 'https://ok.example' })).toEqual({ status: 403, reason: 'Origin not allowed.' });
  });

  it('answers 500 when it throws, reports it, and keeps serving', async () => {
    let fail = true;
    const { server, refusals } = await serve({
      allowedOrigins: () => {
        if (fail) throw new Error('lookup failed');
        return true;
      },
    });
    const errors: HandshakeError[] = [];
    server.wss.on('upgradeError', (error) => errors.push(error as HandshakeError));
    expect((await statusFor(server, { Origin: 'https://a.example' })).status).toBe(500);
    expect(refusals).toEqual([['WS_ERR_HANDSHAKE_ORIGIN_CHECK_FAILED', 500]]);
    expect((errors[0] as Error & { cause?: Error }).cause?.message).toBe('lookup failed');
    fail = false;
    expect((await statusFor(server, { Origin: 'https://a.example' })).status).toBe(101);
  });
});
