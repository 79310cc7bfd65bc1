// NestJS 12 check (`npm run test:nest12` in packages/nestjs-adapter, after `npm run build` at the root).
// Nest 12 is ESM-only, and Jest cannot load it on Node 20, so this is a plain Node script: it boots
// a Nest 12 app with the BUILT adapter and checks echo (and handleConnection's request), the exception frame,
// a connection-time 401, a 404 for an unknown path and the 1001 close on app.close().
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');

// Copies, not symlinks: the adapter must resolve @nestjs/* 12 from here, not the monorepo's Nest 11.
for (const name of ['core', 'nestjs-adapter']) {
  const source = join(packages, name);
  if (!existsSync(join(source, 'dist', 'index.js'))) throw new Error(`${source}/dist is missing: run "npm run build" at the repository root first.`);
  const target = join(here, 'node_modules', '@wsuite', name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(join(source, 'package.json'), join(target, 'package.json'));
  cpSync(join(source, 'dist'), join(target, 'dist'), { recursive: true });
}

const { Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { SubscribeMessage, WebSocketGateway, WsException } = await import('@nestjs/websockets');
const { WsuiteAdapter } = await import('@wsuite/nestjs-adapter');
const { default: WebSocket } = await import('ws');
const nestVersion = (await import('@nestjs/core/package.json', { with: { type: 'json' } })).default.version;

// No TypeScript here: decorators are applied by hand. Without param decorators, Nest calls a
// handler as (client, data).
const seen = { requestUrl: undefined, disconnectReason: undefined };
class EchoGateway {
  handleConnection(_client, request) {
    seen.requestUrl = request.url;
  }
  handleDisconnect(_client, reason) {
    seen.disconnectReason = reason;
  }
  echo(_client, data) {
    return { event: 'echo', data };
  }
  fail() {
    throw new WsException('nest 12 failure');
  }
}
for (const [method, event] of [['echo', 'echo'], ['fail', 'fail']]) {
  SubscribeMessage(event)(EchoGateway.prototype, method, Object.getOwnPropertyDescriptor(EchoGateway.prototype, method));
}
WebSocketGateway({ path: '/echo', canUpgrade: (request) => request.headers['x-token'] === 'ok' })(EchoGateway);
class AppModule {}
Module({ providers: [EchoGateway] })(AppModule);

function open(url, headers) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages = [];
    const waiting = [];
    ws.on('message', (data) => {
      const value = JSON.parse(data.toString());
      const waiter = waiting.shift();
      if (waiter) waiter(value);
      else messages.push(value);
    });
    const closed = new Promise((done) => ws.on('close', (code) => done(code)));
    const next = () => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((r) => waiting.push(r)));
    ws.once('open', () => resolve({ ws, next, closed }));
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      ws.terminate();
      resolve({ status: response.statusCode });
    });
    ws.once('error', reject);
  });
}

const app = await NestFactory.create(AppModule, { logger: false });
app.useWebSocketAdapter(new WsuiteAdapter(app));
await app.listen(0, '127.0.0.1');
const base = `ws://127.0.0.1:${app.getHttpServer().address().port}`;
const results = [];
async function check(name, body) {
  try {
    await body();
    results.push([name, true]);
  } catch (error) {
    results.push([name, false, error]);
  }
}

let client;
await check('echo', async () => {
  client = await open(`${base}/echo?room=1`, { 'x-token': 'ok' });
  client.ws.send(JSON.stringify({ event: 'echo', data: 'hi' }));
  assert.deepEqual(await client.next(), { event: 'echo', data: 'hi' });
  assert.equal(seen.requestUrl, '/echo?room=1');
});
await check('WsException reaches the client', async () => {
  client.ws.send(JSON.stringify({ event: 'fail' }));
  assert.deepEqual(await client.next(), { event: 'exception', data: { status: 'error', message: 'nest 12 failure', cause: { pattern: 'fail' } } });
});
await check('connection-time 401', async () => assert.equal((await open(`${base}/echo`)).status, 401));
await check('unknown path 404', async () => assert.equal((await open(`${base}/nope`, { 'x-token': 'ok' })).status, 404));
await check('app.close() closes with 1001, handleDisconnect gets the close code as reason', async () => {
  await app.close();
  assert.equal(await client.closed, 1001);
  assert.equal(seen.disconnectReason, 1001);
});

for (const [name, ok, error] of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${error ? `: ${error.message}` : ''}`);
const failed = results.filter(([, ok]) => !ok).length;
console.log(`nest ${nestVersion} on node ${process.versions.node}: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
