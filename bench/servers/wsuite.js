'use strict';
/** Echo/broadcast server on @wsuite/core (packages/core/dist), WebSocket-Node API. */
const { run, MAX_MESSAGE, DEFLATE, echoMessages } = require('./common');
// The orchestrator points BENCH_WSUITE_CORE at a copy of packages/core/dist taken when the run began.
const corePath = process.env.BENCH_WSUITE_CORE || '@wsuite/core';
const { server: WebSocketServer } = require(corePath);
const corePackage = process.env.BENCH_WSUITE_CORE ? require('node:path').join(corePath, '..', '..', 'package.json') : '@wsuite/core/package.json';

run('wsuite', (httpServer) => {
  const options = { httpServer, maxReceivedFrameSize: MAX_MESSAGE, maxReceivedMessageSize: MAX_MESSAGE, keepalive: false };
  // Unknown today; the compressed scenario turns itself on once core negotiates it.
  if (DEFLATE) options.perMessageDeflate = true;
  const wss = new WebSocketServer(options);
  let negotiated = 0;
  wss.on('request', (request) => {
    const connection = request.accept(null, request.origin);
    // Read only when deflate is on: reading `extensions` creates the (empty) array it returns.
    if (DEFLATE && connection.extensions.length > 0) negotiated++;
    echoMessages(connection);
    connection.on('error', () => {});
  });
  return {
    broadcast: (payload) => wss.broadcast(payload),
    connections: () => wss.connections.length,
    info: () => ({ package: `@wsuite/core ${require(corePackage).version}`, negotiatedExtensions: negotiated, from: corePath }),
  };
});
