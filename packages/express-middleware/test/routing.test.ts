/**
 * Upgrade requests run through the app's real chain (app-, router- and route-level middleware)
 * before the handshake; middleware answers are real HTTP answers; only WebSocket routes take
 * upgrades and they take nothing else.
 */
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import type { WebSocketConnection } from '@wsuite/core';
import { createExpressWebSocket, isWebSocketUpgrade, WEBSOCKET_METHOD } from '@wsuite/express-middleware';
import { open, refused, start, until, UPGRADE_HEADERS, type Client, type Running } from './helpers';

const running: Running[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function serve(app: express.Express, wsx = createExpressWebSocket()): Promise<Running> {
  const r = await start(wsx, app);
  running.push(r);
  return r;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const c = await open(url, { headers });
  clients.push(c);
  return c;
}

const sendJson = (value: unknown) => (connection: WebSocketConnection) => {
  connection.sendUTF(JSON.stringify(value));
};

describe('the middleware chain before the handshake', () => {
  it('runs app-, router- and route-level middleware in order, and the handler sees what they set', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    const seen: string[] = [];
    app.use((req, _res, next) => {
      seen.push(`app:${isWebSocketUpgrade(req)}`);
      (req as unknown as { user: string }).user = 'ada';
      next();
    });
    const router = wsx.router({ mergeParams: true });
    router.use((_req, _res, next) => {
      seen.push('router');
      next();
    });
    router.ws(
      '/rooms/:room',
      (_req, _res, next) => {
        seen.push('route');
        next();
      },
      (connection, req) => {
        seen.push(`handler:${req.method}`);
        const user = (req as unknown as { user: string }).user;
        connection.sendUTF(JSON.stringify({ user, org: (req.params as Record<string, string>).org, room: req.params.room, q: req.query.q, path: req.path }));
      },
    );
    app.use('/orgs/:org', router);
    const r = await serve(app, wsx);

    const c = await connect(r.url('/orgs/acme/rooms/7?q=hi'));
    await until(() => c.messages[0], 'handler message');
    expect(JSON.parse(c.messages[0])).toEqual({ user: 'ada', org: 'acme', room: '7', q: 'hi', path: '/rooms/7' });
    expect(seen).toEqual(['app:true', 'router', 'route', 'handler:GET']);
  });

  it('sends a middleware 401 as the real HTTP response, with its JSON body, and never upgrades', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    const handler = jest.fn();
    const requireAuth: RequestHandler = (req, res, next) => {
      if (req.get('authorization') === 'Bearer ok') next();
      else res.status(401).json({ error: 'unauthorized' });
    };
    wsx.ws(app, '/secure', requireAuth, handler);
    const r = await serve(app, wsx);

    const refusal = await refused(r.url('/secure'));
    expect(refusal.status).toBe(401);
    expect(JSON.parse(refusal.body)).toEqual({ error: 'unauthorized' });
    await request(r.http).get('/secure').set(UPGRADE_HEADERS).expect(401, { error: 'unauthorized' });
    expect(handler).not.toHaveBeenCalled();

    const c = await connect(r.url('/secure'), { authorization: 'Bearer ok' });
    await until(() => (handler.mock.calls.length === 1 ? true : undefined), 'handler call');
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('lets app-level middleware (a rate limiter) refuse with 429 before any route', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    let hits = 0;
    app.use((_req, res, next) => {
      hits += 1;
      if (hits > 2) res.status(429).set('Retry-After', '1').send('Too Many Requests');
      else next();
    });
    wsx.ws(app, '/limited', sendJson('ok'));
    const r = await serve(app, wsx);

    await connect(r.url('/limited'));
    await connect(r.url('/limited'));
    const third = await refused(r.url('/limited'));
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
  });

  it('takes async middleware: the handshake waits for it', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(
      app,
      '/slow',
      async (req, _res, next) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        (req as unknown as { loaded: boolean }).loaded = true;
        next();
      },
      (connection, req) => {
        connection.sendUTF(String((req as unknown as { loaded: boolean }).loaded));
      },
    );
    const r = await serve(app, wsx);
    const c = await connect(r.url('/slow'));
    await until(() => c.messages[0], 'message');
    expect(c.messages[0]).toBe('true');
  });

  it('sends next(err) to the Express error handler, whose response the client gets', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(app, '/sync-error', (_req, _res, next) => next(Object.assign(new Error('nope'), { status: 403 })), sendJson('never'));
    wsx.ws(
      app,
      '/async-error',
      async () => {
        throw new Error('async nope');
      },
      sendJson('never'),
    );
    const seen: string[] = [];
    const onError: ErrorRequestHandler = (error: Error & { status?: number }, _req, res, _next) => {
      seen.push(error.message);
      res.status(error.status ?? 500).json({ error: error.message });
    };
    app.use(onError);
    const r = await serve(app, wsx);

    const first = await refused(r.url('/sync-error'));
    expect([first.status, JSON.parse(first.body)]).toEqual([403, { error: 'nope' }]);
    const second = await refused(r.url('/async-error'));
    expect([second.status, JSON.parse(second.body)]).toEqual([500, { error: 'async nope' }]);
    expect(seen).toEqual(['nope', 'async nope']);
  });

  it('answers an error no Express handler took with its status (500 by default) and logs it', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const wsx = createExpressWebSocket();
      const app = express();
      wsx.ws(app, '/teapot', (_req, _res, next) => next(Object.assign(new Error('short and stout'), { status: 418 })), sendJson('never'));
      wsx.ws(app, '/boom', () => {
        throw new Error('boom');
      }, sendJson('never'));
      const r = await serve(app, wsx);
      expect((await refused(r.url('/teapot'))).status).toBe(418);
      expect((await refused(r.url('/boom'))).status).toBe(500);
      expect(log).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ message: 'boom' }));
    } finally {
      log.mockRestore();
    }
  });
});

