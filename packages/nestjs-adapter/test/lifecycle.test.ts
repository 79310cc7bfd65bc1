/**
 * Lifecycle: `afterInit` gets core's server, `handleConnection` gets core's connection and the
 * upgrade request, `handleDisconnect` runs on close, and `app.close()` closes connections with
 * 1001, answers upgrades to a closing gateway with 503 and removes the adapter's upgrade listener.
 */
import type { IncomingMessage, Server } from 'node:http';
import {
  ConnectedSocket,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { WebSocketConnection, WebSocketServer as CoreServer } from '@wsuite/core';
import { PLATFORMS, startApp } from './helpers/app';
import { Peer, refusal } from './helpers/peer';

interface Seen {
  inits: unknown[];
  connections: Array<{ client: WebSocketConnection; url: string | undefined; header: unknown; isConnection: boolean }>;
  disconnects: WebSocketConnection[];
  same: boolean[];
}

function lifeGateway(seen: Seen): new () => object {
  @WebSocketGateway({ path: '/life' })
  class LifeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
    @WebSocketServer() server!: CoreServer;

    afterInit(server: CoreServer): void {
      seen.inits.push(server);
    }

    handleConnection(client: WebSocketConnection, request: IncomingMessage): void {
      seen.connections.push({ client, url: request.url, header: request.headers['x-hello'], isConnection: client instanceof WebSocketConnection });
    }

    handleDisconnect(client: WebSocketConnection): void {
      seen.disconnects.push(client);
    }

    @SubscribeMessage('same')
    same(@ConnectedSocket() client: WebSocketConnection): string {
      seen.same.push(seen.connections.some((c) => c.client === client));
      return 'ok';
    }
  }
  return LifeGateway;
}

const fresh = (): Seen => ({ inits: [], connections: [], disconnects: [], same: [] });

describe.each(PLATFORMS)('lifecycle on %s', (platform) => {
  it('calls afterInit once with the gateway\'s core server, also injected by @WebSocketServer()', async () => {
    const seen = fresh();
    const Gateway = lifeGateway(seen);
    const running = await startApp(platform, [Gateway]);
    try {
      expect(seen.inits).toHaveLength(1);
      expect(seen.inits[0]).toBeInstanceOf(CoreServer);
      expect(running.app.get(Gateway)).toMatchObject({ server: seen.inits[0] });
    } finally {
      await running.close();
    }
  });

  it('calls handleConnection with the connection and the upgrade request, and handleDisconnect on close', async () => {
    const seen = fresh();
    const running = await startApp(platform, [lifeGateway(seen)]);
    try {
      const peer = await Peer.open(running.url('/life?room=1'), { headers: { 'x-hello': 'there' } });
      peer.emit('same');
      expect(await peer.json()).toBe('ok');
      expect(seen.connections).toHaveLength(1);
      expect(seen.connections[0]).toMatchObject({ url: '/life?room=1', header: 'there', isConnection: true });
      expect(seen.same).toEqual([true]);
      peer.ws.close(4001);
      await peer.closed;
      // The server side may record the close a moment after the client sees it.
      while (seen.disconnects.length === 0) await new Promise((resolve) => setImmediate(resolve));
      expect(seen.disconnects).toEqual([seen.connections[0].client]);
      expect(seen.connections[0].client.closeReasonCode).toBe(4001);
    } finally {
      await running.close();
    }
  });

  it('app.close() closes open connections with 1001, calls handleDisconnect and removes the upgrade listener', async () => {
    const seen = fresh();
    const running = await startApp(platform, [lifeGateway(seen)]);
    const http = running.app.getHttpServer() as Server;
    const listeners = http.listeners('upgrade');
    expect(listeners).toHaveLength(1);
    const a = await Peer.open(running.url('/life'));
    const b = await Peer.open(running.url('/life'));
    await running.close();
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect(seen.disconnects).toHaveLength(2);
    expect(http.listeners('upgrade')).not.toContain(listeners[0]);
  });

  it('answers an upgrade to a gateway that is closing with 503', async () => {
    const seen = fresh();
    const running = await startApp(platform, [lifeGateway(seen)]);
    try {
      const peer = await Peer.open(running.url('/life'));
      await running.adapter.close(seen.inits[0] as CoreServer);
      expect((await peer.closed).code).toBe(1001);
      expect(await refusal(running.url('/life'))).toEqual({ status: 503, reason: 'Server shutting down' });
    } finally {
      await running.close();
    }
  });

  it('closeClient() closes a connection with 1013 (try again later)', async () => {
    const seen = fresh();
    const running = await startApp(platform, [lifeGateway(seen)]);
    try {
      const peer = await Peer.open(running.url('/life'));
      while (seen.connections.length === 0) await new Promise((resolve) => setImmediate(resolve));
      running.adapter.closeClient(seen.connections[0].client);
      expect((await peer.closed).code).toBe(1013);
    } finally {
      await running.close();
    }
  });
});
