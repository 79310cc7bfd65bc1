/**
 * Two server processes behind one real redis-server (started on a free loopback port): a publish
 * on one reaches every subscriber on both exactly once and in order, only topics with local
 * subscribers are subscribed in Redis, and killing and restarting Redis mid-test is survived
 * without restarting the servers (local delivery continues, the outage is reported, both
 * reconnect and resubscribe by themselves). The servers run the built packages (dist).
 */
import { Redis } from 'ioredis';
import { RedisServer } from './helpers/redis-server';
import { Client, ServerProcess, until } from './helpers/server-process';

let redis: RedisServer;
let admin: Redis;
let a: ServerProcess;
let b: ServerProcess;
const clients: Client[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  admin = new Redis({ host: '127.0.0.1', port: redis.port, retryStrategy: () => 50, maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  [a, b] = await Promise.all([ServerProcess.start(redis.port, 'process-a'), ServerProcess.start(redis.port, 'process-b')]);
  await until(() => a.readyCount > 0 && b.readyCount > 0, 'both processes to connect to Redis');
}, 30000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  admin?.disconnect();
  await redis?.stop();
});

async function open(server: ServerProcess, topics: string[]): Promise<Client> {
  const client = await Client.open(server.url(topics));
  clients.push(client);
  expect(client.subscribed).toEqual(topics);
  return client;
}

/** Subscribers of `channel` in Redis: one per process subscribed to it. */
async function numsub(channel: string): Promise<number> {
  const reply = (await admin.pubsub('NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

async function untilNumsub(channel: string, expected: number): Promise<void> {
  const deadline = Date.now() + 10000;
  while ((await numsub(channel)) !== expected) {
    if (Date.now() > deadline) throw new Error(`${channel} never had ${expected} subscriber(s) in Redis (has ${await numsub(channel)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function channels(): Promise<string[]> {
  return ((await admin.pubsub('CHANNELS', 'wsuite:*')) as string[]).sort();
}

const range = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('two server processes behind one Redis', () => {
  it('a publish on process A reaches every subscriber on A and on B exactly once, in order', async () => {
    const onA = [await open(a, ['room']), await open(a, ['room', 'other'])];
    const onB = [await open(b, ['room']), await open(b, ['room'])];
    const elsewhere = await open(b, ['other']);
    await untilNumsub('wsuite:room', 2);
    await untilNumsub('wsuite:other', 2);

    await a.request({ cmd: 'publishMany', topic: 'room', prefix: 'm', from: 0, to: 500 });
    await onB[0].waitFor('m499');
    // A fence published by B after A's last message went through Redis: Redis handles A's
    // PUBLISHes (and so the echoes A must skip) before it, so a duplicate would show up before it.
    await b.request({ cmd: 'publish', topic: 'room', text: 'fence' });
    for (const client of [...onA, ...onB]) await client.waitFor('fence');

    const expected = [...range('m', 500), 'fence'];
    for (const client of [...onA, ...onB]) expect(client.texts).toEqual(expected);
    expect(elsewhere.received).toEqual([]);
  });

  it('text and binary keep their type and bytes across processes, both ways', async () => {
    const onA = await open(a, ['bytes']);
    const onB = await open(b, ['bytes']);
    await untilNumsub('wsuite:bytes', 2);
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0d, 0x0a, 0]);
    await a.request({ cmd: 'publish', topic: 'bytes', base64: binary.toString('base64') });
    await until(() => onB.received.length === 1, 'the binary message on B');
    await b.request({ cmd: 'publish', topic: 'bytes', text: 'ünïcödé ✓' });
    await until(() => onA.received.length === 2 && onB.received.length === 2, 'two messages on each side');
    // Each side got its own message once (locally) and the other's once (through Redis).
    for (const client of [onA, onB]) {
      const [first, second] = client.received;
      expect(first.isBinary).toBe(true);
      expect(first.data.equals(binary)).toBe(true);
      expect(second.isBinary).toBe(false);
      expect(second.data.toString()).toBe('ünïcödé ✓');
    }
  });

  it('subscribes in Redis only the topics that have local subscribers, and unsubscribes when they leave', async () => {
    await untilNumsub('wsuite:room', 0);
    expect(await channels()).toEqual([]);
    const news = await open(a, ['news']);
    await untilNumsub('wsuite:news', 1);
    expect(await channels()).toEqual(['wsuite:news']);
    // Process B has no subscriber of "news": only A is subscribed in Redis.
    expect((await b.request({ cmd: 'state' })).topics).toEqual([]);
    expect((await a.request({ cmd: 'state' })).topics).toEqual(['news']);
    const onB = await open(b, ['news', 'sport']);
    await untilNumsub('wsuite:news', 2);
    await untilNumsub('wsuite:sport', 1);
    await onB.close();
    await untilNumsub('wsuite:news', 1);
    await untilNumsub('wsuite:sport', 0);
    await news.close();
    await untilNumsub('wsuite:news', 0);
    expect(await channels()).toEqual([]);
  });

  it('killing and restarting Redis: local delivery goes on, the outage is reported, both reconnect and resubscribe', async () => {
    const onA = await open(a, ['live']);
    const onB = await open(b, ['live']);
    await untilNumsub('wsuite:live', 2);
    await a.request({ cmd: 'publish', topic: 'live', text: 'before' });
    await onB.waitFor('before');
    const [readyA, readyB] = [a.readyCount, b.readyCount];
    const [errorsA, errorsB] = [a.errors().length, b.errors().length];

    await redis.kill();
    await until(() => a.errors('WSUITE_REDIS_CONNECTION').length > 0 && b.errors('WSUITE_REDIS_CONNECTION').length > 0, 'both processes to report the lost connection');
    expect(a.errors().length).toBeGreaterThan(errorsA);
    expect(b.errors().length).toBeGreaterThan(errorsB);

    // Redis is down: A's subscribers still get what A publishes; B's cannot.
    expect((await a.request({ cmd: 'publish', topic: 'live', text: 'during outage' })).delivered).toBe(1);
    await onA.waitFor('during outage');
    await until(() => a.errors('WSUITE_REDIS_PUBLISH_DROPPED').length === 1, 'the dropped publish to be reported');
    await a.request({ cmd: 'publish', topic: 'live', text: 'still down' });
    await onA.waitFor('still down');
    // Reported once per outage, not once per message.
    expect(a.errors('WSUITE_REDIS_PUBLISH_DROPPED')).toHaveLength(1);

    await redis.restart();
    await until(() => a.readyCount > readyA && b.readyCount > readyB, 'both processes to be ready again', 15000);
    // The new (empty) Redis knows the subscriptions again: both processes resubscribed.
    expect(await numsub('wsuite:live')).toBe(2);

    await a.request({ cmd: 'publish', topic: 'live', text: 'after from A' });
    await onB.waitFor('after from A');
    await b.request({ cmd: 'publish', topic: 'live', text: 'after from B' });
    await onA.waitFor('after from B');
    await onB.waitFor('after from B');

    expect(onA.texts).toEqual(['before', 'during outage', 'still down', 'after from A', 'after from B']);
    expect(onB.texts).toEqual(['before', 'after from A', 'after from B']);
    // Same processes, same WebSocket connections: nothing was restarted but Redis.
    expect(onA.ws.readyState).toBe(onA.ws.OPEN);
    expect(onB.ws.readyState).toBe(onB.ws.OPEN);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    expect((await a.request({ cmd: 'state' })).ready).toBe(true);
  }, 30000);
});