describe('which routes take an upgrade', () => {
  it('answers an upgrade to a path with no WebSocket route with 404, even when an HTTP route serves that path', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    const page = jest.fn((_req: express.Request, res: express.Response) => {
      res.send('page');
    });
    app.get('/page', page);
    app.all('/app-all', (_req, res) => {
      res.send('app.all');
    });
    const router = express.Router();
    router.all('/router-all', (_req, res) => {
      res.send('router.all');
    });
    app.use(router);
    app.get('/*splat', page);
    wsx.ws(app, '/echo', sendJson('ok'));
    const r = await serve(app, wsx);

    expect((await refused(r.url('/page'))).status).toBe(404);
    expect((await refused(r.url('/nowhere'))).status).toBe(404);
    expect(page).not.toHaveBeenCalled();
    // Express 5's `app.all` registers each HTTP method, so it does not match upgrades; a
    // Router's `all` (Route#all) matches every method, upgrades included, as middleware would.
    expect((await refused(r.url('/app-all'))).status).toBe(404);
    expect((await refused(r.url('/router-all'))).status).toBe(200);
    await request(r.http).get('/page').expect(200, 'page');
  });

  it('serves an HTTP GET and a WebSocket route on the same path, in either registration order', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    app.get('/before', (_req, res) => {
      res.send('http before');
    });
    wsx.ws(app, '/before', sendJson('ws before'));
    wsx.ws(app, '/after', sendJson('ws after'));
    app.get('/after', (_req, res) => {
      res.send('http after');
    });
    const r = await serve(app, wsx);

    await request(r.http).get('/before').expect(200, 'http before');
    await request(r.http).get('/after').expect(200, 'http after');
    const before = await connect(r.url('/before'));
    const after = await connect(r.url('/after'));
    await until(() => (before.messages[0] && after.messages[0] ? true : undefined), 'both messages');
    expect([before.messages[0], after.messages[0]]).toEqual(['"ws before"', '"ws after"']);
  });

  it("answers a plain GET on a WebSocket-only path with the app's 404, or 426 with upgradeRequired", async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(app, '/plain', sendJson('ok'));
    wsx.ws(app, '/strict', { upgradeRequired: true }, sendJson('ok'));
    const r = await serve(app, wsx);

    await request(r.http).get('/plain').expect(404);
    const strict = await request(r.http).get('/strict').expect(426);
    expect(strict.headers.upgrade).toBe('websocket');
    await request(r.http).post('/strict').expect(404);
  });

  it('serves a non-WebSocket upgrade (curl --http2 offers h2c) as the plain request it also is', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    app.get('/page', (_req, res) => {
      res.send('page');
    });
    wsx.ws(app, '/echo', sendJson('ok'));
    const r = await serve(app, wsx);
    const h2c = { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAARAAAAAAAIAAAAA' };

    await request(r.http).get('/page').set(h2c).expect(200, 'page');
    await request(r.http).get('/echo').set(h2c).expect(404);
  });

  it('keeps express.static from answering upgrades', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    app.use(express.static(__dirname));
    wsx.ws(app, '/helpers.ts', sendJson('ws'));
    const r = await serve(app, wsx);

    await request(r.http).get('/helpers.ts').expect(200);
    const c = await connect(r.url('/helpers.ts'));
    await until(() => c.messages[0], 'message');
    expect(c.messages[0]).toBe('"ws"');
  });

  it('marks the request while it is routed, and gives the handler the real method', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    const methods: string[] = [];
    app.use((req, _res, next) => {
      methods.push(`${req.method}:${isWebSocketUpgrade(req)}`);
      next();
    });
    wsx.ws(app, '/m', (connection, req) => {
      connection.sendUTF(`${req.method}:${isWebSocketUpgrade(req)}`);
    });
    app.get('/m', (_req, res) => {
      res.send('plain');
    });
    const r = await serve(app, wsx);

    await request(r.http).get('/m').expect(200, 'plain');
    const c = await connect(r.url('/m'));
    await until(() => c.messages[0], 'message');
    expect(c.messages[0]).toBe('GET:false');
    expect(methods).toEqual(['GET:false', `${WEBSOCKET_METHOD}:true`]);
  });

  it('understands Express 5 path syntax: named wildcards and optional segments', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(app, '/files/*path', (connection, req) => {
      connection.sendUTF(JSON.stringify(req.params.path));
    });
    wsx.ws(app, '/rooms{/:id}', (connection, req) => {
      connection.sendUTF(JSON.stringify(req.params.id ?? null));
    });
    const r = await serve(app, wsx);

    const files = await connect(r.url('/files/a/b.txt'));
    const room = await connect(r.url('/rooms/9'));
    const lobby = await connect(r.url('/rooms'));
    await until(() => (files.messages[0] && room.messages[0] && lobby.messages[0] ? true : undefined), 'three messages');
    expect([files.messages[0], room.messages[0], lobby.messages[0]]).toEqual(['["a","b.txt"]', '"9"', 'null']);
  });

  it('chains router.ws() and registers with wsx.ws() on a plain express.Router', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    const made = wsx.router();
    expect(made.ws('/one', sendJson(1)).ws('/two', sendJson(2))).toBe(made);
    const plain = express.Router();
    expect(wsx.ws(plain, '/three', sendJson(3))).toBe(plain);
    app.use('/made', made);
    app.use('/plain', plain);
    const r = await serve(app, wsx);

    const cs = await Promise.all(['/made/one', '/made/two', '/plain/three'].map((p) => connect(r.url(p))));
    await until(() => (cs.every((c) => c.messages[0]) ? true : undefined), 'three messages');
    expect(cs.map((c) => c.messages[0])).toEqual(['1', '2', '3']);
  });

  it('lets a middleware skip the WebSocket route with next("route") to a later one', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(app, '/pick', (req, _res, next) => (req.query.v === '2' ? next('route') : next()), sendJson('v1'));
    wsx.ws(app, '/pick', sendJson('v2'));
    const r = await serve(app, wsx);

    const one = await connect(r.url('/pick'));
    const two = await connect(r.url('/pick?v=2'));
    await until(() => (one.messages[0] && two.messages[0] ? true : undefined), 'two messages');
    expect([one.messages[0], two.messages[0]]).toEqual(['"v1"', '"v2"']);
  });
});
