/**
 * Handler errors (sync and async) and socket errors reach the error handler; the default logs
 * and closes with 1011; nothing reaches `uncaughtException` or `unhandledRejection`.
 */
import express from 'express';
import type { WebSocketConnection } from '@wsuite/core';
import { createExpressWebSocket, type WebSocketErrorHandler } from '@wsuite/express-middleware';
import { deferred, open, rawUpgrade, start, until, type Client, type Running } from './helpers';

const running: Running[] = [];
const clients: Client[] = [];
const uncaught = jest.fn();
const unhandled = jest.fn();

beforeAll(() => {
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', unhandled);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(running.splice(0).map((r) => r.stop()));
  expect(uncaught).not.toHaveBeenCalled();
  expect(unhandled).not.toHaveBeenCalled();
});
afterAll(() => {
  process.removeListener('uncaughtException', uncaught);
  process.removeListener('unhandledRejection', unhandled);
});

interface Reported {
  error: Error;
  connection: WebSocketConnection;
  path: string;
}

async function serveWith(errorHandler?: WebSocketErrorHandler): Promise<Running> {
  const wsx = createExpressWebSocket(errorHandler ? { errorHandler } : {});
  const app = express();
  wsx.ws(app, '/sync', () => {
    throw new Error('sync failure');
  });
  wsx.ws(app, '/async', async () => {
    await Promise.resolve();
    throw new Error('async failure');
  });
  wsx.ws(app, '/echo', (connection) => {
    connection.on('message', (m) => m.type === 'utf8' && connection.sendUTF(m.utf8Data));
  });
  const r = await start(wsx, app);
  running.push(r);
  return r;
}

async function connect(url: string): Promise<Client> {
  const c = await open(url);
  clients.push(c);
  return c;
}

describe('a custom errorHandler', () => {
  it('gets sync throws and async rejections with the connection and the request', async () => {
    const reported: Reported[] = [];
    const r = await serveWith((error, connection, req) => {
      reported.push({ error, connection, path: req.path });
      connection.close(4000, 'handled');
    });

    const sync = await connect(r.url('/sync'));
    const async = await connect(r.url('/async'));
    expect(await sync.closed).toEqual({ code: 4000, reason: 'handled' });
    expect(await async.closed).toEqual({ code: 4000, reason: 'handled' });
    expect(reported.map((x) => [x.error.message, x.path]).sort()).toEqual([
      ['async failure', '/async'],
      ['sync failure', '/sync'],
    ]);
    expect(reported.every((x) => typeof x.connection.sendUTF === 'function')).toBe(true);
  });

  it('gets socket errors of an open connection', async () => {
    const reported: Reported[] = [];
    const r = await serveWith((error, connection, req) => reported.push({ error, connection, path: req.path }));
    const raw = rawUpgrade(r.port, '/echo');
    expect(await raw.head).toMatch(/^HTTP\/1\.1 101/);
    await until(() => (r.attached.connections.length === 1 ? true : undefined), 'the server-side connection');
    raw.socket.resetAndDestroy();

    const report = await until(() => reported[0], 'a reported socket error');
    expect((report.error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(report.path).toBe('/echo');
  });

  it('uses the route option over the instance option', async () => {
    const instance = jest.fn();
    const route = jest.fn((_e: Error, connection: WebSocketConnection) => connection.close(4001));
    const wsx = createExpressWebSocket({ errorHandler: instance });
    const app = express();
    wsx.ws(app, '/own', { errorHandler: route }, () => {
      throw new Error('mine');
    });
    const r = await start(wsx, app);
    running.push(r);

    const c = await connect(r.url('/own'));
    expect((await c.closed).code).toBe(4001);
    expect(route).toHaveBeenCalledWith(expect.objectContaining({ message: 'mine' }), expect.anything(), expect.anything());
    expect(instance).not.toHaveBeenCalled();
  });
});

describe('the default error handler', () => {
  let log: jest.SpyInstance;
  beforeEach(() => {
    log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());

  it('logs a sync throw and closes with 1011', async () => {
    const r = await serveWith();
    const c = await connect(r.url('/sync'));
    expect((await c.closed).code).toBe(1011);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('WebSocket handler error'), expect.objectContaining({ message: 'sync failure' }));
  });

  it('logs an async rejection and closes with 1011, and the server keeps serving', async () => {
    const r = await serveWith();
    const c = await connect(r.url('/async'));
    expect((await c.closed).code).toBe(1011);
    expect(log).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ message: 'async failure' }));

    const d = await connect(r.url('/echo'));
    d.ws.send('alive');
    await until(() => d.messages[0], 'echo');
    expect(d.messages[0]).toBe('alive');
  });

  it('turns a thrown non-Error into an Error', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(app, '/string', () => {
      throw 'just a string';
    });
    const r = await start(wsx, app);
    running.push(r);
    const c = await connect(r.url('/string'));
    expect((await c.closed).code).toBe(1011);
    expect(log).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ message: 'Non-error thrown: just a string' }));
  });

  it('survives an errorHandler that throws: logs both and closes with 1011', async () => {
    const r = await serveWith(() => {
      throw new Error('handler of handlers failed');
    });
    const c = await connect(r.url('/sync'));
    expect((await c.closed).code).toBe(1011);
    expect(log).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ message: 'sync failure' }), expect.objectContaining({ message: 'handler of handlers failed' }));
  });
});

describe('before the handshake', () => {
  it('survives a client reset while middleware is still running', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    const gate = deferred();
    const reached = deferred();
    const handler = jest.fn();
    wsx.ws(
      app,
      '/slow',
      async (_req, res) => {
        reached.resolve();
        await gate.promise;
        res.status(401).send('too late');
      },
      handler,
    );
    const r = await start(wsx, app);
    running.push(r);

    const raw = rawUpgrade(r.port, '/slow');
    await reached.promise;
    raw.socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    gate.resolve();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handler).not.toHaveBeenCalled();
  });
});
