import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { WebSocketServer, createUpgradeResponse } from '@wsuite/core';

describe('createUpgradeResponse', () => {
  let http: Server;
  let wss: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    http = createServer();
    wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      const upgrade = createUpgradeResponse(req, socket);
      // A stand-in "framework": refuse without a token, otherwise hand over to core.
      if (req.headers['x-token'] !== 'ok') {
        upgrade.response.statusCode = 401;
        upgrade.response.setHeader('content-type', 'application/json');
        upgrade.response.end(JSON.stringify({ error: 'unauthorized' }));
        expect(upgrade.release()).toBe(false);
        return;
      }
      expect(upgrade.release()).toBe(true);
      wss.handleUpgrade(req, socket, head, (request) => {
        const connection = request.accept();
        connection.on('message', (m) => m.type === 'utf8' && connection.sendUTF(m.utf8Data));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await wss.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('sends the framework answer as a real HTTP response and ends the socket', async () => {
    const result = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      });
      ws.on('error', () => undefined);
    });
    expect(result).toEqual({ status: 401, body: '{"error":"unauthorized"}', connection: 'close' });
  });

  it('hands the socket back for the handshake when the framework did not answer', async () => {
    const ws = new WebSocket(url, { headers: { 'x-token': 'ok' } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('through'));
      ws.on('message', (d) => resolve(d.toString()));
      ws.on('error', reject);
    });
    expect(reply).toBe('through');
    ws.close();
  });
});
