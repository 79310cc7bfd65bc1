/**
 * The client address follows the app's `trust proxy` setting: X-Forwarded-For is used only as
 * far as Express trusts it, the same as `req.ip`/`req.ips` on plain HTTP routes.
 */
import express from 'express';
import { createExpressWebSocket } from '@wsuite/express-middleware';
import { open, start } from './helpers';

const FORWARDED = { 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' };

/** The addresses the connection reports for a client behind FORWARDED, and Express's own `req.ip`. */
async function addressesWith(trust: unknown, options: Record<string, unknown> = {}): Promise<unknown> {
  const app = express();
  if (trust !== undefined) app.set('trust proxy', trust);
  const wsx = createExpressWebSocket(options);
  wsx.ws(app, '/ws', (connection, req) => {
    connection.sendUTF(JSON.stringify({ remoteAddress: connection.remoteAddress, remoteAddresses: connection.remoteAddresses, ip: req.ip }));
  });
  const running = await start(wsx, app);
  try {
    const client = await open(running.url('/ws'), { headers: FORWARDED });
    // The message may already be in (it is sent as soon as the connection opens).
    for (let i = 0; i < 500 && client.messages.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    client.ws.terminate();
    return JSON.parse(client.messages[0]);
  } finally {
    await running.stop();
  }
}

describe("the client address under Express's trust proxy", () => {
  it('is the socket peer when no proxy is trusted (the default): a client cannot spoof it', async () => {
    expect(await addressesWith(undefined)).toEqual({ remoteAddress: '127.0.0.1', remoteAddresses: ['127.0.0.1'], ip: '127.0.0.1' });
  });

  it('is the first X-Forwarded-For entry when every proxy is trusted', async () => {
    expect(await addressesWith(true)).toEqual({ remoteAddress: '203.0.113.9', remoteAddresses: ['203.0.113.9', '10.0.0.1', '127.0.0.1'], ip: '203.0.113.9' });
  });

  it('stops at the first untrusted hop ("loopback" trusts only the local proxy)', async () => {
    expect(await addressesWith('loopback')).toEqual({ remoteAddress: '10.0.0.1', remoteAddresses: ['10.0.0.1', '127.0.0.1'], ip: '10.0.0.1' });
  });

  it('counts hops when given a number', async () => {
    expect(await addressesWith(2)).toEqual({ remoteAddress: '203.0.113.9', remoteAddresses: ['203.0.113.9', '10.0.0.1', '127.0.0.1'], ip: '203.0.113.9' });
  });

  it('is the socket peer with ignoreXForwardedFor, whatever Express trusts', async () => {
    expect(await addressesWith(true, { ignoreXForwardedFor: true })).toEqual({ remoteAddress: '127.0.0.1', remoteAddresses: ['127.0.0.1'], ip: '203.0.113.9' });
  });
});
