/**
 * The shared adapter contract, run against an Express app with WebSocket routes: once with the
 * defaults (a plain GET on a WebSocket-only path falls through to the app's 404) and once with
 * `upgradeRequired` (426).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { runContractSuite, CONTRACT_LIMITS, CONTRACT_TOKEN, CONTRACT_USER, type ContractFixtureFactory } from '@wsuite/test-kit';
import type { WebSocketConnection } from '@wsuite/core';
import { createExpressWebSocket } from '@wsuite/express-middleware';

function echo(connection: WebSocketConnection): void {
  connection.on('message', (m) => (m.type === 'utf8' ? connection.sendUTF(m.utf8Data) : connection.sendBytes(m.binaryData)));
}

const requireToken: RequestHandler = (req, res, next) => {
  if (req.get('x-token') === CONTRACT_TOKEN) {
    res.set('x-contract-user', CONTRACT_USER);
    next();
  } else res.status(401).json({ error: 'unauthorized' });
};

/** A fixture factory: the contract's routes on an Express app. */
function fixture(upgradeRequired: boolean): ContractFixtureFactory {
  return async () => {
    const wsx = createExpressWebSocket({
      maxReceivedFrameSize: CONTRACT_LIMITS,
      maxReceivedMessageSize: CONTRACT_LIMITS,
      upgradeRequired,
      // The /throws route is meant to fail; keep the expected error out of the test output.
      errorHandler: (_error, connection) => connection.close(1011, 'Internal error'),
    });
    const app = express();
    wsx.ws(app, '/echo', echo);
    wsx.ws(app, '/guarded', requireToken, echo);
    wsx.ws(app, '/params/:id', (connection, req) => {
      connection.sendUTF(JSON.stringify({ id: req.params.id, q: req.query.q }));
    });
    wsx.ws(app, '/throws', () => {
      throw new Error('handler failed');
    });
    wsx.ws(app, '/listener-throws', (connection) => {
      connection.on('message', () => {
        throw new Error('listener failed');
      });
    });
    const onError: ErrorRequestHandler = (_error, _req, res, _next) => {
      res.status(500).json({ error: 'internal' });
    };
    app.use(onError);
    const http = createServer(app);
    const attached = wsx.attach(http, app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return {
      port: (http.address() as AddressInfo).port,
      shutdown: async () => {
        await attached.close({ timeout: 2000 });
        await new Promise<void>((resolve) => http.close(() => resolve()));
      },
    };
  };
}

runContractSuite('express-middleware', fixture(false), { params: true, throws: true, plainHttpStatus: 404, upgradeHeaders: true, listenerThrows: true });
runContractSuite('express-middleware (upgradeRequired)', fixture(true), { params: true, throws: true, plainHttpStatus: 426, upgradeHeaders: true, listenerThrows: true });
