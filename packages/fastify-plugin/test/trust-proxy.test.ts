/**
 * The client address follows Fastify's `trustProxy`: X-Forwarded-For is used only as far as
 * Fastify trusts it, the same as `request.ip`/`request.ips` on plain HTTP routes.
 */
import Fastify, { type FastifyServerOptions } from 'fastify';
import { fastifyWebSocket } from '@wsuite/fastify-plugin';
import { listen, openClient } from './helpers';

const FORWARDED = { 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' };

/** The addresses the connection reports for a client behind FORWARDED, and Fastify's own `request.ip`. */
async function addressesWith(options: FastifyServerOptions, pluginOptions: Record<string, unknown> = {}): Promise<unknown> {
  const app = Fastify(options);
  await app.register(fastifyWebSocket, pluginOptions);
  app.get('/ws', { websocket: true }, (connection, request) => {
    connection.sendUTF(JSON.stringify({ remoteAddress: connection.remoteAddress, remoteAddresses: connection.remoteAddresses, ip: request.ip }));
  });
  try {
    const base = await listen(app);
    const client = await openClient(`${base}/ws`, { headers: FORWARDED });
    const seen = JSON.parse(await client.message());
    client.ws.terminate();
    return seen;
  } finally {
    await app.close();
  }
}

describe("the client address under Fastify's trustProxy", () => {
  it('is the socket peer when no proxy is trusted (the default): a client cannot spoof it', async () => {
    expect(await addressesWith({})).toEqual({ remoteAddress: '127.0.0.1', remoteAddresses: ['127.0.0.1'], ip: '127.0.0.1' });
  });

  it('is the first X-Forwarded-For entry when every proxy is trusted', async () => {
    expect(await addressesWith({ trustProxy: true })).toEqual({
      remoteAddress: '203.0.113.9',
      remoteAddresses: ['203.0.113.9', '10.0.0.1', '127.0.0.1'],
      ip: '203.0.113.9',
    });
  });

  it('stops at the first untrusted hop when only some proxies are trusted', async () => {
    expect(await addressesWith({ trustProxy: '127.0.0.1' })).toEqual({ remoteAddress: '10.0.0.1', remoteAddresses: ['10.0.0.1', '127.0.0.1'], ip: '10.0.0.1' });
  });

  it('is the socket peer with ignoreXForwardedFor, whatever Fastify trusts', async () => {
    expect(await addressesWith({ trustProxy: true }, { ignoreXForwardedFor: true })).toEqual({ remoteAddress: '127.0.0.1', remoteAddresses: ['127.0.0.1'], ip: '203.0.113.9' });
  });
});
