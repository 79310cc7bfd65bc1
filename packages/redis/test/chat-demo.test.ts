/**
 * The chat demo (examples/chat-fastify) as two processes behind one Redis, as its README says
 * to run it (REDIS_URL=... node server.js, twice): rooms are topics, so what is said in a room on
 * one process reaches that room's members on the other, once. Runs the built packages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { RedisServer } from './helpers/redis-server';
import { until } from './helpers/server-process';

const SERVER = join(__dirname, '..', '..', '..', 'examples', 'chat-fastify', 'server.js');

let redis: RedisServer;
const processes: ChildProcess[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
}, 30000);

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(
    processes.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  await redis?.stop();
});

/** Start `node server.js` with REDIS_URL on a free port; resolves with its ws:// URL. */
async function startDemo(): Promise<string> {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: redis.url }, stdio: ['ignore', 'pipe', 'inherit'] });
  processes.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(output), 'the demo to listen');
  return `${/http:\/\/(127\.0\.0\.1:\d+)\//.exec(output)?.[0].replace('http', 'ws')}chat`;
}

interface ChatClient {
  events: Array<{ event: string; data: Record<string, unknown> }>;
  send(event: string, data: unknown): void;
}

async function chatClient(url: string): Promise<ChatClient> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const events: ChatClient['events'] = [];
  ws.on('message', (data) => events.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { events, send: (event, data) => ws.send(JSON.stringify({ event, data })) };
}

/** Poll PUBSUB NUMSUB until `channel` has `expected` subscribers (10 s at most); returns the last count. */
async function untilSubscribers(channel: string, expected: number): Promise<number> {
  const admin = new Redis({ host: '127.0.0.1', port: redis.port });
  try {
    const deadline = Date.now() + 10000;
    for (;;) {
      const count = Number(((await admin.pubsub('NUMSUB', channel)) as [string, number])[1]);
      if (count === expected || Date.now() > deadline) return count;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    admin.disconnect();
  }
}

const said = (client: ChatClient): string[] => client.events.filter((e) => e.event === 'message').map((e) => `${e.data.nick}: ${e.data.text}`);

it('two chat-fastify processes with one REDIS_URL share their rooms', async () => {
  const [urlA, urlB] = await Promise.all([startDemo(), startDemo()]);
  const ada = await chatClient(urlA);
  const bob = await chatClient(urlB);
  const cy = await chatClient(urlB);
  ada.send('join', { room: 'lobby', nick: 'ada' });
  bob.send('join', { room: 'lobby', nick: 'bob' });
  cy.send('join', { room: 'random', nick: 'cy' });
  for (const client of [ada, bob, cy]) await until(() => client.events.some((e) => e.event === 'joined'), 'the join');
  // Both processes subscribe "lobby" in Redis once their member is in it ("random" only B).
  expect(await untilSubscribers('wsuite-chat:room:lobby', 2)).toBe(2);
  expect(await untilSubscribers('wsuite-chat:room:random', 1)).toBe(1);
  ada.send('say', { text: 'hello from A' });
  await until(() => said(bob).length === 1, 'bob to get it');
  bob.send('say', { text: 'hi from B' });
  await until(() => said(ada).length === 2 && said(bob).length === 2, 'both messages on both sides');
  expect(said(ada)).toEqual(['ada: hello from A', 'bob: hi from B']);
  expect(said(bob)).toEqual(['ada: hello from A', 'bob: hi from B']);
  expect(said(cy)).toEqual([]);
}, 30000);
