/**
 * Connection-time auth with `canUpgrade`: on the adapter (every gateway, with DI through the
 * app) and on one gateway. A refusal is a real HTTP status before any handshake, and the gateway
 * never hears of the refused client.
 */
import type { IncomingMessage } from 'node:http';
import { ForbiddenException, Injectable, UnauthorizedException, type INestApplication } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { UpgradeDecision, UpgradeTarget, WsuiteGatewayOptions } from '@wsuite/nestjs-adapter';
import { PLATFORMS, startApp, type RunningApp } from './helpers/app';
import { Peer, refusal } from './helpers/peer';

/** A provider the adapter-level hook reaches through the app (DI). */
@Injectable()
class TokenService {
  readonly seen: Array<{ url: string | undefined; target: UpgradeTarget }> = [];

  async check(request: IncomingMessage, target: UpgradeTarget): Promise<UpgradeDecision> {
    this.seen.push({ url: request.url, target });
    await new Promise((resolve) => setImmediate(resolve));
    const token = request.headers.authorization;
    if (token === 'Bearer forbidden') throw new ForbiddenException('Token revoked');
    if (token === 'Bearer expired') throw new UnauthorizedException('Token expired');
    if (token === 'Bearer broken') throw new Error('database down');
    if (token === 'Bearer teapot') return 418;
    if (token === 'Bearer nonsense') return 200;
    if (token === 'Bearer bad-headers') return { headers: { 'X-Count': { n: 1 } } } as unknown as UpgradeDecision;
    if (token === 'Bearer cookie') return { headers: { 'Set-Cookie': ['sid=abc; HttpOnly', 'seen=1'], 'X-Who': 'adapter' } };
    return token === 'Bearer good';
  }
}

let connections = 0;

@WebSocketGateway({ path: '/secure' })
class SecureGateway implements OnGatewayConnection {
  handleConnection(): void {
    connections++;
  }

  @SubscribeMessage('hello')
  hello(): string {
    return 'welcome';
  }
}

@WebSocketGateway<WsuiteGatewayOptions>({
  path: '/admin',
  canUpgrade: (request) => (request.headers['x-role'] === 'admin' ? { headers: { 'X-Who': 'gateway', 'X-Role': 'admin' } } : 403),
})
class AdminGateway {
  @SubscribeMessage('hello')
  hello(): string {
    return 'welcome, admin';
  }
}

describe.each(PLATFORMS)('connection-time auth on %s', (platform) => {
  let running: RunningApp;
  let app!: INestApplication;

  beforeAll(async () => {
    running = await startApp(platform, [TokenService, SecureGateway, AdminGateway], {
      adapter: { canUpgrade: (request, target) => app.get(TokenService).check(request, target) },
      configure: (created) => (app = created),
    });
  });
  afterAll(() => running.close());

  it('lets an authorized upgrade through and gives the hook the request and its target', async () => {
    const peer = await Peer.open(running.url('/secure?room=7'), { headers: { authorization: 'Bearer good' } });
    peer.emit('hello');
    expect(await peer.json()).toBe('welcome');
    expect(app.get(TokenService).seen.at(-1)).toEqual({ url: '/secure?room=7', target: { path: '/secure', port: 0 } });
    peer.terminate();
  });

  it('refuses with a real 401 when the hook returns false, before the gateway sees the client', async () => {
    const before = connections;
    expect(await refusal(running.url('/secure'))).toEqual({ status: 401, reason: undefined });
    expect(await refusal(running.url('/secure'), { authorization: 'Bearer wrong' })).toEqual({ status: 401, reason: undefined });
    expect(connections).toBe(before);
  });

  it('refuses with the status of a thrown HttpException, its message as the reason', async () => {
    expect(await refusal(running.url('/secure'), { authorization: 'Bearer forbidden' })).toEqual({ status: 403, reason: 'Token revoked' });
    expect(await refusal(running.url('/secure'), { authorization: 'Bearer expired' })).toEqual({ status: 401, reason: 'Token expired' });
  });

  it('refuses with a status the hook returns', async () => {
    expect((await refusal(running.url('/secure'), { authorization: 'Bearer teapot' })).status).toBe(418);
  });

  it('answers 500 and logs when the hook fails or returns something else', async () => {
    const before = running.logger.from('WsuiteAdapter').filter((e) => e.level === 'error').length;
    expect((await refusal(running.url('/secure'), { authorization: 'Bearer broken' })).status).toBe(500);
    expect((await refusal(running.url('/secure'), { authorization: 'Bearer nonsense' })).status).toBe(500);
    expect((await refusal(running.url('/secure'), { authorization: 'Bearer bad-headers' })).status).toBe(500);
    const errors = running.logger.from('WsuiteAdapter').filter((e) => e.level === 'error').slice(before);
    expect(errors.map((e) => String(e.message))).toEqual([
      expect.stringContaining('database down'),
      expect.stringContaining('canUpgrade must return a boolean, { headers } or an HTTP error status (400-599), got 200'),
      expect.stringContaining('got {"headers":{"X-Count":{"n":1}}}'),
    ]);
  });

  it('puts the headers of a { headers } decision on the 101; a later hook wins a name both set', async () => {
    const peer = await Peer.open(running.url('/secure'), { headers: { authorization: 'Bearer cookie' } });
    expect(peer.upgradeHeaders).toEqual(['Set-Cookie: sid=abc; HttpOnly', 'Set-Cookie: seen=1', 'X-Who: adapter']);
    peer.terminate();
    const admin = await Peer.open(running.url('/admin'), { headers: { authorization: 'Bearer cookie', 'x-role': 'admin' } });
    expect(admin.upgradeHeaders).toEqual(['Set-Cookie: sid=abc; HttpOnly', 'Set-Cookie: seen=1', 'X-Who: gateway', 'X-Role: admin']);
    admin.terminate();
  });

  it('runs the adapter hook and then the gateway hook: both must allow', async () => {
    expect((await refusal(running.url('/admin'), { authorization: 'Bearer good' })).status).toBe(403);
    expect((await refusal(running.url('/admin'), { 'x-role': 'admin' })).status).toBe(401);
    const peer = await Peer.open(running.url('/admin'), { headers: { authorization: 'Bearer good', 'x-role': 'admin' } });
    peer.emit('hello');
    expect(await peer.json()).toBe('welcome, admin');
    peer.terminate();
  });
});

describe('an upgrade still being checked at shutdown', () => {
  it('gets 503 when the hook lets it through after the gateway started closing', async () => {
    let release!: () => void;
    let entered!: () => void;
    const inHook = new Promise<void>((resolve) => (entered = resolve));
    const running = await startApp('express', [SecureGateway], {
      adapter: {
        canUpgrade: () =>
          new Promise<boolean>((resolve) => {
            release = () => resolve(true);
            entered();
          }),
      },
    });
    const close = running.adapter.close.bind(running.adapter);
    jest.spyOn(running.adapter, 'close').mockImplementation((server) => {
      const closed = close(server);
      release();
      return closed;
    });
    const refused = refusal(running.url('/secure'));
    await inHook;
    await running.close();
    expect(await refused).toEqual({ status: 503, reason: 'Server shutting down' });
  });
});
