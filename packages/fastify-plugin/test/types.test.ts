/**
 * Type tests for the declaration merging on 'fastify'. They are checked by
 * `npx tsc -p tsconfig.json --noEmit` (the root typecheck): a wrong type makes an assertion
 * below fail to compile, and a `@ts-expect-error` line that stops being an error fails too.
 * The runtime part builds the same routes and checks they serve.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocketConnection, WebSocketServer } from '@wsuite/core';
import { fastifyWebSocket, type FastifyWebSocketOptions, type WebSocketHandler } from '@wsuite/fastify-plugin';

/** Compile-time equality of two types. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when `T` is `true`. */
function assertType<T extends true>(): T | undefined {
  return undefined;
}

function declareTypedRoutes(app: FastifyInstance): void {
  // `{ websocket: true }` types the handler as (connection, request) with the route generics.
  app.get<{ Params: { room: string }; Querystring: { nick?: string }; Headers: { 'x-client'?: string } }>('/rooms/:room', { websocket: true }, function (connection, request) {
    assertType<Equal<typeof connection, WebSocketConnection>>();
    assertType<Equal<typeof request.params, { room: string }>>();
    assertType<Equal<typeof request.query, { nick?: string }>>();
    assertType<Equal<typeof request.ws, boolean>>();
    assertType<Equal<typeof this, FastifyInstance>>();
    connection.sendUTF(`${request.params.room} ${request.query.nick ?? ''} ${request.headers['x-client'] ?? ''}`);
    // Never called: wrong usages that must not compile.
    const wrong = (): void => {
      // @ts-expect-error: a WebSocket handler gets a connection, not a reply
      connection.code(200);
      // @ts-expect-error: params are typed from the route generic
      void request.params.missing;
    };
    void wrong;
  });

  // Async WebSocket handlers are fine.
  app.get('/async', { websocket: true }, async (connection) => {
    await Promise.resolve();
    connection.close();
  });

  // Without `websocket: true` the handler stays an HTTP handler.
  app.get('/http', (request, reply) => {
    assertType<Equal<typeof request, FastifyRequest>>();
    assertType<Equal<typeof reply, FastifyReply>>();
    const wrong = (): void => {
      // @ts-expect-error: an HTTP handler's first argument is the request, not a connection
      request.sendUTF('nope');
    };
    void wrong;
    return reply.send('ok');
  });

  // The full route() form types `handler` by `websocket: true`, and `wsHandler` next to `handler`.
  app.route({ method: 'GET', url: '/full', websocket: true, handler: (connection) => connection.sendUTF('full') });
  app.route<{ Params: { id: string } }>({
    method: 'GET',
    url: '/both/:id',
    handler: async (request) => ({ id: request.params.id }),
    wsHandler: (connection, request) => {
      assertType<Equal<typeof connection, WebSocketConnection>>();
      assertType<Equal<typeof request.params, { id: string }>>();
      connection.sendUTF(request.params.id);
    },
  });
  app.get('/proto', { websocket: true, subprotocols: ['chat.v2', 'chat.v1'] }, (connection) => connection.sendUTF(String(connection.protocol)));
  app.get('/proto-fn', { websocket: true, subprotocols: (requested) => requested[0] }, (connection) => connection.close());

  // Decorators.
  assertType<Equal<typeof app.websocketServer, WebSocketServer>>();
  assertType<Equal<ReturnType<typeof app.injectWS>, Promise<WebSocketConnection>>>();

  // Never called: wrong usages that must not compile.
  const wrong = (): void => {
    // @ts-expect-error: subprotocols is a list or a function, not a string
    app.get('/bad-proto', { websocket: true, subprotocols: 'chat' }, (connection) => connection.close());
    // @ts-expect-error: a WebSocket handler's first argument has no `code` (it is not a reply)
    app.route({ method: 'GET', url: '/bad-full', websocket: true, handler: (connection) => connection.code(200) });
    // @ts-expect-error: injectWS options are { headers, protocols }
    void app.injectWS('/rooms/a', { protocols: 'chat' });
    // @ts-expect-error: options are typed (a number, not a string)
    void app.register(fastifyWebSocket, { maxReceivedFrameSize: '64k' });
    // @ts-expect-error: the plugin owns noServer
    void app.register(fastifyWebSocket, { noServer: true });
  };
  void wrong;

  // A handler type can be written out on its own.
  const named: WebSocketHandler = (connection, request) => connection.sendUTF(request.url);
  app.get('/named', { websocket: true }, named);
}

async function registerTyped(app: FastifyInstance): Promise<void> {
  const options: FastifyWebSocketOptions = {
    maxReceivedMessageSize: 1024,
    keepalive: false,
    errorHandler(error, connection, request) {
      assertType<Equal<typeof error, Error>>();
      assertType<Equal<typeof connection, WebSocketConnection>>();
      assertType<Equal<typeof request, FastifyRequest>>();
      request.log.error(error);
      connection.close(1011);
    },
    async preClose(server) {
      assertType<Equal<typeof server, WebSocketServer>>();
      server.broadcast('bye');
    },
  };
  await app.register(fastifyWebSocket, options);
}

describe('types', () => {
  it('the typed routes and options above register and serve', async () => {
    const app = Fastify();
    await registerTyped(app);
    declareTypedRoutes(app);
    await app.ready();
    const connection = await app.injectWS('/rooms/lobby?nick=ada', { headers: { 'x-client': 'types' } });
    const message = await new Promise<string>((resolve) => connection.once('message', (m) => resolve(m.type === 'utf8' ? m.utf8Data : '')));
    expect(message).toBe('lobby ada types');
    await app.close();
  });
});
