/**
 * Options: checked at creation and registration, core settings per instance and per route
 * (limits, keepalive), subprotocol selection, and which routes share a core server.
 */
import { createServer } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import type { WebSocketConnection } from '@wsuite/core';
import { createExpressWebSocket } from '@wsuite/express-middleware';
import { open, refused, start, until, type Client, type Running } from './helpers';

const running: Running[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function connect(url: string, protocols?: string | string[]): Promise<Client> {
  const c = await open(url, {}, protocols);
  clients.push(c);
  return c;
}

function echo(connection: WebSocketConnection): void {
  connection.on('message', (m) => (m.type === 'utf8' ? connection.sendUTF(m.utf8Data) : connection.sendBytes(m.binaryData)));
}

/** Calls made with deliberately wrong arguments, as plain JavaScript could make them. */
type Untyped = (...args: unknown[]) => unknown;

describe('bad options and arguments fail at once', () => {
  it.each([
    [{ maxReceivedMessageSize: 0 }, RangeError, /maxReceivedMessageSize/],
    [{ maxReceivedFrameSize: '64k' }, TypeError, /maxReceivedFrameSize/],
    [{ keepalive: 'yes' }, TypeError, /keepalive/],
    [{ closeTimeout: -1 }, RangeError, /closeTimeout/],
    [{ keepalive: true, keepaliveInterval: 0 }, TypeError, /keepaliveInterval/],
    [{ handleProtocols: 'chat' }, TypeError, /handleProtocols/],
    [{ errorHandler: {} }, TypeError, /errorHandler/],
    [{ upgradeRequired: 1 }, TypeError, /upgradeRequired/],
    [{ maxRecievedMessageSize: 10 }, TypeError, /Unknown WebSocket option "maxRecievedMessageSize"/],
    [{ noServer: false }, TypeError, /noServer.*managed/],
    [{ httpServer: createServer() }, TypeError, /httpServer.*managed/],
    [{ autoAcceptConnections: true }, TypeError, /autoAcceptConnections.*managed/],
    ['fast', TypeError, /must be an object/],
  ])('createExpressWebSocket(%p) throws', (options, type, message) => {
    const create = createExpressWebSocket as unknown as Untyped;
    expect(() => create(options)).toThrow(type);
    expect(() => create(options)).toThrow(message);
  });

  it('checks route options when the route is registered, not when a client comes', () => {
    const wsx = createExpressWebSocket();
    const ws = wsx.ws as unknown as Untyped;
    const app = express();
    expect(() => ws(app, '/a', { maxReceivedMessageSize: -5 }, echo)).toThrow(RangeError);
    expect(() => ws(app, '/b', { bogus: true }, echo)).toThrow(/Unknown WebSocket option "bogus"/);
  });

  it('checks the route arguments', () => {
    const wsx = createExpressWebSocket();
    const ws = wsx.ws as unknown as Untyped;
    const app = express();
    expect(() => ws({}, '/x', echo)).toThrow(/Express app or Router/);
    expect(() => ws(app, 42, echo)).toThrow(/string path/);
    expect(() => ws(app, '/x')).toThrow(/needs a handler/);
    expect(() => ws(app, '/x', {})).toThrow(/needs a handler/);
    expect(() => ws(app, '/x', echo, 'not a function')).toThrow(/must be functions/);
    // Express 5 path syntax errors surface at registration too.
    expect(() => ws(app, '/rooms/:id?', echo)).toThrow(TypeError);
  });

  it('checks attach() arguments', () => {
    const wsx = createExpressWebSocket();
    const attach = wsx.attach as unknown as Untyped;
    expect(() => attach(undefined, express())).toThrow(/http\.Server/);
    expect(() => attach(createServer(), {})).toThrow(/Express app/);
  });
});

describe('core options per instance and per route', () => {
  it('applies a route limit over the instance limit, and the instance limit elsewhere', async () => {
    const wsx = createExpressWebSocket({ maxReceivedFrameSize: 64, maxReceivedMessageSize: 64 });
    const app = express();
    wsx.ws(app, '/small', echo);
    wsx.ws(app, '/tiny', { maxReceivedFrameSize: 8, maxReceivedMessageSize: 8 }, echo);
    const r = await start(wsx, app);
    running.push(r);

    const small = await connect(r.url('/small'));
    small.ws.send('x'.repeat(9));
    await until(() => small.messages[0], 'echo of 9 bytes');
    expect(small.messages[0]).toBe('x'.repeat(9));
    small.ws.send('x'.repeat(65));
    expect((await small.closed).code).toBe(1009);

    const tiny = await connect(r.url('/tiny'));
    tiny.ws.send('x'.repeat(9));
    expect((await tiny.closed).code).toBe(1009);
  });

  it('applies keepalive per route: the route with a short interval pings the client', async () => {
    const wsx = createExpressWebSocket({ keepalive: false });
    const app = express();
    wsx.ws(app, '/heartbeat', { keepalive: true, keepaliveInterval: 20, keepaliveGracePeriod: 1000 }, echo);
    const r = await start(wsx, app);
    running.push(r);

    const c = await connect(r.url('/heartbeat'));
    await until(() => (c.pings > 0 ? true : undefined), 'a keepalive ping');
    expect(c.pings).toBeGreaterThan(0);
  });

  it('shares one core server between routes without own core options, and gives each configured route its own', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    const servers = new Set<unknown>();
    const record = (connection: WebSocketConnection): void => {
      servers.add(connection.config);
    };
    wsx.ws(app, '/a', record);
    wsx.ws(app, '/b', { errorHandler: () => undefined }, record);
    wsx.ws(app, '/c', { maxReceivedMessageSize: 10 }, record);
    const r = await start(wsx, app);
    running.push(r);

    await Promise.all(['/a', '/b', '/c'].map((p) => connect(r.url(p))));
    await until(() => (r.attached.connections.length === 3 ? true : undefined), 'three connections');
    // A connection reads its core server's config object: /a and /b share one, /c has its own.
    expect(servers.size).toBe(2);
  });
});

