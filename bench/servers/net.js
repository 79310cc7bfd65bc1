'use strict';
/**
 * Raw TCP echo (no WebSocket at all): the ceiling the load generator must reach far above any
 * WebSocket server, to show the client is not the bottleneck. Its broadcast writes one
 * pre-built unmasked binary frame to every socket, the least work a broadcasting server can do.
 */
const net = require('node:net');
const { run } = require('./common');

function serverFrame(payload) {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + extended + length);
  frame[0] = 0x82;
  if (extended === 0) frame[1] = length;
  else if (extended === 2) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, 2 + extended);
  return frame;
}

run(
  'net',
  () => {
    const sockets = new Set();
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    let cached = null;
    return {
      server,
      broadcast: (payload) => {
        if (!cached || cached.payload !== payload) cached = { payload, frame: serverFrame(payload) };
        for (const socket of sockets) socket.write(cached.frame);
      },
      connections: () => sockets.size,
      info: () => ({ package: `node:net ${process.version}` }),
    };
  },
  { raw: true },
);
