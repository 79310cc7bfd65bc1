/**
 * The shared adapter contract, run against a Fastify app: auth in an `onRequest` hook, routes
 * with params and query, a throwing handler, `fastify.close()` for shutdown.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { runContractSuite, CONTRACT_LIMITS, CONTRACT_TOKEN, CONTRACT_USER } from '@wsuite/test-kit';
import { fastifyWebSocket } from '@wsuite/fastify-plugin';
import { echo } from './helpers';

runContractSuite(
  'fastify plugin',
  async () => {
    const app = Fastify();
    await app.register(fastifyWebSocket, { maxReceivedFrameSize: CONTRACT_LIMITS, maxReceivedMessageSize: CONTRACT_LIMITS });
    app.get('/echo', { websocket: true }, echo);
    await app.register(async (guarded) => {
      guarded.addHook('onRequest', async (request, reply) => {
        if (request.headers['x-token'] !== CONTRACT_TOKEN) return reply.code(401).send({ error: 'Unauthorized' });
        reply.header('x-contract-user', CONTRACT_USER);
      });
      guarded.get('/guarded', { websocket: true }, echo);
    });
    app.get<{ Params: { id: string }; Querystring: { q?: string } }>('/params/:id', { websocket: true }, (connection, request) => {
      connection.sendUTF(JSON.stringify({ id: request.params.id, q: request.query.q }));
    });
    app.get('/throws', { websocket: true }, () => {
      throw new Error('handler failed');
    });
    app.get('/listener-throws', { websocket: true }, (connection) => {
      connection.on('message', () => {
        throw new Error('listener failed');
      });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, shutdown: () => app.close().then(() => undefined) };
  },
  { params: true, throws: true, plainHttpStatus: 426, upgradeHeaders: true, listenerThrows: true },
);
