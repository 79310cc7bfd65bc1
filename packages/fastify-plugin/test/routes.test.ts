/**
 * Routes: the handler's arguments and `this`, async handlers, `wsHandler` next to an HTTP
 * handler, prefixes, encapsulated plugins, subprotocol selection, and declaration errors.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { WebSocketConnection } from '@wsuite/core';
import { fastifyWebSocket } from '@wsuite/fastify-plugin';
import { echo, listen, openClient, refusedUpgrade, type OpenClient } from './helpers';

describe('routes', () => {
  let app: FastifyInstance;
  let base: string;
  const clients: OpenClient[] = [];
  const track = (client: OpenClient): OpenClient => {
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    app = Fastify();
    await app.register(fastifyWebSocket);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await app.close();
  });

  it('calls the handler with the core connection and the Fastify request (params, query, headers, decorations), this = route instance', async () => {
    app.decorateRequest('user', 'anonymous');
    app.decorate('greeting', 'hello');
    let seen: { connection: unknown; self: unknown } | undefined;
    app.get<{ Params: { room: string }; Querystring: { nick: string } }>('/rooms/:room', { websocket: true }, function (connection, request) {
      seen = { connection, self: this };
      const self = this as FastifyInstance & { greeting: string };
      const user = (request as typeof request & { user: string }).user;
      connection.sendUTF(JSON.stringify({ room: request.params.room, nick: request.query.nick, header: request.headers['x-client'], user, greeting: self.greeting, ws: request.ws }));
    });
    base = await listen(app);
    const client = track(await openClient(`${base}/rooms/lobby?nick=ada`, { headers: { 'x-client': 'jest' } }));
    expect(JSON.parse(await client.message())).toEqual({ room: 'lobby', nick: 'ada', header: 'jest', user: 'anonymous', greeting: 'hello', ws: true });
    expect(seen?.connection).toBeInstanceOf(WebSocketConnection);
    expect(seen?.self).toBe(app);
  });

  it('supports async handlers (the connection is open while the handler awaits)', async () => {
    app.get('/async', { websocket: true }, async (connection) => {
      await new Promise((resolve) => setImmediate(resolve));
      connection.sendUTF('after await');
    });
    base = await listen(app);
    const client = track(await openClient(`${base}/async`));
    expect(await client.message()).toBe('after await');
  });

  it('serves plain HTTP with handler and WebSocket with wsHandler on one route', async () => {
    app.route({
      method: 'GET',
      url: '/both',
      handler: async () => ({ via: 'http' }),
      wsHandler: (connection) => connection.sendUTF('via websocket'),
    });
    base = await listen(app);
    const response = await supertest(app.server).get('/both');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ via: 'http' });
    const client = track(await openClient(`${base}/both`));
    expect(await client.message()).toBe('via websocket');
  });

  it('takes the full route() form with websocket: true', async () => {
    app.route({ method: 'GET', url: '/full', websocket: true, handler: (connection) => connection.sendUTF('full form') });
    base = await listen(app);
    const client = track(await openClient(`${base}/full`));
    expect(await client.message()).toBe('full form');
    expect((await supertest(app.server).get('/full')).status).toBe(426);
  });

  it('works under prefixes and inside encapsulated plugins, with their own hooks and decorators', async () => {
    await app.register(
      async (api) => {
        api.decorateRequest('scope', 'api');
        await api.register(
          async (v1) => {
            v1.get('/chat', { websocket: true }, (connection, request) => {
              connection.sendUTF(`${(request as typeof request & { scope: string }).scope}:${request.url}`);
            });
          },
          { prefix: '/v1' },
        );
      },
      { prefix: '/api' },
    );
    app.get('/outside', { websocket: true }, (connection, request) => connection.sendUTF(String((request as typeof request & { scope?: string }).scope)));
    base = await listen(app);
    expect(await track(await openClient(`${base}/api/v1/chat`)).message()).toBe('api:/api/v1/chat');
    expect(await track(await openClient(`${base}/outside`)).message()).toBe('undefined');
    expect((await refusedUpgrade(`${base}/v1/chat`)).status).toBe(404);
  });

  it('serves a prefixed root route ("/" under a prefix)', async () => {
    await app.register(async (scope) => scope.get('/', { websocket: true }, echo), { prefix: '/root' });
    base = await listen(app);
    const client = track(await openClient(`${base}/root`));
    client.ws.send('ping');
    expect(await client.message()).toBe('ping');
  });

  describe('subprotocols', () => {
    beforeEach(() => {
      app.get('/list', { websocket: true, subprotocols: ['graphql-transport-ws', 'chat.v2', 'chat.v1'] }, (connection) => connection.sendUTF(String(connection.protocol)));
      app.get(
        '/fn',
        { websocket: true, subprotocols: (requested, request) => (request.headers['x-pick'] === 'last' ? requested[requested.length - 1] : undefined) },
        (connection) => connection.sendUTF(String(connection.protocol)),
      );
      app.get('/none', { websocket: true }, (connection) => connection.sendUTF(String(connection.protocol)));
    });

    it('picks the route preference the client offered (list form)', async () => {
      base = await listen(app);
      const client = track(await openClient(`${base}/list`, {}, ['chat.v1', 'chat.v2']));
      expect(client.ws.protocol).toBe('chat.v2');
      expect(await client.message()).toBe('chat.v2');
    });

    it('lets a function choose from the client list and the request', async () => {
      base = await listen(app);
      const last = track(await openClient(`${base}/fn`, { headers: { 'x-pick': 'last' } }, ['a', 'b']));
      expect(last.ws.protocol).toBe('b');
      // `ws` fails a connection whose offer got no answer, so ask with core's client end instead.
      const none = await app.injectWS('/fn', { protocols: ['a', 'b'] });
      expect(none.protocol).toBeUndefined();
      none.close();
    });

    it('selects none by default or when nothing matches (the client then decides)', async () => {
      base = await listen(app);
      await expect(injectProtocols('/none', ['chat.v1'])).resolves.toBeUndefined();
      await expect(injectProtocols('/list', ['other'])).resolves.toBeUndefined();
    });

    it('refuses with 500 when a function picks a protocol the client did not offer', async () => {
      app.get('/bad', { websocket: true, subprotocols: () => 'never-offered' }, () => undefined);
      base = await listen(app);
      await expect(app.injectWS('/bad', { protocols: ['chat'] })).rejects.toMatchObject({ statusCode: 500 });
    });

    async function injectProtocols(path: string, protocols: string[]): Promise<string | undefined> {
      const connection = await app.injectWS(path, { protocols });
      const protocol = connection.protocol;
      connection.close();
      return protocol;
    }
  });

  describe('declaration errors (fail when the route is declared)', () => {
    it('refuses a websocket: true route that is not GET', () => {
      expect(() => app.post('/ws', { websocket: true } as never, () => undefined)).toThrow(/a websocket: true route must use GET only/);
      expect(() => app.route({ method: ['GET', 'POST'], url: '/ws2', websocket: true, handler: () => undefined })).toThrow(TypeError);
    });

    it('refuses a wsHandler that is not a function, or on a route without GET', () => {
      expect(() => app.route({ method: 'GET', url: '/a', handler: async () => 'http', wsHandler: 'nope' as never })).toThrow(/wsHandler must be a function/);
      expect(() => app.route({ method: 'POST', url: '/b', handler: async () => 'http', wsHandler: () => undefined })).toThrow(/must include GET/);
    });

    it('refuses bad subprotocols', () => {
      expect(() => app.get('/c', { websocket: true, subprotocols: 'chat' as never }, () => undefined)).toThrow(/subprotocols must be/);
    });
  });

  it('answers HEAD on a WebSocket-only route with 426 and no body', async () => {
    app.get('/ws', { websocket: true }, () => undefined);
    await app.ready();
    const response = await supertest(app.server).head('/ws');
    expect(response.status).toBe(426);
    expect(response.headers.upgrade).toBe('websocket');
  });

  it('answers an upgrade to a plain HTTP route with that route\'s HTTP response (the Upgrade header is ignored, RFC 9110 §7.8)', async () => {
    app.get('/http-only', async () => ({ plain: true }));
    base = await listen(app);
    const refused = await refusedUpgrade(`${base}/http-only`);
    expect(refused.status).toBe(200);
    expect(JSON.parse(refused.body)).toEqual({ plain: true });
  });
});
