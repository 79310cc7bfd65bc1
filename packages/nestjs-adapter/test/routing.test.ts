/**
 * Where gateways live: several paths on the application's own server (port 0), a separate port
 * served by an HTTP server the adapter owns, real 404s for unknown paths, and coexistence with
 * another `upgrade` listener.
 */
import { createServer as createNetServer, connect, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { WebSocketConnection, WebSocketServer as CoreServer } from '@wsuite/core';
import { PLATFORMS, startApp, type RunningApp } from './helpers/app';
import { Peer, refusal } from './helpers/peer';

@WebSocketGateway({ path: 'admin/' })
class AdminGateway {
  @WebSocketServer() server!: CoreServer;

  @SubscribeMessage('whoami')
  whoami(): { event: string; data: string } {
    return { event: 'iam', data: 'admin' };
  }
}

@WebSocketGateway({ path: '/chat' })
class ChatGateway {
  @WebSocketServer() server!: CoreServer;

  // Constructor injection needs emitDecoratorMetadata: this checks the toolchain too.
  constructor(private readonly admin: AdminGateway) {}

  @SubscribeMessage('whoami')
  whoami(): { event: string; data: string } {
    return { event: 'iam', data: 'chat' };
  }

  @SubscribeMessage('servers')
  servers(@ConnectedSocket() client: WebSocketConnection): boolean[] {
    return [this.server.connections.includes(client), this.admin.server.connections.includes(client), this.server !== this.admin.server];
  }
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Gateways on a separate port: one with a path, one without (path `/`). */
function separatePortGateways(port: number): Array<new () => object> {
  @WebSocketGateway(port, { path: '/side' })
  class SideGateway {
    @SubscribeMessage('where')
    where(@ConnectedSocket() client: WebSocketConnection): string {
      return `side:${client.socket.localPort}`;
    }
  }
  @WebSocketGateway(port)
  class RootGateway {
    @SubscribeMessage('where')
    where(@MessageBody() data: string): string {
      return `root:${data}`;
    }
  }
  return [SideGateway, RootGateway];
}

function rawStatus(port: number, requestHead: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(requestHead));
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (match) {
        resolve(Number(match[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

describe.each(PLATFORMS)('routing on %s', (platform) => {
  describe('several gateways on the application server (port 0)', () => {
    let running: RunningApp;
    const peers: Peer[] = [];
    const open = async (path: string): Promise<Peer> => {
      const peer = await Peer.open(running.url(path));
      peers.push(peer);
      return peer;
    };

    beforeAll(async () => {
      running = await startApp(platform, [ChatGateway, AdminGateway]);
    });
    afterEach(() => peers.splice(0).forEach((peer) => peer.terminate()));
    afterAll(() => running.close());

    it('routes each path to its own gateway, on the same port as HTTP', async () => {
      const chat = await open('/chat');
      const admin = await open('/admin');
      chat.emit('whoami');
      admin.emit('whoami');
      expect(await chat.json()).toEqual({ event: 'iam', data: 'chat' });
      expect(await admin.json()).toEqual({ event: 'iam', data: 'admin' });
    });

    it('gives each gateway its own core server', async () => {
      const chat = await open('/chat');
      await open('/admin');
      chat.emit('servers');
      expect(await chat.json()).toEqual([true, false, true]);
    });

    it('ignores the query string and trailing or repeated slashes', async () => {
      const chat = await open('/chat/?room=1');
      const admin = await open('//admin//');
      chat.emit('whoami');
      admin.emit('whoami');
      expect(await chat.json()).toEqual({ event: 'iam', data: 'chat' });
      expect(await admin.json()).toEqual({ event: 'iam', data: 'admin' });
    });

    it('accepts the first subprotocol the client asks for', async () => {
      const peer = await Peer.open(running.url('/chat'), {}, ['v2.chat', 'v1.chat']);
      peers.push(peer);
      expect(peer.ws.protocol).toBe('v2.chat');
      const plain = await open('/chat');
      expect(plain.ws.protocol).toBe('');
    });

    it('answers an upgrade to an unknown path with a real HTTP 404', async () => {
      expect(await refusal(running.url('/nope'))).toEqual({ status: 404, reason: 'No WebSocket gateway at this path' });
      expect((await refusal(running.url('/'))).status).toBe(404);
      expect((await refusal(running.url('/chat/extra'))).status).toBe(404);
    });

    it('answers an unparsable request target with 400', async () => {
      const status = await rawStatus(
        running.port,
        'GET http://[bad/chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      expect(status).toBe(400);
    });

    it('leaves plain HTTP to the framework', async () => {
      const response = await fetch(`http://127.0.0.1:${running.port}/chat`);
      expect(response.status).toBe(404);
    });
  });

  it('serves gateways on a separate port from an HTTP server it owns, and closes it with the app', async () => {
    const port = await freePort();
    const running = await startApp(platform, separatePortGateways(port));
    try {
      expect(port).not.toBe(running.port);
      const side = await Peer.open(`ws://127.0.0.1:${port}/side`);
      const root = await Peer.open(`ws://127.0.0.1:${port}/`);
      side.emit('where');
      root.emit('where', 'x');
      expect(await side.json()).toBe(`side:${port}`);
      expect(await root.json()).toBe('root:x');
      expect((await refusal(`ws://127.0.0.1:${port}/other`)).status).toBe(404);
      expect((await refusal(running.url('/side'))).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/side`)).status).toBe(426);
      const closed = Promise.all([side.closed, root.closed]);
      await running.close();
      expect((await closed).map((c) => c.code)).toEqual([1001, 1001]);
      await expect(Peer.open(`ws://127.0.0.1:${port}/side`)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await running.close();
    }
  });

  it('leaves upgrades for paths it does not serve to another upgrade listener', async () => {
    const running = await startApp(platform, [ChatGateway, AdminGateway], {
      configure: (app) =>
        (app.getHttpServer() as Server).on('upgrade', (request, socket) => {
          if (request.url === '/elsewhere') socket.end('HTTP/1.1 418 I\'m a Teapot\r\nConnection: close\r\n\r\n');
        }),
    });
    try {
      expect((await refusal(running.url('/elsewhere'))).status).toBe(418);
      const chat = await Peer.open(running.url('/chat'));
      chat.emit('whoami');
      expect(await chat.json()).toEqual({ event: 'iam', data: 'chat' });
      chat.terminate();
    } finally {
      await running.close();
    }
  });
});
