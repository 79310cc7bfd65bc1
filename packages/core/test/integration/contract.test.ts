/**
 * The adapter contract run against core alone (a router on a plain http.Server), which also
 * checks the contract suite itself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runContractSuite, CONTRACT_LIMITS, CONTRACT_TOKEN, CONTRACT_USER } from '@wsuite/test-kit';
import { WebSocketServer, WebSocketRouter, closeWithInternalError, runConnectionHandler, type WebSocketConnection } from '@wsuite/core';

function echo(connection: WebSocketConnection): void {
  connection.on('message', (m) => (m.type === 'utf8' ? connection.sendUTF(m.utf8Data) : connection.sendBytes(m.binaryData)));
}

runContractSuite(
  'core router',
  async () => {
    const http = createServer((_req, res) => {
      res.statusCode = 426;
      res.end();
    });
    const wss = new WebSocketServer({ httpServer: http, maxReceivedFrameSize: CONTRACT_LIMITS, maxReceivedMessageSize: CONTRACT_LIMITS });
    const router = new WebSocketRouter({ server: wss });
    router.mount('/echo', null, (request) => echo(request.accept()));
    router.mount('/guarded', null, (request) => {
      if (request.httpRequest.headers['x-token'] !== CONTRACT_TOKEN) request.reject(401, 'Missing token');
      else echo(request.accept(null, undefined, { 'x-contract-user': CONTRACT_USER }));
    });
    router.mount(/^\/params\/([^/]+)$/, null, (request) => {
      const id = /^\/params\/([^/]+)$/.exec(request.resourceURL.pathname ?? '')?.[1];
      request.accept().sendUTF(JSON.stringify({ id, q: request.resourceURL.query.q }));
    });
    router.mount('/listener-throws', null, (request) => {
      const connection = request.accept();
      runConnectionHandler(
        connection,
        () => connection.on('message', () => {
          throw new Error('listener failed');
        }),
        () => closeWithInternalError(connection),
      );
    });
    router.mount('/throws', null, (request) => {
      const connection = request.accept();
      try {
        throw new Error('handler failed');
      } catch {
        connection.close(1011, 'Internal error');
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return {
      port: (http.address() as AddressInfo).port,
      shutdown: async () => {
        await wss.close();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      },
    };
  },
  { params: true, throws: true, plainHttpStatus: 426, upgradeHeaders: true, listenerThrows: true },
);