describe('subprotocol selection', () => {
  it('accepts the first requested protocol by default', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    wsx.ws(app, '/p', (connection) => {
      connection.sendUTF(String(connection.protocol));
    });
    const r = await start(wsx, app);
    running.push(r);

    const c = await connect(r.url('/p'), ['Chat.v2', 'chat.v1']);
    expect(c.ws.protocol).toBe('Chat.v2');
    const bare = await connect(r.url('/p'));
    expect(bare.ws.protocol).toBe('');
  });

  it('uses handleProtocols (route over instance), which sees the request', async () => {
    const wsx = createExpressWebSocket({ handleProtocols: (requested) => (requested.includes('chat.v1') ? 'chat.v1' : false) });
    const app = express();
    wsx.ws(app, '/instance', echo);
    wsx.ws(app, '/route', { handleProtocols: (requested, req) => (req.query.pick === 'none' ? null : requested[requested.length - 1]) }, echo);
    const r = await start(wsx, app);
    running.push(r);

    expect((await connect(r.url('/instance'), ['chat.v2', 'chat.v1'])).ws.protocol).toBe('chat.v1');
    expect((await connect(r.url('/route'), ['a', 'b'])).ws.protocol).toBe('b');
    const none = await open(r.url('/route?pick=none'), {}, ['a']).catch((error: Error) => error);
    // The client asked for a protocol and got none: a compliant client fails the connection.
    expect(none).toBeInstanceOf(Error);
    expect((none as Error).message).toMatch(/no subprotocol/i);
  });

  it('sends a protocol the client did not request to the Express error handler, with no handshake', async () => {
    const wsx = createExpressWebSocket({ handleProtocols: () => 'made-up' });
    const app = express();
    const handler = jest.fn();
    wsx.ws(app, '/p', handler);
    const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
      res.status(500).json({ error: error.message });
    };
    app.use(onError);
    const r = await start(wsx, app);
    running.push(r);

    const refusal = await refused(r.url('/p'), { 'Sec-WebSocket-Protocol': 'chat' });
    expect(refusal.status).toBe(500);
    expect(JSON.parse(refusal.body).error).toMatch(/"made-up".*did not request.*chat/);
    expect(handler).not.toHaveBeenCalled();
  });
});
