/**
 * The client address follows the Nest application's HTTP platform: Express's `trust proxy`
 * setting or Fastify's `trustProxy` option decide how far X-Forwarded-For is believed, as for
 * the platform's own `req.ip`.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { INestApplication } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { WebSocketConnection } from '@wsuite/core';
import { WsuiteAdapter, type WsuiteAdapterOptions } from '@wsuite/nestjs-adapter';
import { Peer } from './helpers/peer';

const FORWARDED = { 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' };

@WebSocketGateway({ path: '/who' })
class WhoGateway implements OnGatewayConnection {
  handleConnection(client: WebSocketConnection): void {
    client.sendUTF(JSON.stringify({ remoteAddress: client.remoteAddress, remoteAddresses: client.remoteAddresses }));
  }
}

type Setup = { platform: 'express'; trust?: unknown } | { platform: 'fastify'; trustProxy?: boolean | string };

/** Start an app on `setup`'s platform, connect from behind FORWARDED, and return what the gateway saw. */
async function addressesWith(setup: Setup, adapterOptions: WsuiteAdapterOptions = {}): Promise<unknown> {
  const moduleRef = await Test.createTestingModule({ providers: [WhoGateway] }).compile();
  let app: INestApplication;
  if (setup.platform === 'fastify') {
    app = moduleRef.createNestApplication(new FastifyAdapter(setup.trustProxy === undefined ? {} : { trustProxy: setup.trustProxy }), { logger: false });
  } else {
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    if (setup.trust !== undefined) (app as NestExpressApplication).set('trust proxy', setup.trust);
  }
  app.useWebSocketAdapter(new WsuiteAdapter(app, adapterOptions));
  await app.listen(0, '127.0.0.1');
  try {
    const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
    const peer = await Peer.open(`ws://127.0.0.1:${port}/who`, { headers: FORWARDED });
    const seen = await peer.json();
    peer.terminate();
    return seen;
  } finally {
    await app.close();
  }
}

const SOCKET_ONLY = { remoteAddress: '127.0.0.1', remoteAddresses: ['127.0.0.1'] };
const ALL_TRUSTED = { remoteAddress: '203.0.113.9', remoteAddresses: ['203.0.113.9', '10.0.0.1', '127.0.0.1'] };
const LOCAL_TRUSTED = { remoteAddress: '10.0.0.1', remoteAddresses: ['10.0.0.1', '127.0.0.1'] };

describe("the client address under the platform's trust-proxy setting", () => {
  it('Express: the socket peer by default, X-Forwarded-For as far as `trust proxy` allows', async () => {
    expect(await addressesWith({ platform: 'express' })).toEqual(SOCKET_ONLY);
    expect(await addressesWith({ platform: 'express', trust: true })).toEqual(ALL_TRUSTED);
    expect(await addressesWith({ platform: 'express', trust: 'loopback' })).toEqual(LOCAL_TRUSTED);
  });

  it('Fastify: the socket peer by default, X-Forwarded-For as far as `trustProxy` allows', async () => {
    expect(await addressesWith({ platform: 'fastify' })).toEqual(SOCKET_ONLY);
    expect(await addressesWith({ platform: 'fastify', trustProxy: true })).toEqual(ALL_TRUSTED);
    expect(await addressesWith({ platform: 'fastify', trustProxy: '127.0.0.1' })).toEqual(LOCAL_TRUSTED);
  });

  it('ignoreXForwardedFor keeps the socket peer whatever the platform trusts', async () => {
    expect(await addressesWith({ platform: 'express', trust: true }, { ignoreXForwardedFor: true })).toEqual(SOCKET_ONLY);
    expect(await addressesWith({ platform: 'fastify', trustProxy: true }, { ignoreXForwardedFor: true })).toEqual(SOCKET_ONLY);
  });
});
