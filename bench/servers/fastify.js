'use strict';
/**
 * Echo server on Fastify 5: `BENCH_ADAPTER=wsuite` mounts @wsuite/fastify-plugin (the workspace
 * build), `BENCH_ADAPTER=ws` mounts @fastify/websocket (ws, with bufferutil when installed).
 */
const { run, MAX_MESSAGE, echoMessages } = require('./common');
const Fastify = require('fastify');

const adapter = process.env.BENCH_ADAPTER;

run(
  `fastify+${adapter}`,
  async () => {
    const app = Fastify();
    let connections;
    let broadcast;
    if (adapter === 'wsuite') {
      const { fastifyWebSocket } = require('@wsuite/fastify-plugin');
      await app.register(fastifyWebSocket, { maxReceivedFrameSize: MAX_MESSAGE, maxReceivedMessageSize: MAX_MESSAGE, keepalive: false });
      app.get('/', { websocket: true }, echoMessages);
      connections = () => app.websocketServer.connections.length;
      broadcast = (payload) => app.websocketServer.broadcast(payload);
    } else {
      await app.register(require('@fastify/websocket'), { options: { maxPayload: MAX_MESSAGE } });
      app.get('/', { websocket: true }, (socket) => {
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
      });
      connections = () => app.websocketServer.clients.size;
      broadcast = (payload) => {
        for (const client of app.websocketServer.clients) client.send(payload);
      };
    }
    await app.ready();
    const plugin = adapter === 'wsuite' ? '@wsuite/fastify-plugin' : '@fastify/websocket';
    return {
      server: app.server,
      broadcast,
      connections,
      info: () => ({ package: `${plugin} ${require(`${plugin}/package.json`).version} on fastify ${require('fastify/package.json').version}` }),
    };
  },
  { raw: true },
);
