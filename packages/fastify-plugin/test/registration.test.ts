/**
 * Registration: options are checked by `register`, core options reach core, decorators exist,
 * and a second registration on the same server is refused.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { WebSocketServer } from '@wsuite/core';
import { fastifyWebSocket, type FastifyWebSocketOptions } from '@wsuite/fastify-plugin';
import defaultExport from '@wsuite/fastify-plugin';
import { closeOf, listen, openClient } from './helpers';

describe('registration', () => {
  const apps: FastifyInstance[] = [];
  const app = (): FastifyInstance => {
    const instance = Fastify();
    apps.push(instance);
    return instance;
  };
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  async function registerError(options: Record<string, unknown>): Promise<Error> {
    const instance = app();
    try {
      await instance.register(fastifyWebSocket, options as FastifyWebSocketOptions);
    } catch (error) {
      return error as Error;
    }
    throw new Error('register accepted the options');
  }

  it.each([
    [{ maxReceivedFrameSize: 'big' }, TypeError, /maxReceivedFrameSize.*must be a number/],
    [{ maxReceivedMessageSize: -1 }, RangeError, /maxReceivedMessageSize.*positive integer/],
    [{ keepalive: 'yes' }, TypeError, /keepalive.*boolean/],
    [{ closeTimeout: -5 }, RangeError, /closeTimeout/],
    [{ maxRecievedFrameSize: 10 }, TypeError, /unknown option "maxRecievedFrameSize"/],
    [{ noServer: false }, TypeError, /"noServer" is not supported/],
    [{ httpServer: {} }, TypeError, /"httpServer" is not supported/],
    [{ autoAcceptConnections: true }, TypeError, /"autoAcceptConnections" is not supported/],
    [{ errorHandler: 'log it' }, TypeError, /"errorHandler" must be a function/],
    [{ preClose: 42 }, TypeError, /"preClose" must be a function/],
  ])('fails register for %j with a clear message', async (options, kind, message) => {
    const error = await registerError(options);
    expect(error).toBeInstanceOf(kind);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/@wsuite\/fastify-plugin/);
  });

  it('exports the plugin as default and named, wrapped with fastify-plugin', () => {
    expect(defaultExport).toBe(fastifyWebSocket);
    expect((fastifyWebSocket as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')]).toBe(true);
    expect((fastifyWebSocket as unknown as Record<symbol, { name: string }>)[Symbol.for('plugin-meta')].name).toBe('@wsuite/fastify-plugin');
  });

  it('decorates the instance with core server, injectWS and request.ws, visible to the whole app', async () => {
    const instance = app();
    await instance.register(fastifyWebSocket);
    instance.get('/http', async (request) => ({ ws: request.ws }));
    expect(instance.websocketServer).toBeInstanceOf(WebSocketServer);
    expect(typeof instance.injectWS).toBe('function');
    expect(instance.hasPlugin('@wsuite/fastify-plugin')).toBe(true);
    await instance.ready();
    expect((await supertest(instance.server).get('/http')).body).toEqual({ ws: false });
  });

  it('passes core options to core (a frame above maxReceivedFrameSize closes with 1009)', async () => {
    const instance = app();
    await instance.register(fastifyWebSocket, { maxReceivedFrameSize: 16, keepalive: false });
    instance.get('/ws', { websocket: true }, () => undefined);
    const base = await listen(instance);
    expect(instance.websocketServer.config?.maxReceivedFrameSize).toBe(16);
    expect(instance.websocketServer.config?.keepalive).toBe(false);
    const client = await openClient(`${base}/ws`);
    client.ws.send('x'.repeat(17));
    expect((await client.closed).code).toBe(1009);
  });

  it('accepts Fastify register options (prefix) next to its own', async () => {
    const instance = app();
    await instance.register(fastifyWebSocket, { prefix: '/ignored', closeTimeout: 100 } as FastifyWebSocketOptions);
    expect(instance.websocketServer.config?.closeTimeout).toBe(100);
  });

  it('refuses a second registration on the same server', async () => {
    const instance = app();
    instance.register(async (a) => {
      await a.register(fastifyWebSocket);
    });
    instance.register(async (b) => {
      await b.register(fastifyWebSocket);
    });
    await expect(instance.ready()).rejects.toThrow(/already registered on this Fastify server/);
  });

  it('gives each app its own core server', async () => {
    const one = app();
    const two = app();
    await one.register(fastifyWebSocket);
    await two.register(fastifyWebSocket);
    one.get('/ws', { websocket: true }, () => undefined);
    await one.ready();
    await two.ready();
    expect(one.websocketServer).not.toBe(two.websocketServer);
    const connection = await one.injectWS('/ws');
    expect(one.websocketServer.connections).toHaveLength(1);
    expect(two.websocketServer.connections).toHaveLength(0);
    const closed = closeOf(connection);
    connection.close();
    await closed;
  });
});
