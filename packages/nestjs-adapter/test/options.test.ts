/**
 * Bad options fail early: adapter options when the adapter is built, gateway options when Nest
 * registers the gateway (so `app.init()` / `app.listen()` rejects), with errors that name them.
 */
import { createServer, type Server } from 'node:http';
import { WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { WsAdapter, WsuiteAdapter, normalizePath, requestPath, type WsuiteAdapterOptions } from '@wsuite/nestjs-adapter';

describe('adapter options', () => {
  it.each<[string, WsuiteAdapterOptions | unknown, RegExp, ErrorConstructor]>([
    ['a negative limit', { maxReceivedMessageSize: -1 }, /maxReceivedMessageSize/, RangeError],
    ['a string flag', { keepalive: 'yes' }, /keepalive/, TypeError],
    ['a hook that is not a function', { canUpgrade: true }, /"canUpgrade" must be a function/, TypeError],
    ['ws\'s verifyClient', { verifyClient: () => true }, /unknown option "verifyClient" \(use canUpgrade\)/, TypeError],
    ['ws\'s maxPayload', { maxPayload: 10 }, /unknown option "maxPayload" \(use maxReceivedMessageSize\)/, TypeError],
    ['a path (a gateway option)', { path: '/x' }, /unknown option "path"/, TypeError],
    ['a non-object', 'fast', /options must be an object/, TypeError],
  ])('rejects %s at construction', (_name, options, message, type) => {
    expect(() => new WsuiteAdapter(undefined, options as WsuiteAdapterOptions)).toThrow(type);
    expect(() => new WsuiteAdapter(undefined, options as WsuiteAdapterOptions)).toThrow(message);
  });

  it('accepts undefined values as "use the default"', () => {
    expect(() => new WsuiteAdapter(undefined, { maxReceivedFrameSize: undefined, canUpgrade: undefined })).not.toThrow();
  });

  it('is exported as WsAdapter too, for a one-line switch from @nestjs/platform-ws', () => {
    expect(WsAdapter).toBe(WsuiteAdapter);
  });
});

describe('gateway options (create)', () => {
  let http: Server;
  let adapter: WsuiteAdapter;

  beforeEach(() => {
    http = createServer();
    adapter = new WsuiteAdapter(http);
  });
  afterEach(() => adapter.dispose());

  it('rejects unknown and invalid gateway options', () => {
    expect(() => adapter.create(0, { path: '/a', transports: ['websocket'] } as never)).toThrow(/@WebSocketGateway: unknown option "transports"/);
    expect(() => adapter.create(0, { path: 42 } as never)).toThrow(/"path" must be a string/);
    expect(() => adapter.create(0, { path: '/a', fragmentationThreshold: 0 })).toThrow(RangeError);
  });

  it('rejects namespaces and bad ports', () => {
    expect(() => adapter.create(0, { namespace: '/chat' })).toThrow(/does not support namespaces/);
    expect(() => adapter.create(-1, {})).toThrow(RangeError);
    expect(() => adapter.create(70000, {})).toThrow(RangeError);
  });

  it('rejects two gateways whose paths normalize to the same one on a port', () => {
    adapter.create(0, { path: '/dup' });
    expect(() => adapter.create(0, { path: 'dup/' })).toThrow('Two gateways use the path "/dup" on port 0.');
  });

  it('needs the application\'s HTTP server for port 0', () => {
    expect(() => new WsuiteAdapter().create(0, {})).toThrow(/new WsuiteAdapter\(app\)/);
  });

  it('merges gateway limits over the adapter\'s', () => {
    const limited = new WsuiteAdapter(http, { maxReceivedMessageSize: 100, maxReceivedFrameSize: 100 });
    const server = limited.create(0, { path: '/big', maxReceivedMessageSize: 5000 });
    expect(server.config).toMatchObject({ maxReceivedMessageSize: 5000, maxReceivedFrameSize: 100, noServer: true });
    return limited.dispose();
  });

  it('makes app.init() fail when a gateway has a bad option', async () => {
    @WebSocketGateway({ path: '/bad', maxPayload: 10 })
    class BadGateway {}
    const moduleRef = await Test.createTestingModule({ providers: [BadGateway] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new WsuiteAdapter(app));
    await expect(app.init()).rejects.toThrow(/unknown option "maxPayload"/);
    await app.close();
  });
});

describe('paths', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['chat', '/chat'],
    ['/chat/', '/chat'],
    ['//a//b//', '/a/b'],
  ])('normalizePath(%j) is %j', (path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it.each([
    ['/chat?room=1', '/chat'],
    ['/chat/#x', '/chat'],
    ['//chat', '/chat'],
    ['http://example.com/chat/', '/chat'],
    ['/%63hat', '/%63hat'],
  ])('requestPath(%j) is %j', (target, expected) => {
    expect(requestPath(target)).toBe(expected);
  });

  it('throws for a target that is neither origin- nor absolute-form', () => {
    // Node's URL throws a TypeError from outside Jest's realm: match the message.
    expect(() => requestPath('http://[bad')).toThrow('Invalid URL');
    expect(() => requestPath('*')).toThrow('Invalid URL');
  });
});
