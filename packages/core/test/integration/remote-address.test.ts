/**
 * Where `remoteAddress(es)` come from: X-Forwarded-For by default (WebSocket-Node's behaviour,
 * which trusts any client: the risk is documented), the socket's peer with
 * `ignoreXForwardedFor`, or the chain a framework resolved, passed to `handleUpgrade`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { startServer, type TestServer } from '../helpers/raw-peer';
import { nextEvent, rawUpgrade } from '../helpers/server-harness';
import type { WebSocketRequest } from '../../src/request';
import type { UpgradeOptions, WebSocketServerOptions } from '../../src/server';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A noServer WebSocketServer fed by an http.Server's upgrades through handleUpgrade(…, options). */
async function framework(options: Omit<WebSocketServerOptions, 'httpServer'>, upgradeOptions: () => UpgradeOptions | undefined): Promise<TestServer> {
  const server = await startServer({ keepalive: false, ...options });
  cleanups.push(() => server.close());
  server.wss.unmount();
  server.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    server.wss.handleUpgrade(req, socket, head, (request) => server.wss.emit('request', request), upgradeOptions());
  });
  return server;
}

async function requestWith(server: TestServer, headers: Record<string, string>): Promise<WebSocketRequest> {
  const requested = nextEvent<[WebSocketRequest]>(server.wss, 'request');
  const exchange = await rawUpgrade(server.port, { headers });
  const [request] = await requested;
  cleanups.push(async () => {
    exchange.socket.destroy();
  });
  return request;
}

describe('remote addresses', () => {
  it('by default, take any client-sent X-Forwarded-For at its word (WebSocket-Node compatible; see the README)', async () => {
    const server = await startServer({ keepalive: false });
    cleanups.push(() => server.close());
    const request = await requestWith(server, { 'X-Forwarded-For': '6.6.6.6' });
    expect(request.remoteAddress).toBe('6.6.6.6');
    expect(request.remoteAddresses).toEqual(['6.6.6.6', '127.0.0.1']);
  });

  it('use the chain a framework passes to handleUpgrade instead of X-Forwarded-For, on the request and the connection', async () => {
    const server = await framework({}, () => ({ remoteAddresses: ['203.0.113.7', '10.0.0.2', '127.0.0.1'] }));
    const request = await requestWith(server, { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.0.0.2' });
    expect(request.remoteAddress).toBe('203.0.113.7');
    expect(request.remoteAddresses).toEqual(['203.0.113.7', '10.0.0.2', '127.0.0.1']);
    const connection = request.accept();
    expect(connection.remoteAddress).toBe('203.0.113.7');
    expect(connection.remoteAddresses).toEqual(['203.0.113.7', '10.0.0.2', '127.0.0.1']);
  });

  it('keep the socket peer with ignoreXForwardedFor, whatever the framework passes', async () => {
    const server = await framework({ ignoreXForwardedFor: true }, () => ({ remoteAddresses: ['203.0.113.7', '127.0.0.1'] }));
    const request = await requestWith(server, { 'X-Forwarded-For': '6.6.6.6' });
    expect(request.remoteAddress).toBe('127.0.0.1');
    expect(request.remoteAddresses).toEqual(['127.0.0.1']);
  });

  it('refuse a malformed chain with a TypeError before touching the socket', async () => {
    const server = await startServer({ keepalive: false, noServer: true });
    cleanups.push(() => server.close());
    for (const remoteAddresses of [[], [1], 'x']) {
      expect(() => server.wss.handleUpgrade({} as IncomingMessage, {} as Duplex, undefined, undefined, { remoteAddresses } as never)).toThrow(
        new TypeError('handleUpgrade(): options.remoteAddresses must be a non-empty array of strings (client first, socket peer last).'),
      );
    }
  });
});
