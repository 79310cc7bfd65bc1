/**
 * The upgrade request goes through Fastify's routing and hooks before the handshake: hooks run
 * in order, a hook's reply is a real HTTP answer with no upgrade, schema validation gives 400,
 * unknown paths 404, plain HTTP to a WebSocket-only route 426.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import supertest from 'supertest';
import { fastifyWebSocket } from '@wsuite/fastify-plugin';
import { listen, openClient, refusedUpgrade, type OpenClient } from './helpers';

describe('Fastify hooks and routing before the handshake', () => {
  let app: FastifyInstance;
  let base: string;
  let handled: number;
  const clients: OpenClient[] = [];

  beforeEach(async () => {
    app = Fastify();
    handled = 0;
    await app.register(fastifyWebSocket);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await app.close();
  });

  it('runs onRequest, preParsing, preValidation and preHandler, in order, before the handler; request.ws is true in them', async () => {
    const trail: string[] = [];
    for (const hook of ['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const) {
      app.addHook(hook as 'onRequest', async (request: FastifyRequest) => {
        trail.push(`${hook}:${request.ws}`);
      });
    }
    app.get('/ws', { websocket: true }, (connection) => {
      trail.push('handler');
      connection.sendUTF(trail.join(','));
    });
    base = await listen(app);
    const client = await openClient(`${base}/ws`);
    clients.push(client);
    expect(await client.message()).toBe('onRequest:true,preParsing:true,preValidation:true,preHandler:true,handler');
  });

  it.each(['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const)(
    'a %s hook that replies 401 gives the client a real HTTP 401 and no upgrade',
    async (hook) => {
      app.addHook(hook as 'onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (request.headers.authorization !== 'Bearer ok') return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'Unauthorized' });
      });
      app.get('/ws', { websocket: true }, () => {
        handled++;
      });
      base = await listen(app);
      const refused = await refusedUpgrade(`${base}/ws`);
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer');
      expect(JSON.parse(refused.body)).toEqual({ error: 'Unauthorized' });
      expect(handled).toBe(0);
      expect(app.websocketServer.connections).toHaveLength(0);
      const client = await openClient(`${base}/ws`, { headers: { authorization: 'Bearer ok' } });
      clients.push(client);
      expect(handled).toBe(1);
    },
  );

  it('a hook that throws gives the error status from Fastify\'s error handler', async () => {
    app.addHook('preHandler', async () => {
      throw Object.assign(new Error('forbidden room'), { statusCode: 403 });
    });
    app.get('/ws', { websocket: true }, () => undefined);
    base = await listen(app);
    const refused = await refusedUpgrade(`${base}/ws`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toBe('forbidden room');
  });

  it('answers 400 when querystring or headers fail schema validation', async () => {
    app.get(
      '/ws',
      {
        websocket: true,
        schema: {
          querystring: { type: 'object', properties: { room: { type: 'string', minLength: 3 } }, required: ['room'] },
          headers: { type: 'object', properties: { 'x-version': { type: 'integer' } }, required: ['x-version'] },
        },
      },
      (connection) => connection.sendUTF('valid'),
    );
    base = await listen(app);
    const badQuery = await refusedUpgrade(`${base}/ws?room=a`, { 'x-version': '2' });
    expect(badQuery.status).toBe(400);
    expect(JSON.parse(badQuery.body).message).toMatch(/querystring\/room/);
    const badHeader = await refusedUpgrade(`${base}/ws?room=lobby`, { 'x-version': 'two' });
    expect(badHeader.status).toBe(400);
    expect(JSON.parse(badHeader.body).message).toMatch(/headers\/x-version/);
    const client = await openClient(`${base}/ws?room=lobby`, { headers: { 'x-version': '2' } });
    clients.push(client);
    expect(await client.message()).toBe('valid');
  });

  it('answers an upgrade to an unknown path with Fastify\'s 404 (custom not-found handlers included)', async () => {
    app.setNotFoundHandler((request, reply) => reply.code(404).send({ missing: request.url, ws: request.ws }));
    base = await listen(app);
    const refused = await refusedUpgrade(`${base}/nowhere`);
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body)).toEqual({ missing: '/nowhere', ws: true });
  });

  it('answers plain HTTP to a WebSocket-only route with 426 Upgrade Required', async () => {
    app.get('/ws', { websocket: true }, () => {
      handled++;
    });
    await app.ready();
    const response = await supertest(app.server).get('/ws');
    expect(response.status).toBe(426);
    expect(response.headers.upgrade).toBe('websocket');
    expect(response.body).toEqual({ statusCode: 426, error: 'Upgrade Required', message: 'This route only accepts WebSocket connections.' });
    expect(handled).toBe(0);
  });

  it('lets plain HTTP requests run the same hooks with request.ws false', async () => {
    const seen: boolean[] = [];
    app.addHook('onRequest', async (request) => {
      seen.push(request.ws);
    });
    app.get('/http', async () => 'ok');
    app.get('/ws', { websocket: true }, (connection) => connection.sendUTF('ok'));
    base = await listen(app);
    await supertest(app.server).get('/http');
    const client = await openClient(`${base}/ws`);
    clients.push(client);
    await client.message();
    expect(seen).toEqual([false, true]);
  });
});
