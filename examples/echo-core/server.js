// An echo server on @wsuite/core alone: every message comes back as it was sent.
// Open http://localhost:8080/ for a small page that talks to it (PORT changes the port).
'use strict';
const http = require('node:http');
const { server: WebSocketServer } = require('@wsuite/core');

const port = Number(process.env.PORT) || 8080;

const page = `<!doctype html>
<meta charset="utf-8"><title>wsuite echo</title>
<h1>wsuite echo</h1>
<p>State: <b id="state">connecting</b></p>
<form id="f"><input id="text" autofocus placeholder="type and press enter"> <button>Send</button></form>
<ul id="log"></ul>
<script>
const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/echo', 'echo-protocol');
const log = (t) => { const li = document.createElement('li'); li.textContent = t; document.getElementById('log').prepend(li); };
ws.onopen = () => { document.getElementById('state').textContent = 'open'; };
ws.onclose = (e) => { document.getElementById('state').textContent = 'closed (' + e.code + ')'; };
ws.onmessage = (e) => log('echo: ' + e.data);
document.getElementById('f').onsubmit = (e) => { e.preventDefault(); const i = document.getElementById('text'); ws.send(i.value); i.value = ''; };
</script>`;

const httpServer = http.createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
    return;
  }
  res.writeHead(404).end();
});

const wsServer = new WebSocketServer({ httpServer, maxReceivedFrameSize: 1 << 20 });

wsServer.on('request', (request) => {
  // Accept the echo protocol when asked for it, or no protocol at all.
  const protocol = request.requestedProtocols.includes('echo-protocol') ? 'echo-protocol' : null;
  const connection = request.accept(protocol, request.origin);
  console.log(`${new Date().toISOString()} ${connection.remoteAddress} connected to ${request.resource}`);
  connection.on('message', (message) => {
    if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
  connection.on('close', (code, description) => {
    console.log(`${new Date().toISOString()} ${connection.remoteAddress} closed: ${code} ${description}`);
  });
});

httpServer.listen(port, () => {
  const { port: actual } = httpServer.address(); // the real port when PORT=0
  console.log(`wsuite echo server on http://localhost:${actual}/ (WebSocket at ws://localhost:${actual}/echo)`);
});

function shutdown() {
  wsServer.shutDown();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
