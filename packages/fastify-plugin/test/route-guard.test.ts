/**
 * The @fastify/websocket pitfall: a WebSocket route declared before the plugin finished loading.
 * Here it works once the plugin loads in its scope, and fails `ready()` with a clear error when
 * the plugin never does; it never silently serves HTTP.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { fastifyWebSocket } from '@wsuite/fastify-plugin';
import { listen, openClient } from './helpers';

describe('WebSocket routes declared before the plugin loaded', () => {
  let app: FastifyInstance;
  beforeEach(() => {
    app = Fastify();
  });
  afterEach(async () => {
    await app.close();
  });

  it('works when register() is not awaited before the route (same scope)', async () => {
    void app.register(fastifyWebSocket);
    app.get('/early', { websocket: true }, (connection, request) => connection.sendUTF(`early ${request.ws}`));
    const base = await listen(app);
    const client = await openClient(`${base}/early`);
    expect(await client.message()).toBe('early true');
    client.ws.close();
    expect((await supertest(app.server).get('/early')).status).toBe(426);
  });

  it('works for a route declared in a plugin that loads before fastifyWebSocket is registered', async () => {
    await app.register(async (routes) => {
      routes.get('/first', { websocket: true }, (connection) => connection.sendUTF('first'));
    });
    await app.register(fastifyWebSocket);
    const base = await listen(app);
    const client = await openClient(`${base}/first`);
    expect(await client.message()).toBe('first');
    client.ws.close();
  });

  it('fails ready() with a clear error when the plugin is never registered', async () => {
    app.get('/orphan', { websocket: true }, () => undefined);
    await expect(app.ready()).rejects.toThrow(
      'WebSocket route(s) GET /orphan, HEAD /orphan were declared where @wsuite/fastify-plugin is not registered. ' +
        'Register the plugin on the same instance or an ancestor (fastify.register(fastifyWebSocket)) before ready().',
    );
  });

  it('fails ready() when the route lives in a scope the plugin does not reach (a sibling plugin)', async () => {
    app.register(async (withPlugin) => {
      await withPlugin.register(fastifyWebSocket);
      withPlugin.get('/inside', { websocket: true }, () => undefined);
    });
    app.register(async (sibling) => {
      sibling.route({ method: 'GET', url: '/sibling', handler: async () => 'http', wsHandler: () => undefined });
    });
    await expect(app.ready()).rejects.toThrow(/GET \/sibling.*where @wsuite\/fastify-plugin is not registered/);
  });
});
