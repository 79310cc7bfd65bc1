/**
 * `fastify.close()`: every connection gets 1001 Going Away, the close waits for the close
 * handshakes (bounded by closeTimeout), upgrades during shutdown get 503, `preClose` runs first,
 * and the plugin's `upgrade` listener is removed. Also `fastify.websocketServer` (connections,
 * broadcast).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyWebSocket } from '@wsuite/fastify-plugin';
import type { WebSocketServer } from '@wsuite/core';
import { captureLogs, closeOf, echo, listen, nextMessage, openClient, refusedUpgrade, until } from './helpers';

describe('shutdown and websocketServer', () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it('closes every connection with 1001 and resolves once the close handshakes are done', async () => {
    app = Fastify();
    await app.register(fastifyWebSocket);
    const serverCloses: number[] = [];
    app.get('/ws', { websocket: true }, (connection) => {
      connection.on('close', (code) => serverCloses.push(code));
    });
    const base = await listen(app);
    const a = await openClient(`${base}/ws`);
    const b = await openClient(`${base}/ws`);
    const injected = await app.injectWS('/ws');
    const injectedClose = closeOf(injected);
    expect(app.websocketServer.connections).toHaveLength(3);

    await app.close();
    expect(serverCloses).toEqual([1001, 1001, 1001]);
    expect(app.websocketServer.connections).toHaveLength(0);
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect((await injectedClose).code).toBe(1001);
    expect(app.server.listenerCount('upgrade')).toBe(0);
  });

  it('waits for a slow peer to answer the close, and answers upgrades meanwhile with 503', async () => {
    app = Fastify();
    await app.register(fastifyWebSocket, { closeTimeout: 10000 });
    app.get('/ws', { websocket: true }, echo);
    const base = await listen(app);
    const slow = await app.injectWS('/ws');
    const slowClose = closeOf(slow);
    slow.pause(); // reads nothing, so it cannot answer the server's close frame yet

    let closed = false;
    const closing = app.close().then(() => {
      closed = true;
    });
    await until(() => (app.websocketServer.connections[0]?.state === 'ending' ? true : undefined), 'the server close frame');

    const refused = await refusedUpgrade(`${base}/ws`);
    expect(refused.status).toBe(503);
    expect(refused.headers['x-websocket-reject-reason']).toBe('Server is shutting down');
    expect(closed).toBe(false);

    slow.resume();
    await closing;
    expect((await slowClose).code).toBe(1001);
  });

  it('answers 503 to an upgrade whose hooks were still running when shutdown began', async () => {
    app = Fastify();
    let releaseHook: () => void = () => undefined;
    let handled = 0;
    await app.register(fastifyWebSocket, {
      preClose: () => releaseHook(),
    });
    const inHook = new Promise<void>((entered) => {
      app.addHook('onRequest', async () => {
        entered();
        await new Promise<void>((resolve) => (releaseHook = resolve));
      });
    });
    app.get('/ws', { websocket: true }, () => {
      handled++;
    });
    const base = await listen(app);
    const refused = refusedUpgrade(`${base}/ws`);
    await inHook;
    const closing = app.close();
    expect((await refused).status).toBe(503);
    await closing;
    expect(handled).toBe(0);
  });

  it('drops a peer that never answers once closeTimeout has passed', async () => {
    app = Fastify();
    await app.register(fastifyWebSocket, { closeTimeout: 200 });
    let serverSide: Promise<{ code: number; description: string }> | undefined;
    app.get('/ws', { websocket: true }, (connection) => {
      serverSide = closeOf(connection);
    });
    await app.ready();
    const silent = await app.injectWS('/ws');
    silent.pause();
    await app.close();
    expect((await serverSide)?.code).toBe(1001);
    expect(app.websocketServer.connections).toHaveLength(0);
    silent.drop(1000, 'test over', true);
  });

  it('runs preClose first (this = the instance, new upgrades already refused), then closes the rest with 1001', async () => {
    app = Fastify();
    const calls: Array<{ self: unknown; server: WebSocketServer; open: number }> = [];
    await app.register(fastifyWebSocket, {
      preClose(server) {
        calls.push({ self: this, server, open: server.connections.length });
        server.broadcast('goodbye');
        server.connections[0].close(4001, 'first one, special');
      },
    });
    app.get('/ws', { websocket: true }, () => undefined);
    await app.ready();
    const first = await app.injectWS('/ws');
    const second = await app.injectWS('/ws');
    const messages = [nextMessage(first), nextMessage(second)];
    const closes = [closeOf(first), closeOf(second)];
    await app.close();
    expect(calls).toEqual([{ self: app, server: app.websocketServer, open: 2 }]);
    expect(await Promise.all(messages)).toEqual(['goodbye', 'goodbye']);
    expect((await Promise.all(closes)).map((c) => c.code)).toEqual([4001, 1001]);
  });

  it('logs a failing preClose and still closes the connections', async () => {
    const logs = captureLogs();
    app = Fastify({ logger: { level: 'error', stream: logs.stream } });
    await app.register(fastifyWebSocket, {
      preClose: async () => {
        throw new Error('preClose broke');
      },
    });
    app.get('/ws', { websocket: true }, () => undefined);
    await app.ready();
    const client = await app.injectWS('/ws');
    const closed = closeOf(client);
    await app.close();
    expect((await closed).code).toBe(1001);
    expect(logs.lines.some((line) => line.msg === 'WebSocket preClose failed' && (line.err as { message: string }).message === 'preClose broke')).toBe(true);
  });

  it('exposes core server: connections and broadcast', async () => {
    app = Fastify();
    await app.register(fastifyWebSocket);
    app.get('/ws', { websocket: true }, () => undefined);
    const base = await listen(app);
    const clients = [await openClient(`${base}/ws`), await openClient(`${base}/ws`)];
    const injected = await app.injectWS('/ws');
    const injectedMessage = nextMessage(injected);
    expect(app.websocketServer.connections).toHaveLength(3);
    app.websocketServer.broadcast('to everyone');
    expect(await Promise.all(clients.map((c) => c.message()))).toEqual(['to everyone', 'to everyone']);
    expect(await injectedMessage).toBe('to everyone');
  });
});
