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
      // What a framework's hooks may set on a request they let through.
      upgrade.response.setHeader('X-Trace-Id', 't-1');
      upgrade.response.setHeader('Set-Cookie', ['a=1', 'b=2']);
      upgrade.response.setHeader('Content-Length', 0);
      expect(upgrade.release()).toBe(true);
      wss.handleUpgrade(req, socket, head, (request) => {
        const connection = request.accept(null, null, undefined, upgrade.headers);
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

  it('lists the headers the framework set, in their case, and accept() puts them on the 101', async () => {
    const ws = new WebSocket(url, { headers: { 'x-token': 'ok' } });
    const raw = await new Promise<string[]>((resolve, reject) => {
      ws.on('upgrade', (res) => resolve(res.rawHeaders));
      ws.on('error', reject);
    });
    ws.close();
    const pairs: string[] = [];
    for (let i = 0; i < raw.length; i += 2) pairs.push(`${raw[i]}: ${raw[i + 1]}`);
    // Content-Length cannot go on a 101, so accept() leaves it out.
    expect(pairs.filter((line) => !/^(Upgrade|Connection|Sec-WebSocket-Accept):/.test(line))).toEqual(['X-Trace-Id: t-1', 'Set-Cookie: a=1', 'Set-Cookie: b=2']);
  });
});
