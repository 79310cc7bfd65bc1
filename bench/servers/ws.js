'use strict';
/**
 * Echo/broadcast server on `ws`. The orchestrator runs it twice: with WS_NO_BUFFER_UTIL=1
 * (pure JS masking) and without (bufferutil's native masking); `info` reports which one is
 * actually loaded in this process.
 */
const { run, MAX_MESSAGE, DEFLATE, nativeModules } = require('./common');
const { WebSocketServer, WebSocket } = require('ws');
// ws loads its optional helpers lazily in lib/buffer-util.js, already required by now.
const http = require('node:http');

run('ws', (httpServer) => {
  const wss = new WebSocketServer({ server: httpServer, maxPayload: MAX_MESSAGE, perMessageDeflate: DEFLATE });
  let negotiated = 0;
  wss.on('connection', (ws) => {
    if (ws.extensions) negotiated++;
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => {});
  });
  return {
    broadcast: (payload) => {
      for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(payload);
    },
    connections: () => wss.clients.size,
    info: () => ({
      package: `ws ${require('ws/package.json').version}`,
      masking: typeof http.websocketMask === 'function' ? 'node http.websocketMask' : nativeModules().bufferutil === 'native' ? 'bufferutil (native)' : 'pure JS',
      WS_NO_BUFFER_UTIL: process.env.WS_NO_BUFFER_UTIL || '',
      ...nativeModules(),
      negotiatedExtensions: negotiated,
    }),
  };
});
