/**
 * Type tests: checked by `tsc -p tsconfig.json --noEmit` (npm run typecheck / lint). Each
 * `@ts-expect-error` fails the type check if the line below it stops being an error. The
 * checks live in a function that never runs; the Jest test only keeps the file in the suite.
 */
import { createServer } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { WebSocketConnection } from '@wsuite/core';
import {
  createExpressWebSocket,
  type AttachedWebSocket,
  type WebSocketErrorHandler,
  type WebSocketRouteHandler,
  type WebSocketRouter,
} from '@wsuite/express-middleware';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when `T` is `true`; `values` are the variables the check is about. */
function assertType<T extends true>(..._values: unknown[]): T | undefined {
  return undefined;
}

export function typeChecks(): void {
  const wsx = createExpressWebSocket({ maxReceivedMessageSize: 1024, keepalive: true, keepaliveInterval: 1000 });
  const app = express();
  const requireAuth: RequestHandler = (_req, _res, next) => next();

  // req.params is typed from the path (Express 5 syntax), the connection is core's.
  wsx.ws(app, '/rooms/:room/users/:user', requireAuth, (connection, req) => {
    assertType<Equal<typeof connection, WebSocketConnection>>();
    assertType<Equal<typeof req.params.room, string>>();
    assertType<Equal<typeof req.params.user, string>>();
    // @ts-expect-error: no such parameter in the path
    void req.params.nope;
  });
  wsx.ws(app, '/files/*path', (_connection, req) => {
    assertType<Equal<typeof req.params.path, string[]>>(req);
  });
  wsx.ws(app, '/lobby{/:id}', (_connection, req) => {
    assertType<Equal<typeof req.params.id, string | undefined>>(req);
  });
  // Route-level middleware see the same typed params.
  wsx.ws(
    app,
    '/orgs/:org',
    (req, _res, next) => {
      assertType<Equal<typeof req.params.org, string>>();
      next();
    },
    async (connection) => {
      await Promise.resolve(connection.sendUTF('async handlers are fine'));
    },
  );

  // ws() returns what it was given; router.ws() chains on the router.
  const returned = wsx.ws(app, '/a', () => undefined);
  assertType<Equal<typeof returned, typeof app>>(returned);
  const router = wsx.router({ mergeParams: true });
  const chained = router.ws('/x', () => undefined).ws('/y/:id', { upgradeRequired: true }, (_c, req) => void req.params.id);
  assertType<Equal<typeof chained, WebSocketRouter>>(chained);
  app.use('/api', router);

  // Route options are typed.
  wsx.ws(app, '/p', { handleProtocols: (requested) => requested[0] ?? false, maxReceivedFrameSize: 10 }, () => undefined);

  // @ts-expect-error: a handler is required (middleware alone is not a route)
  wsx.ws(app, '/no-handler', requireAuth);
  // @ts-expect-error: the handler gets (connection, req), not (req, res)
  wsx.ws(app, '/wrong-order', (_req: express.Request, res: express.Response) => res.send('x'));
  // @ts-expect-error: the connection is not an Express response
  wsx.ws(app, '/wrong-use', (connection) => connection.status(401));
  // @ts-expect-error: limits are numbers
  createExpressWebSocket({ maxReceivedMessageSize: '1mb' });
  // @ts-expect-error: unknown options are rejected
  createExpressWebSocket({ maxRecievedMessageSize: 10 });
  // @ts-expect-error: the adapter mounts the core server itself
  createExpressWebSocket({ noServer: true });
  // @ts-expect-error: handleProtocols returns a protocol name, false, null or undefined
  createExpressWebSocket({ handleProtocols: () => 1 });
  // @ts-expect-error: options come after the path
  wsx.ws(app, { upgradeRequired: true }, '/swapped', () => undefined);
  // @ts-expect-error: attach needs an HTTP server first
  wsx.attach(app, createServer());

  // Public function types.
  const onError: WebSocketErrorHandler = (error, connection, req) => {
    assertType<Equal<typeof error, Error>>();
    connection.close(1011, req.path);
  };
  createExpressWebSocket({ errorHandler: onError });
  const handler: WebSocketRouteHandler<{ id: string }> = (_connection, req) => void req.params.id;
  wsx.ws(app, '/typed/:id', handler);

  const attached: AttachedWebSocket = wsx.attach(createServer(app), app);
  assertType<Equal<ReturnType<AttachedWebSocket['close']>, Promise<void>>>();
  assertType<Equal<typeof attached.connections, readonly WebSocketConnection[]>>();
  // @ts-expect-error: the connection list is read-only
  attached.connections.push(undefined as unknown as WebSocketConnection);
  // @ts-expect-error: timeout is a number of ms
  void attached.close({ timeout: '1s' });
}

describe('types', () => {
  it('is type-checked by tsc (see typeChecks above)', () => {
    expect(typeof typeChecks).toBe('function');
  });
});
