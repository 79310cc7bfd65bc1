/**
 * Graceful shutdown: 1001 for every connection, a bounded wait, 503 for upgrades meanwhile,
 * the upgrade listener removed, and the HTTP server's close completing afterwards.
 */
import express from 'express';
import type { WebSocketConnection } from '@wsuite/core';
import { createExpressWebSocket } from '@wsuite/express-middleware';
import { deferred, open, rawUpgrade, refused, start, until, type Client, type Running } from './helpers';

const running: Running[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

function echo(connection: WebSocketConnection): void {
  connection.on('message', (m) => m.type === 'utf8' && connection.sendUTF(m.utf8Data));
}

async function serve(setUp?: (app: express.Express, wsx: ReturnType<typeof createExpressWebSocket>) => void): Promise<Running> {
  const wsx = createExpressWebSocket();
  const app = express();
  wsx.ws(app, '/echo', echo);
  wsx.ws(app, '/limited', { maxReceivedMessageSize: 100 }, echo);
  setUp?.(app, wsx);
  const r = await start(wsx, app);
  running.push(r);
  return r;
}

async function connect(url: string): Promise<Client> {
  const c = await open(url);
  clients.push(c);
  return c;
}

function closeHttp(r: Running): Promise<Error | undefined> {
  return new Promise((resolve) => r.http.close((error) => resolve(error)));
}

describe('attached.close()', () => {
  it('closes every connection, on every route, with 1001; then the HTTP server closes', async () => {
    const r = await serve();
    const a = await connect(r.url('/echo'));
    const b = await connect(r.url('/limited'));
    await until(() => (r.attached.connections.length === 2 ? true : undefined), 'two connections');

    await r.attached.close({ reason: 'maintenance' });
    expect(await a.closed).toEqual({ code: 1001, reason: 'maintenance' });
    expect((await b.closed).code).toBe(1001);
    expect(r.attached.connections).toHaveLength(0);
    expect(r.http.listenerCount('upgrade')).toBe(0);
    expect(await closeHttp(r)).toBeUndefined();
  });

  it('waits at most `timeout` for a peer that never answers the close, then drops it', async () => {
    // Connections would wait a minute for the close handshake: only the shutdown timeout can end this test in time.
    const wsx = createExpressWebSocket({ closeTimeout: 60_000 });
    const app = express();
    wsx.ws(app, '/echo', echo);
    const r = await start(wsx, app);
    running.push(r);
    const raw = rawUpgrade(r.port, '/echo', true);
    expect(await raw.head).toMatch(/^HTTP\/1\.1 101/);
    const received: Buffer[] = [];
    raw.socket.on('data', (chunk: Buffer) => received.push(chunk));
    await until(() => (r.attached.connections.length === 1 ? true : undefined), 'the connection');
    const [connection] = r.attached.connections;

    // The raw peer reads but never sends a close frame back nor ends its side.
    await r.attached.close({ timeout: 100 });
    expect(connection.state).toBe('closed');
    expect(r.attached.connections).toHaveLength(0);
    const frame = Buffer.concat(received);
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(1001);
    raw.socket.destroy();
    expect(await closeHttp(r)).toBeUndefined();
  });

  it('answers upgrades during shutdown with 503, including one still in middleware when it began', async () => {
    const inMiddleware = deferred();
    const release = deferred();
    const r = await serve((app, wsx) => {
      wsx.ws(
        app,
        '/slow',
        async (_req, _res, next) => {
          inMiddleware.resolve();
          await release.promise;
          next();
        },
        echo,
      );
    });
    // A peer that never completes the close keeps the shutdown in progress until it is destroyed below.
    const raw = rawUpgrade(r.port, '/echo', true);
    await raw.head;
    await until(() => (r.attached.connections.length === 1 ? true : undefined), 'the lingering connection');
    const slow = refused(r.url('/slow'));
    await inMiddleware.promise;

    const closing = r.attached.close({ timeout: 2000 });
    const during = await refused(r.url('/echo'));
    expect(during.status).toBe(503);
    expect(during.headers['x-websocket-reject-reason']).toBe('Server shutting down');
    release.resolve();
    expect((await slow).status).toBe(503);

    raw.socket.destroy();
    await closing;
    expect(r.http.listenerCount('upgrade')).toBe(0);
  });

  it('returns the same promise when called twice, and rejects a bad timeout', async () => {
    const r = await serve();
    await expect(r.attached.close({ timeout: -1 })).rejects.toThrow(RangeError);
    await expect(r.attached.close({ timeout: Number.NaN })).rejects.toThrow(/timeout/);
    const first = r.attached.close();
    expect(r.attached.close()).toBe(first);
    await first;
  });

  it('refuses a second attachment to the same server until the first is closed', async () => {
    const r = await serve();
    const wsx = createExpressWebSocket();
    const app = express();
    expect(() => wsx.attach(r.http, app)).toThrow(/already has an Express app attached/);
    await r.attached.close();
    const again = wsx.attach(r.http, app);
    expect(r.http.listenerCount('upgrade')).toBe(1);
    await again.close();
  });

  it('closes only the connections of its own server when the app is attached to two', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(app, '/echo', echo);
    const one = await start(wsx, app);
    const two = await start(wsx, app);
    running.push(one, two);
    const a = await connect(one.url('/echo'));
    const b = await connect(two.url('/echo'));

    await one.stop();
    expect((await a.closed).code).toBe(1001);
    b.ws.send('still open');
    await until(() => b.messages[0], 'echo on the other server');
    expect(b.messages[0]).toBe('still open');
  });
});
