// The multi-room chat on Express 5 with @wsuite/express-middleware.
// Open http://localhost:3001/ (PORT changes the port) in two browser windows.
'use strict';
const { createServer } = require('node:http');
const express = require('express');
const { createExpressWebSocket, defaultErrorHandler } = require('@wsuite/express-middleware');
const { ChatRooms, PUBLIC_DIR, welcomeData } = require('@wsuite/example-chat-common');

/**
 * Build the app and listen. Options: `port` (0 for any free port), `host` (default: every
 * interface, as Express does) and `perMessageDeflate` (on by default here). Resolves with the
 * HTTP server, the attachment (connections, graceful close) and the URL.
 */
async function start({ port = 3001, host, perMessageDeflate = true } = {}) {
  // Core's server options: the defaults of every WebSocket route of this instance.
  const wsx = createExpressWebSocket({
    maxReceivedMessageSize: 16 * 1024,
    perMessageDeflate,
    // A tab that goes away without a close frame resets its socket: not worth a stack trace.
    errorHandler: (error, connection, req) => {
      if (error.code !== 'ECONNRESET') defaultErrorHandler(error, connection, req);
    },
  });
  const app = express();
  app.use(express.static(PUBLIC_DIR));

  const rooms = new ChatRooms();
  wsx.ws(app, '/chat', (connection) => {
    connection.send(JSON.stringify({ event: 'welcome', data: welcomeData('express', connection.extensions) }));
    connection.on('message', (message) => rooms.receive(connection, message.type === 'utf8' ? message.utf8Data : message.binaryData));
    connection.on('close', () => rooms.leave(connection));
  });

  const server = createServer(app);
  const attached = wsx.attach(server, app);
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, host, resolve));

  /** Close every WebSocket with 1001 (bounded wait), then the HTTP server. */
  async function close() {
    await attached.close({ timeout: 2000 });
    await new Promise((resolve) => server.close(resolve));
  }
  return { server, attached, close, url: `http://${host ?? 'localhost'}:${server.address().port}/` };
}

module.exports = { start };

if (require.main === module) {
  start({ port: Number(process.env.PORT ?? 3001), host: process.env.HOST }).then(
    ({ url, close }) => {
      console.log(`wsuite chat (Express) on ${url}: open it in two browser windows. Ctrl-C stops it.`);
      const stop = () => close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
