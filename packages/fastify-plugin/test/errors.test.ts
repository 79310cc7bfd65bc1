/**
 * Errors: handler throws and rejections, listener throws and socket errors reach
 * `errorHandler(error, connection, request)`; the default logs with `request.log` and closes
 * with 1011; nothing reaches `uncaughtException` or `unhandledRejection`.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { fastifyWebSocket, type WebSocketErrorHandler } from '@wsuite/fastify-plugin';
import type { WebSocketConnection } from '@wsuite/core';
import { captureLogs, closeOf, echo, listen, openClient, until } from './helpers';

interface Reported {
  message: string;
  connection: WebSocketConnection;
  request: FastifyRequest;
  self: unknown;
}

describe('error handling', () => {
  let app: FastifyInstance;
  const processErrors: unknown[] = [];
  const onProcessError = (error: unknown): void => {
    processErrors.push(error);
  };

  beforeAll(() => {
    process.on('uncaughtException', onProcessError);
    process.on('unhandledRejection', onProcessError);
  });
  afterAll(() => {
    process.removeListener('uncaughtException', onProcessError);
    process.removeListener('unhandledRejection', onProcessError);
  });
  afterEach(async () => {
    await app.close();
    expect(processErrors).toEqual([]);
  });

  async function withErrorHandler(): Promise<Reported[]> {
    const reported: Reported[] = [];
    const errorHandler: WebSocketErrorHandler = function (error, connection, request) {
      reported.push({ message: error.message, connection, request, self: this });
      connection.close(4000, 'custom');
    };
    app = Fastify();
    await app.register(fastifyWebSocket, { errorHandler });
    return reported;
  }

  it('sends a synchronous throw to errorHandler with the connection and request (this = route instance)', async () => {
    const reported = await withErrorHandler();
    let handlerConnection: WebSocketConnection | undefined;
    app.get<{ Params: { id: string } }>('/throws/:id', { websocket: true }, (connection) => {
      handlerConnection = connection;
      throw new Error('sync boom');
    });
    await app.ready();
    const client = await app.injectWS('/throws/7');
    expect((await closeOf(client)).code).toBe(4000);
    expect(reported).toHaveLength(1);
    expect(reported[0].message).toBe('sync boom');
    expect(reported[0].connection).toBe(handlerConnection);
    expect((reported[0].request.params as { id: string }).id).toBe('7');
    expect(reported[0].self).toBe(app);
  });

  it('sends a rejected async handler to errorHandler', async () => {
    const reported = await withErrorHandler();
    app.get('/rejects', { websocket: true }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('async boom');
    });
    await app.ready();
    const client = await app.injectWS('/rejects');
    expect((await closeOf(client)).code).toBe(4000);
    expect(reported.map((r) => r.message)).toEqual(['async boom']);
  });

  it('sends a throw from a message listener to errorHandler, and the connection keeps its protocol state', async () => {
    const reported = await withErrorHandler();
    app.get('/listener', { websocket: true }, (connection) => {
      connection.on('message', (m) => {
        if (m.type === 'utf8' && m.utf8Data === 'bad') throw new Error('listener boom');
      });
    });
    await app.ready();
    const client = await app.injectWS('/listener');
    client.sendUTF('bad');
    expect((await closeOf(client)).code).toBe(4000);
    expect(reported.map((r) => r.message)).toEqual(['listener boom']);
  });

  it('wraps non-Error throws in an Error', async () => {
    const reported = await withErrorHandler();
    app.get('/string', { websocket: true }, () => {
      throw 'plain string';
    });
    await app.ready();
    await closeOf(await app.injectWS('/string'));
    expect(reported.map((r) => r.message)).toEqual(['Non-error thrown: plain string']);
  });

  it('sends socket errors (a reset on the established connection) to errorHandler', async () => {
    const reported = await withErrorHandler();
    let serverConnection: WebSocketConnection | undefined;
    app.get('/socket', { websocket: true }, (connection) => {
      serverConnection = connection;
    });
    await app.ready();
    await app.injectWS('/socket');
    const connection = await until(() => serverConnection, 'the server connection');
    const closed = closeOf(connection);
    connection.socket.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' }));
    expect((await closed).code).toBe(1006);
    expect(reported.map((r) => r.message)).toEqual(['read ECONNRESET']);
  });

  it('by default logs with request.log (request id included) and closes with 1011', async () => {
    const logs = captureLogs();
    app = Fastify({ logger: { level: 'info', stream: logs.stream } });
    await app.register(fastifyWebSocket);
    app.get('/throws', { websocket: true }, () => {
      throw new Error('default boom');
    });
    app.get('/echo', { websocket: true }, echo);
    const base = await listen(app);
    const client = await openClient(`${base}/throws`);
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1011, reason: 'Internal error' });
    const line = await until(() => logs.lines.find((l) => l.msg === 'WebSocket handler failed'), 'the error log line');
    expect(line.level).toBe(50);
    expect((line.err as { message: string }).message).toBe('default boom');
    expect(typeof line.reqId).toBe('string');
    const survivor = await openClient(`${base}/echo`);
    survivor.ws.send('still serving');
    expect(await survivor.message()).toBe('still serving');
    survivor.ws.close();
  });

  it('logs an errorHandler that throws and closes with 1011', async () => {
    const logs = captureLogs();
    app = Fastify({ logger: { level: 'error', stream: logs.stream } });
    await app.register(fastifyWebSocket, {
      errorHandler: () => {
        throw new Error('handler of errors failed');
      },
    });
    app.get('/throws', { websocket: true }, () => {
      throw new Error('first');
    });
    await app.ready();
    const client = await app.injectWS('/throws');
    expect((await closeOf(client)).code).toBe(1011);
    expect(logs.lines.some((l) => l.msg === 'WebSocket errorHandler threw' && (l.err as { message: string }).message === 'handler of errors failed')).toBe(true);
  });

  it('refuses with 500 and logs when the subprotocol function throws', async () => {
    const logs = captureLogs();
    app = Fastify({ logger: { level: 'error', stream: logs.stream } });
    await app.register(fastifyWebSocket);
    app.get(
      '/select',
      {
        websocket: true,
        subprotocols: () => {
          throw new Error('selector failed');
        },
      },
      () => undefined,
    );
    await app.ready();
    await expect(app.injectWS('/select', { protocols: ['chat'] })).rejects.toMatchObject({ statusCode: 500 });
    expect(logs.lines.some((l) => l.msg === 'WebSocket subprotocol selection failed')).toBe(true);
  });
});
