/**
 * `fastify.injectWS(path, { headers, protocols })`: a connected client without a listening port,
 * through the same parser, hooks and handshake as a network client; refusals reject with the
 * HTTP status. Also the in-memory duplex pair under it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketConnection } from '@wsuite/core';
import { InjectWSError, createDuplexPair, fastifyWebSocket } from '@wsuite/fastify-plugin';
import { closeOf, echo, nextMessage } from './helpers';

describe('injectWS', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = Fastify();
    await app.register(fastifyWebSocket);
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/private') && request.headers['x-token'] !== 'secret') return reply.code(401).send({ error: 'no token' });
    });
    app.get('/echo', { websocket: true }, echo);
    app.get('/private', { websocket: true }, (connection, request) => connection.sendUTF(`hello ${request.headers['x-user']}`));
    app.get('/chat', { websocket: true, subprotocols: ['chat.v2', 'chat.v1'] }, (connection) => connection.sendUTF(String(connection.protocol)));
    app.get('/greet', { websocket: true }, (connection) => {
      connection.sendUTF('first');
      connection.sendUTF('second');
    });
  });
  afterEach(async () => {
    await app.close();
  });

  it('connects without a listening port and exchanges text and binary messages', async () => {
    const connection = await app.injectWS('/echo');
    expect(app.server.listening).toBe(false);
    expect(connection).toBeInstanceOf(WebSocketConnection);
    expect(connection.maskOutgoingPackets).toBe(true);
    const text = nextMessage(connection);
    connection.sendUTF('hi there');
    expect(await text).toBe('hi there');
    const binary = nextMessage(connection);
    connection.sendBytes(Buffer.from([0xca, 0xfe]));
    expect(await binary).toBe('cafe');
    const closed = closeOf(connection);
    connection.close(1000);
    expect((await closed).code).toBe(1000);
  });

  it('passes headers through the hooks to the handler', async () => {
    const connection = await app.injectWS('/private', { headers: { 'x-token': 'secret', 'X-User': 'ada' } });
    expect(await nextMessage(connection)).toBe('hello ada');
    connection.close();
  });

  it('delivers messages the server sends on open, once the caller has attached its listener', async () => {
    const connection = await app.injectWS('/greet');
    const received: string[] = [];
    connection.on('message', (m) => m.type === 'utf8' && received.push(m.utf8Data));
    await new Promise<void>((resolve) => {
      const check = (): void => (received.length === 2 ? resolve() : void setImmediate(check));
      check();
    });
    expect(received).toEqual(['first', 'second']);
    connection.close();
  });

  it('offers protocols and exposes the one the route selected', async () => {
    const connection = await app.injectWS('/chat', { protocols: ['chat.v1', 'chat.v2'] });
    expect(connection.protocol).toBe('chat.v2');
    expect(await nextMessage(connection)).toBe('chat.v2');
    connection.close();
  });

  it('rejects with an InjectWSError carrying the status, headers and body when a hook refuses', async () => {
    const error = (await app.injectWS('/private').catch((e: unknown) => e)) as InjectWSError;
    expect(error).toBeInstanceOf(InjectWSError);
    expect(error.message).toBe('WebSocket upgrade refused with HTTP 401');
    expect(error.statusCode).toBe(401);
    expect(error.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(error.body)).toEqual({ error: 'no token' });
  });

  it('rejects with 404 for an unknown path, 400 for a bad key and 426 for a bad version (headers override the handshake)', async () => {
    await expect(app.injectWS('/missing')).rejects.toMatchObject({ statusCode: 404 });
    await expect(app.injectWS('/echo', { headers: { 'sec-websocket-key': 'short' } })).rejects.toMatchObject({ statusCode: 400 });
    await expect(app.injectWS('/echo', { headers: { 'sec-websocket-version': '7' } })).rejects.toMatchObject({ statusCode: 426 });
  });

  it('readies the app itself (routes added before the first call)', async () => {
    const fresh = Fastify();
    await fresh.register(fastifyWebSocket);
    fresh.get('/late', { websocket: true }, (connection) => connection.sendUTF('ready'));
    const connection = await fresh.injectWS('/late');
    expect(await nextMessage(connection)).toBe('ready');
    await fresh.close();
  });

  it('checks its arguments', async () => {
    await expect(app.injectWS('no-slash')).rejects.toThrow(TypeError);
    await expect(app.injectWS('/echo', { protocols: ['bad protocol'] })).rejects.toThrow(/subprotocol tokens/);
  });
});

describe('createDuplexPair', () => {
  it('carries bytes both ways and end-of-stream to the peer', async () => {
    const [a, b] = createDuplexPair();
    const atB: Buffer[] = [];
    const atA: Buffer[] = [];
    b.on('data', (chunk: Buffer) => atB.push(chunk));
    a.on('data', (chunk: Buffer) => atA.push(chunk));
    const bEnded = new Promise<void>((resolve) => b.once('end', resolve));
    a.write('ping');
    b.write('pong');
    a.end();
    await bEnded;
    expect(Buffer.concat(atB).toString()).toBe('ping');
    expect(Buffer.concat(atA).toString()).toBe('pong');
    b.end();
    await new Promise<void>((resolve) => a.once('close', resolve));
  });

  it('holds a writer back until the paused reader reads (backpressure)', async () => {
    const [a, b] = createDuplexPair();
    b.pause();
    const big = Buffer.alloc(64 * 1024, 1);
    let flushed = false;
    a.write(big, () => {
      flushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    expect(b.readableLength).toBe(big.length);
    const read = new Promise<void>((resolve) => b.once('data', () => resolve()));
    b.resume();
    await read;
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(true);
    a.destroy();
    b.destroy();
  });

  it('makes the peer read end-of-stream when one end is destroyed', async () => {
    const [a, b] = createDuplexPair();
    b.resume();
    const ended = new Promise<void>((resolve) => b.once('end', resolve));
    a.destroy();
    await ended;
    expect(a.destroyed).toBe(true);
  });
});
