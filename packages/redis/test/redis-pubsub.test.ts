/**
 * RedisPubSub in one process against a real redis-server: option checks, one driver serving
 * several servers, two drivers as two "processes", prefixes, foreign messages, error reporting
 * without listeners, setPubSub(null) and close().
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { WebSocketServer } from '@wsuite/core';
import { RedisPubSub, RedisPubSubError } from '@wsuite/redis';
import { RedisServer, freePort } from './helpers/redis-server';
import { until } from './helpers/server-process';

let redis: RedisServer;
let admin: Redis;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  admin = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
}, 30000);

afterEach(async () => {
  jest.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

/** A driver on the test Redis, closed after the test. */
async function driver(options: ConstructorParameters<typeof RedisPubSub>[0] = {}): Promise<RedisPubSub> {
  const pubsub = new RedisPubSub({ redis: redis.url, ...options });
  cleanups.push(() => pubsub.close());
  if (!pubsub.ready) await new Promise<void>((resolve) => pubsub.once('ready', resolve));
  return pubsub;
}

/** A core server on port 0 whose connections subscribe to `?topics=`. */
async function server(pubsub: RedisPubSub | null): Promise<{ wss: WebSocketServer; port: number }> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ httpServer: http, keepalive: false });
  if (pubsub) wss.setPubSub(pubsub);
  wss.on('request', (request) => {
    const connection = request.accept();
    const topics = new URL(request.resource, 'http://x').searchParams.get('topics') ?? '';
    for (const topic of topics.split(',').filter(Boolean)) connection.subscribe(topic);
    connection.sendUTF('subscribed');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    wss.shutDown();
    for (const connection of [...wss.connections]) connection.drop(1001, 'test over', true);
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
  return { wss, port: (http.address() as AddressInfo).port };
}

/** A `ws` client subscribed to `topics`; resolves with the texts it receives from then on. */
async function client(port: number, topics: string[]): Promise<string[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/?topics=${topics.join(',')}`);
  cleanups.push(() => {
    ws.terminate();
  });
  const texts: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      if (data.toString() === 'subscribed' && texts.length === 0) resolve();
      else texts.push(data.toString());
    });
  });
  return texts;
}

async function numsub(channel: string): Promise<number> {
  return Number(((await admin.pubsub('NUMSUB', channel)) as [string, number])[1]);
}

async function untilNumsub(channel: string, expected: number): Promise<void> {
  const deadline = Date.now() + 10000;
  while ((await numsub(channel)) !== expected) {
    if (Date.now() > deadline) throw new Error(`${channel}: never ${expected} subscriber(s)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('options', () => {
  it('throws TypeError/RangeError naming the bad option, before connecting', () => {
    expect(() => new RedisPubSub(42 as never)).toThrow(new TypeError("RedisPubSub options must be an object like { redis: 'redis://127.0.0.1:6379' }, got number."));
    expect(() => new RedisPubSub({ url: 'redis://x' } as never)).toThrow(new TypeError('Unknown RedisPubSub option "url" (known: redis, prefix, instanceId, onError).'));
    expect(() => new RedisPubSub({ redis: 'http://127.0.0.1:6379' })).toThrow(/Option "redis" must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => new RedisPubSub({ redis: 6379 as never })).toThrow(new TypeError('Option "redis" must be a redis:// URL or an ioredis options object, got number.'));
    expect(() => new RedisPubSub({ prefix: 1 as never })).toThrow(new TypeError('Option "prefix" must be a string, got number.'));
    expect(() => new RedisPubSub({ instanceId: '' })).toThrow(new RangeError('Option "instanceId" must be 1 to 255 bytes of UTF-8, got 0.'));
    expect(() => new RedisPubSub({ instanceId: 'x'.repeat(256) })).toThrow(RangeError);
    expect(() => new RedisPubSub({ onError: 'log' as never })).toThrow(new TypeError('Option "onError" must be a function, got string.'));
  });

  it('defaults: prefix "wsuite:", a random instance id per driver', async () => {
    const [one, two] = [await driver(), await driver()];
    expect(one.prefix).toBe('wsuite:');
    expect(one.channelOf('chat')).toBe('wsuite:chat');
    expect(one.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(one.instanceId).not.toBe(two.instanceId);
  });
});

describe('fan-out', () => {
  it('one driver serves two servers in a process: both get a publish once, another driver’s process once', async () => {
    const local = await driver({ instanceId: 'here' });
    const remote = await driver({ instanceId: 'there' });
    const [s1, s2, s3] = [await server(local), await server(local), await server(remote)];
    const [c1, c2, c3] = [await client(s1.port, ['t']), await client(s2.port, ['t']), await client(s3.port, ['t'])];
    await untilNumsub('wsuite:t', 2);
    expect(local.topics).toEqual(['t']);
    s1.wss.publish('t', 'from s1');
    await until(() => c3.length === 1, 'the remote server to get it');
    s3.wss.publish('t', 'from s3');
    await until(() => c1.length === 2 && c2.length === 2 && c3.length === 2, 'every client to get both');
    expect([c1, c2, c3]).toEqual([
      ['from s1', 'from s3'],
      ['from s1', 'from s3'],
      ['from s1', 'from s3'],
    ]);
  });

  it('drivers with different prefixes do not hear each other', async () => {
    const blue = await driver({ prefix: 'blue:' });
    const green = await driver({ prefix: 'green:' });
    const [sb, sg] = [await server(blue), await server(green)];
    const [cb, cg] = [await client(sb.port, ['t']), await client(sg.port, ['t'])];
    await untilNumsub('blue:t', 1);
    await untilNumsub('green:t', 1);
    sg.wss.publish('t', 'green only');
    sb.wss.publish('t', 'blue only');
    // A message published on one Redis channel after the other: when it arrives the other would have too.
    const fence = await driver({ prefix: 'blue:' });
    fence.publish('t', Buffer.from('fence'), false, { deliverRemote: () => 0 });
    await until(() => cb.length === 2, 'the fence');
    expect(cb).toEqual(['blue only', 'fence']);
    expect(cg).toEqual(['green only']);
  });

  it('reports a message that is not an envelope (WSUITE_REDIS_BAD_MESSAGE) and skips it', async () => {
    const errors: RedisPubSubError[] = [];
    const pubsub = await driver({ onError: (error) => errors.push(error as RedisPubSubError) });
    const s = await server(pubsub);
    const texts = await client(s.port, ['t']);
    await untilNumsub('wsuite:t', 1);
    await admin.publish('wsuite:t', 'not an envelope');
    await until(() => errors.length === 1, 'the error');
    expect(errors[0]).toBeInstanceOf(RedisPubSubError);
    expect(errors[0].code).toBe('WSUITE_REDIS_BAD_MESSAGE');
    expect(errors[0].message).toMatch(/wsuite:t/);
    expect(texts).toEqual([]);
  });

  it('setPubSub(null) unsubscribes the server’s topics in Redis', async () => {
    const pubsub = await driver();
    const s = await server(pubsub);
    await client(s.port, ['a', 'b']);
    await untilNumsub('wsuite:a', 1);
    await untilNumsub('wsuite:b', 1);
    s.wss.setPubSub(null);
    await untilNumsub('wsuite:a', 0);
    await untilNumsub('wsuite:b', 0);
    expect(pubsub.topics).toEqual([]);
  });
});

describe('errors and shutdown', () => {
  it('without Redis: errors go to onError / error listeners; with none, to a process warning (no crash)', async () => {
    const port = await freePort();
    const warnings: Array<[unknown, unknown]> = [];
    jest.spyOn(process, 'emitWarning').mockImplementation(((warning: unknown, options: unknown) => {
      warnings.push([warning, options]);
    }) as never);
    const silent = new RedisPubSub({ redis: { host: '127.0.0.1', port, retryStrategy: () => 50 } });
    cleanups.push(() => silent.close());
    await until(() => warnings.length > 0, 'a warning');
    expect(warnings[0][0]).toMatch(/^Redis (subscriber|publisher) connection: connect ECONNREFUSED/);
    expect(warnings[0][1]).toEqual({ code: 'WSUITE_REDIS_CONNECTION' });

    const errors: RedisPubSubError[] = [];
    const listened = new RedisPubSub({ redis: { host: '127.0.0.1', port, retryStrategy: () => 50 } });
    cleanups.push(() => listened.close());
    listened.on('error', (error) => errors.push(error));
    await until(() => errors.length > 1, 'errors');
    expect(new Set(errors.map((e) => e.connection))).toEqual(new Set(['subscriber', 'publisher']));
    expect(String((errors[0].cause as Error).message)).toMatch(/ECONNREFUSED/);
    expect(listened.ready).toBe(false);

    // Publishing meanwhile: in-process targets get it, the drop is reported once.
    const delivered: string[] = [];
    const target = { deliverRemote: (_t: string, payload: Buffer) => delivered.push(payload.toString()) };
    listened.subscribe('t', target);
    listened.publish('t', Buffer.from('one'), false, { deliverRemote: () => 0 });
    listened.publish('t', Buffer.from('two'), false, { deliverRemote: () => 0 });
    expect(delivered).toEqual(['one', 'two']);
    expect(errors.filter((e) => e.code === 'WSUITE_REDIS_PUBLISH_DROPPED')).toHaveLength(1);
  });

  it('a target that throws is reported (WSUITE_REDIS_DELIVERY) and the others still get the message', async () => {
    const errors: RedisPubSubError[] = [];
    const pubsub = await driver({ onError: (error) => errors.push(error as RedisPubSubError) });
    const got: string[] = [];
    pubsub.subscribe('t', { deliverRemote: () => { throw new Error('broken target'); } });
    pubsub.subscribe('t', { deliverRemote: (_t, payload) => got.push(payload.toString()) });
    pubsub.publish('t', Buffer.from('hi'), false, { deliverRemote: () => 0 });
    expect(got).toEqual(['hi']);
    expect(errors.map((e) => [e.code, (e.cause as Error).message])).toEqual([['WSUITE_REDIS_DELIVERY', 'broken target']]);
  });

  it('close() quits both connections, returns the same promise, and leaves the driver inert', async () => {
    const pubsub = await driver({ instanceId: 'closing' });
    const s = await server(pubsub);
    await client(s.port, ['t']);
    await untilNumsub('wsuite:t', 1);
    const names = async (): Promise<string> => String(await admin.client('LIST'));
    expect(await names()).toMatch(/name=wsuite-subscriber/);
    const closing = pubsub.close();
    expect(pubsub.close()).toBe(closing);
    await closing;
    await untilNumsub('wsuite:t', 0);
    expect(await names()).not.toMatch(/name=wsuite-(subscriber|publisher)/);
    expect(pubsub.topics).toEqual([]);
    expect(pubsub.ready).toBe(false);
    // Local delivery is core's: it goes on; the driver does nothing.
    expect(s.wss.publish('t', 'local')).toBe(1);
    expect(() => pubsub.subscribe('u', { deliverRemote: () => 0 })).not.toThrow();
    expect(pubsub.topics).toEqual([]);
  });
});
