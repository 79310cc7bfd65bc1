'use strict';
/** Echo/broadcast server on `websocket` (WebSocket-Node), the API @wsuite/core reproduces. */
const { run, MAX_MESSAGE, nativeModules } = require('./common');
const WebSocketServer = require('websocket').server;

run('websocket', (httpServer) => {
  const wss = new WebSocketServer({ httpServer, maxReceivedFrameSize: MAX_MESSAGE, maxReceivedMessageSize: MAX_MESSAGE, keepalive: false });
  wss.on('request', (request) => {
    const connection = request.accept(null, request.origin);
    connection.on('message', (message) => {
      if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
      else connection.sendBytes(message.binaryData);
    });
    connection.on('error', () => {});
  });
  return {
    broadcast: (payload) => wss.broadcast(payload),
    connections: () => wss.connections.length,
    info: () => ({ package: `websocket ${require('websocket/package.json').version}`, ...nativeModules() }),
  };
});
