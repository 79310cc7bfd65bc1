// A multi-room chat on Fastify with @wsuite/fastify-plugin. This is the demo `npm start` runs:
// open http://localhost:3000/ (PORT changes the port) in two browser windows.
'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const { extname, join } = require('node:path');
const Fastify = require('fastify');
const fastifyWebSocket = require('@wsuite/fastify-plugin').default;
const { PUBLIC_DIR, welcomeData } = require('@wsuite/example-chat-common');
const { TopicRooms } = require('./topic-rooms');

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * Build the app and listen. Options: `port` (0 for any free port), `host`, `logger` (Fastify's
 * logger option), `perMessageDeflate` (on by default here) and `redisUrl` (rooms shared with
 * every other process using that Redis). Resolves with the app and its URL.
 */
async function start({ port = 3000, host = 'localhost', logger = false, perMessageDeflate = true, redisUrl } = {}) {
  const app = Fastify({ logger });

  // Core's server options go to register(): limits, keepalive, compression.
  await app.register(fastifyWebSocket, { maxReceivedMessageSize: 16 * 1024, perMessageDeflate });

  // The page: three small files, served from memory (a real app would use @fastify/static).
  for (const file of readdirSync(PUBLIC_DIR)) {
    const body = readFileSync(join(PUBLIC_DIR, file));
    app.get(file === 'index.html' ? '/' : `/${file}`, (request, reply) => reply.type(CONTENT_TYPES[extname(file)]).send(body));
  }

  // Rooms are topics. With a Redis URL, what is said in a room also reaches that room on every
  // other process started with the same REDIS_URL (see the README).
  if (redisUrl) {
    const { RedisPubSub } = require('@wsuite/redis');
    const pubsub = new RedisPubSub({ redis: redisUrl, prefix: 'wsuite-chat:' });
    pubsub.on('error', (error) => app.log.warn({ err: error }, 'Redis pub/sub: %s', error.message));
    app.websocketServer.setPubSub(pubsub);
    app.addHook('onClose', async () => {
      await pubsub.close();
    });
  }
  const rooms = new TopicRooms(app.websocketServer);
  app.get('/chat', { websocket: true }, (connection) => {
    connection.send(JSON.stringify({ event: 'welcome', data: welcomeData('fastify', connection.extensions) }));
    connection.on('message', (message) => rooms.receive(connection, message.type === 'utf8' ? message.utf8Data : message.binaryData));
    connection.on('close', () => rooms.leave(connection));
  });

  await app.listen({ port, host });
  const { port: actualPort } = app.server.address();
  return { app, url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/` };
}

module.exports = { start };

if (require.main === module) {
  start({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST, logger: { level: process.env.LOG_LEVEL ?? 'warn' }, redisUrl: process.env.REDIS_URL }).then(
    ({ app, url }) => {
      console.log(`wsuite chat demo (Fastify) on ${url}: open it in two browser windows. Ctrl-C stops it.`);
      const stop = () => app.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
