// @wsuite/core's two clients, WebSocketClient (WebSocket-Node's API) and W3CWebSocket (the
// browser API), each talking to an echo server.
//
//   node client.js                            starts a small echo server of its own first
//   node client.js ws://localhost:8080/echo   talks to a running server (e.g. examples/echo-core)
'use strict';
const http = require('node:http');
const { WebSocketClient, W3CWebSocket, WebSocketServer } = require('@wsuite/core');

/** A WebSocketClient: connect, send a text and a binary message, wait for both echoes, close. */
function withWebSocketClient(url) {
  return new Promise((resolve, reject) => {
    const client = new WebSocketClient(); // permessage-deflate is offered by default
    client.on('connectFailed', reject);
    client.on('connect', (connection) => {
      const extensions = connection.extensions.map((extension) => extension.name).join(', ') || 'none';
      console.log(`[WebSocketClient] connected, protocol ${connection.protocol ?? 'none'}, extensions: ${extensions}`);
      const received = [];
      connection.on('message', (message) => {
        received.push(message);
        if (message.type === 'utf8') console.log(`[WebSocketClient] text echo: ${message.utf8Data}`);
        else console.log(`[WebSocketClient] binary echo: ${message.binaryData.toString('hex')}`);
        if (received.length === 2) connection.close(1000, 'done');
      });
      connection.on('close', (code, description) => {
        console.log(`[WebSocketClient] closed: ${code} ${description}`);
        resolve(received);
      });
      connection.on('error', reject);
      connection.sendUTF('hello from WebSocketClient');
      connection.sendBytes(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    });
    client.connect(url, 'echo-protocol');
  });
}

/** A W3CWebSocket: the same API as in a browser (onopen, onmessage, send, close). */
function withW3CWebSocket(url) {
  return new Promise((resolve, reject) => {
    const ws = new W3CWebSocket(url, 'echo-protocol');
    ws.onerror = () => reject(new Error(`W3CWebSocket could not talk to ${url}`));
    ws.onopen = () => {
      console.log(`[W3CWebSocket] open, protocol ${ws.protocol || 'none'}, extensions: ${ws.extensions || 'none'}`);
      ws.send('hello from W3CWebSocket');
    };
    ws.onmessage = (event) => {
      console.log(`[W3CWebSocket] echo: ${event.data}`);
      ws.close(1000, 'done');
    };
    ws.onclose = (event) => {
      console.log(`[W3CWebSocket] closed: ${event.code} ${event.reason}`);
      resolve(event.code);
    };
  });
}

/** An echo server with permessage-deflate, on a free port of 127.0.0.1. */
function startEchoServer() {
  const httpServer = http.createServer((request, response) => response.writeHead(426).end());
  const wsServer = new WebSocketServer({ httpServer, perMessageDeflate: true });
  wsServer.on('request', (request) => {
    const connection = request.accept(request.requestedProtocols.includes('echo-protocol') ? 'echo-protocol' : null, request.origin);
    connection.on('message', (message) => {
      if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
      else connection.sendBytes(message.binaryData);
    });
  });
  return new Promise((resolve) => {
    httpServer.listen(0, '127.0.0.1', () => {
      const url = `ws://127.0.0.1:${httpServer.address().port}/echo`;
      console.log(`[server] echo server on ${url}`);
      resolve({ url, close: () => wsServer.close().then(() => new Promise((done) => httpServer.close(done))) });
    });
  });
}

async function main() {
  const server = process.argv[2] ? null : await startEchoServer();
  const url = process.argv[2] ?? server.url;
  try {
    await withWebSocketClient(url);
    await withW3CWebSocket(url);
  } finally {
    await server?.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
