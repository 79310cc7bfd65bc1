'use strict';
/** Echo/broadcast server on `websocket` (WebSocket-Node), the API @wsuite/core reproduces. */
const { run, MAX_MESSAGE, nativeModules, echoMessages } = require('./common');
const WebSocketServer = require('websocket').server;

run('websocket', (httpServer) => {
  const wss = new WebSocketServer({ httpServer, maxReceivedFrameSize: MAX_MESSAGE, maxReceivedMessageSize: MAX_MESSAGE, keepalive: false });
  wss.on('request', (request) => {
    const connection = request.accept(null, request.origin);
    echoMessages(connection);
    connection.on('error', () => {});
  });
  return {
    broadcast: (payload) => wss.broadcast(payload),
    connections: () => wss.connections.length,
    info: () => ({ package: `websocket ${require('websocket/package.json').version}`, ...nativeModules() }),
  };
});
