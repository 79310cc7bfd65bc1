/**
 * wss:// end to end: our server mounted on an https.Server with a self-signed certificate made
 * for this run by the openssl CLI (nothing is downloaded or committed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketClient } from '../../src/client';
import type { WebSocketConnection } from '../../src/connection';
import { W3CWebSocket } from '../../src/w3c-websocket';
import type { CloseEvent, ErrorEvent } from '../../src/w3c-events';
import { Cleanup, openClient, startEchoServer, type Implementation } from '../helpers/interop-peers';

let dir: string;
let key: Buffer;
let cert: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsuite-tls-'));
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore', timeout: 60000 },
  );
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function httpsServer(): Promise<HttpsServer> {
  const server = createHttpsServer({ key, cert }, (_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return cleanup.add(server, (s) => new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  }));
}

async function secureEcho(kind: Implementation = 'wsuite', protocols?: string[]) {
  const https = await httpsServer();
  return cleanup.add(await startEchoServer(kind, { httpServer: https, protocols }), (s) => s.close());
}

function connectFailure(client: WebSocketClient, url: string): Promise<Error & { code?: string }> {
  return new Promise((resolve, reject) => {
    client.once('connect', (connection: WebSocketConnection) => {
      connection.drop(1001, '', true);
      reject(new Error('connected, but a TLS failure was expected'));
    });
    client.once('connectFailed', resolve);
    client.connect(url);
  });
}

describe.each([
  ['wsuite', 'wsuite'],
  ['wsuite', 'ws'],
  ['ws', 'wsuite'],
] as Array<[Implementation, Implementation]>)('wss:// — %s client with a %s server', (clientKind, serverKind) => {
  it('negotiates a subprotocol and exchanges text, binary, empty and 1 MiB messages', async () => {
    const server = await secureEcho(serverKind, ['chat']);
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const client = cleanup.add(await openClient(clientKind, `${server.url}/secure`, { protocols: ['chat'], tls: { ca: cert } }), (c) => c.terminate());
    expect(client.protocol).toBe('chat');
    const large = Buffer.alloc(1024 * 1024, 0x5a);
    client.send('over TLS');
    client.send(Buffer.from([1, 2, 3]));
    client.send('');
    client.send(large);
    expect(await client.messages.next('text')).toBe('over TLS');
    expect(await client.messages.next('binary')).toEqual(Buffer.from([1, 2, 3]));
    expect(await client.messages.next('empty')).toBe('');
    expect(((await client.messages.next('1 MiB')) as Buffer).equals(large)).toBe(true);
    expect(server.requests[0].path).toBe('/secure');
    client.close(4000, 'tls bye');
    expect(await server.closes.next('server close')).toEqual({ code: 4000, reason: 'tls bye' });
  });
});

describe('WebSocketClient over TLS', () => {
  it('uses tlsOptions (a CA, extra headers) without changing the caller\'s object', async () => {
    const server = await secureEcho();
    const tlsOptions = { ca: cert, headers: { 'X-From-Tls-Options': 'yes' } };
    const client = new WebSocketClient({ tlsOptions });
    const connection = await new Promise<WebSocketConnection>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connectFailed', reject);
      client.connect(server.url, null, null, { 'X-Direct': 'also' });
    });
    cleanup.add(connection, (c) => c.drop(1001, '', true));
    expect(client.secure).toBe(true);
    expect(client.url?.protocol).toBe('wss:');
    expect(server.requests[0].headers).toMatchObject({ 'x-from-tls-options': 'yes', 'x-direct': 'also' });
    expect(tlsOptions).toEqual({ ca: cert, headers: { 'X-From-Tls-Options': 'yes' } });
    expect(Object.keys(tlsOptions)).toEqual(['ca', 'headers']);
  });

  it('accepts the certificate with rejectUnauthorized: false', async () => {
    const server = await secureEcho();
    const client = cleanup.add(await openClient('wsuite', server.url, { tls: { rejectUnauthorized: false } }), (c) => c.terminate());
    client.send('trusted anyway');
    expect(await client.messages.next('echo')).toBe('trusted anyway');
  });

  it('an untrusted self-signed certificate fails with a message that says so', async () => {
    const server = await secureEcho();
    const error = await connectFailure(new WebSocketClient(), server.url);
    expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(error.message).toBe('self-signed certificate');
  });

  it('a certificate for another name fails with the name mismatch', async () => {
    const server = await secureEcho();
    const error = await connectFailure(new WebSocketClient({ tlsOptions: { ca: cert, servername: 'other.example' } }), server.url);
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(error.message).toContain('other.example');
  });

  it('wss:// to a plain HTTP server fails with the TLS error', async () => {
    const http = createHttpServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanup.add(http, (h) => new Promise<void>((resolve) => {
      h.closeAllConnections();
      h.close(() => resolve());
    }));
    const error = await connectFailure(new WebSocketClient(), `wss://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    expect(error.code).toMatch(/^(EPROTO|ERR_SSL_WRONG_VERSION_NUMBER|ECONNRESET)$/);
    expect(error.message.length).toBeGreaterThan(0);
  });
});

describe('W3CWebSocket over TLS', () => {
  it('opens, exchanges a message and closes cleanly', async () => {
    const server = await secureEcho();
    const ws = new W3CWebSocket(server.url, null, null, null, { ca: cert });
    cleanup.add(ws, (socket) => socket.close());
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (event) => reject((event as ErrorEvent).error);
    });
    expect(ws.url).toBe(`${server.url}/`);
    const message = new Promise<MessageEvent>((resolve) => (ws.onmessage = (event) => resolve(event as MessageEvent)));
    ws.send('w3c over tls');
    expect((await message).data).toBe('w3c over tls');
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = (event) => resolve(event as CloseEvent)));
    ws.close(1000, 'done');
    expect(await closed).toMatchObject({ code: 1000, reason: 'done', wasClean: true });
  });

  it('a TLS failure: error with the cause, then close 1006', async () => {
    const server = await secureEcho();
    const ws = new W3CWebSocket(server.url);
    const order: string[] = [];
    let error: ErrorEvent | undefined;
    ws.onerror = (event) => {
      order.push('error');
      error = event as ErrorEvent;
    };
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = (event) => {
      order.push('close');
      resolve(event as CloseEvent);
    }));
    const close = await closed;
    expect(order).toEqual(['error', 'close']);
    expect(error?.message).toBe('self-signed certificate');
    expect(error?.error).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(close).toMatchObject({ code: 1006, wasClean: false });
    expect(ws.readyState).toBe(W3CWebSocket.CLOSED);
  });
});
