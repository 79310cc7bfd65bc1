'use strict';
/**
 * Echo server on Express 5: `BENCH_ADAPTER=wsuite` attaches @wsuite/express-middleware (the
 * workspace build), `BENCH_ADAPTER=ws` uses express-ws (ws 7, with bufferutil when installed).
 */
const { run, MAX_MESSAGE, echoMessages } = require('./common');
const express = require('express');

const adapter = process.env.BENCH_ADAPTER;

run(`express+${adapter}`, (httpServer) => {
  const app = express();
  let connections;
  let broadcast;
  if (adapter === 'wsuite') {
    const { createExpressWebSocket } = require('@wsuite/express-middleware');
    const wsx = createExpressWebSocket({ maxReceivedFrameSize: MAX_MESSAGE, maxReceivedMessageSize: MAX_MESSAGE, keepalive: false });
    wsx.ws(app, '/', (connection) => echoMessages(connection));
    const attached = wsx.attach(httpServer, app);
    connections = () => attached.connections.length;
    broadcast = (payload) => {
      for (const connection of attached.connections) connection.sendBytes(payload);
    };
  } else {
    const instance = require('express-ws')(app, httpServer, { wsOptions: { maxPayload: MAX_MESSAGE } });
    app.ws('/', (socket) => {
      // ws 7: text arrives as a string, binary as a Buffer; send() keeps the kind.
      socket.on('message', (data) => socket.send(data));
    });
    connections = () => instance.getWss().clients.size;
    broadcast = (payload) => {
      for (const client of instance.getWss().clients) client.send(payload);
    };
  }
  const name = adapter === 'wsuite' ? '@wsuite/express-middleware' : 'express-ws';
  return {
    broadcast,
    connections,
    info: () => ({ package: `${name} ${require(`${name}/package.json`).version} on express ${require('express/package.json').version}` }),
  };
});
