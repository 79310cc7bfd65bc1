/**
 * The adapter contract: the same behaviours, asserted the same way, for core and for every
 * framework adapter. A fixture is an app that serves these WebSocket routes:
 *
 * - `/echo`: echoes every text and binary message;
 * - `/guarded`: behind the framework's own auth (hook, middleware or guard): without the header
 *   `x-token: <CONTRACT_TOKEN>` the upgrade is answered with a real HTTP 401, with it the route
 *   echoes like `/echo`; with capability `upgradeHeaders`, the auth also sets the response
 *   header `x-contract-user: <CONTRACT_USER>` the framework's way, and the 101 must carry it;
 * - `/params/:id` (capability `params`): on open, sends `{"id": <id>, "q": <query q>}` as JSON;
 * - `/throws` (capability `throws`): its handler throws; the connection closes with 1011 and
 *   the server keeps serving;
 * - `/listener-throws` (capability `listenerThrows`): its handler adds a `message` listener that
 *   throws; the first message closes the connection with 1011 and the server keeps serving;
 * and is configured with `maxReceivedFrameSize` and `maxReceivedMessageSize` = CONTRACT_LIMITS.
 */
import WebSocket from 'ws';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

/** Frame and message limit the fixture must configure (bytes). */
export const CONTRACT_LIMITS = 1024;
/** The token `/guarded` accepts in `x-token`. */
export const CONTRACT_TOKEN = 'let-me-in';
/** The value of `x-contract-user` that `/guarded`'s auth sets on the response (capability `upgradeHeaders`). */
export const CONTRACT_USER = 'ada';

/** A running app under test. */
export interface ContractFixture {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Graceful shutdown through the framework: open WebSockets must get a 1001 close. */
  shutdown(): Promise<void>;
}

/** What a fixture supports beyond the required routes. */
export interface ContractCapabilities {
  /** `/params/:id` exists. */
  params?: boolean;
  /** `/throws` exists. */
  throws?: boolean;
  /** `/listener-throws` exists. */
  listenerThrows?: boolean;
  /** Status a plain HTTP GET to `/echo` gets (426 when the route is WebSocket-only). */
  plainHttpStatus?: number;
  /** Headers the framework's auth set on its response go out with the 101. */
  upgradeHeaders?: boolean;
}

/** Starts a fresh fixture. */
export type ContractFixtureFactory = () => Promise<ContractFixture>;

interface Opened {
  ws: WebSocket;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  /** The headers of the 101. */
  headers: Record<string, string | string[] | undefined>;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string, options: WebSocket.ClientOptions = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const messages: Opened['messages'] = [];
    let headers: Opened['headers'] = {};
    ws.once('upgrade', (response) => {
      headers = response.headers;
    });
    ws.on('message', (data, isBinary) => messages.push({ data: data as Buffer, isBinary }));
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.on('close', (code, reason) => done({ code, reason: reason.toString() })));
    ws.once('open', () => resolve({ ws, messages, headers, closed }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Resolves with the HTTP status an upgrade attempt gets when it is refused. */
function refusedStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', (error) => reject(error));
  });
}

async function until<T>(read: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Run the contract against fixtures from `start`; one fixture for the whole suite. */
export function runContractSuite(name: string, start: ContractFixtureFactory, capabilities: ContractCapabilities = {}): void {
  describe(`adapter contract: ${name}`, () => {
    let fixture: ContractFixture;
    let base: string;
    const clients: WebSocket[] = [];
    const track = (o: Opened): Opened => {
      clients.push(o.ws);
      return o;
    };

    beforeAll(async () => {
      fixture = await start();
      base = `ws://127.0.0.1:${fixture.port}`;
    });
    afterEach(() => {
      for (const ws of clients.splice(0)) ws.terminate();
    });
    afterAll(async () => {
      await fixture.shutdown();
    });

    it('echoes text and binary messages, in order', async () => {
      const c = track(await open(`${base}/echo`));
      c.ws.send('hello');
      c.ws.send(Buffer.from([1, 2, 3]));
      c.ws.send('');
      await until(() => (c.messages.length >= 3 ? true : undefined), 'three echoes');
      expect(c.messages.map((m) => [m.isBinary, m.data.toString('hex')])).toEqual([
        [false, Buffer.from('hello').toString('hex')],
        [true, '010203'],
        [false, ''],
      ]);
    });

    it('answers ping with pong', async () => {
      const c = track(await open(`${base}/echo`));
      const pong = new Promise<Buffer>((resolve) => c.ws.once('pong', resolve));
      c.ws.ping(Buffer.from('are you there'));
      expect((await pong).toString()).toBe('are you there');
    });

    it('passes the client close code through and echoes it', async () => {
      const c = track(await open(`${base}/echo`));
      c.ws.close(4000, 'bye');
      expect(await c.closed).toEqual({ code: 4000, reason: '' });
    });

    it(`closes with 1009 when a message exceeds ${CONTRACT_LIMITS} bytes`, async () => {
      const c = track(await open(`${base}/echo`));
      c.ws.send(Buffer.alloc(CONTRACT_LIMITS + 1));
      expect((await c.closed).code).toBe(1009);
    });

    it('refuses the guarded route with a real HTTP 401 before the handshake', async () => {
      expect(await refusedStatus(`${base}/guarded`)).toBe(401);
      const c = track(await open(`${base}/guarded`, { headers: { 'x-token': CONTRACT_TOKEN } }));
      c.ws.send('authorized');
      await until(() => c.messages[0], 'guarded echo');
      expect(c.messages[0].data.toString()).toBe('authorized');
      if (capabilities.upgradeHeaders) expect(c.headers['x-contract-user']).toBe(CONTRACT_USER);
    });

    it('answers an upgrade to an unknown path with 404', async () => {
      expect(await refusedStatus(`${base}/no/such/route`)).toBe(404);
    });

    it('answers an invalid handshake with its HTTP status and keeps serving', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const socket = connect(fixture.port, '127.0.0.1', () => {
          socket.write(
            'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
              'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n',
          );
        });
        let head = '';
        socket.on('data', (d) => {
          head += d.toString('latin1');
          const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
          if (m) {
            resolve(Number(m[1]));
            socket.destroy();
          }
        });
        socket.on('error', reject);
      });
      expect(status).toBe(426);
      const c = track(await open(`${base}/echo`));
      c.ws.send('still here');
      await until(() => c.messages[0], 'echo after a bad handshake');
      expect(c.messages[0].data.toString()).toBe('still here');
    });

    if (capabilities.plainHttpStatus !== undefined) {
      const expected = capabilities.plainHttpStatus;
      it(`answers a plain HTTP GET on a WebSocket route with ${expected}`, async () => {
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: fixture.port, path: '/echo' }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(expected);
      });
    }

    if (capabilities.params) {
      it('gives the handler route params and the query', async () => {
        const c = track(await open(`${base}/params/42?q=x%20y`));
        await until(() => c.messages[0], 'params message');
        expect(JSON.parse(c.messages[0].data.toString())).toEqual({ id: '42', q: 'x y' });
      });
    }

    if (capabilities.throws) {
      it('closes with 1011 when a handler throws, and keeps serving', async () => {
        const c = track(await open(`${base}/throws`));
        expect((await c.closed).code).toBe(1011);
        const d = track(await open(`${base}/echo`));
        d.ws.send('alive');
        await until(() => d.messages[0], 'echo after a throwing handler');
        expect(d.messages[0].data.toString()).toBe('alive');
      });
    }

    if (capabilities.listenerThrows) {
      it('closes with 1011 when a listener on the connection throws, and keeps serving', async () => {
        const c = track(await open(`${base}/listener-throws`));
        c.ws.send('boom');
        expect((await c.closed).code).toBe(1011);
        const d = track(await open(`${base}/echo`));
        d.ws.send('alive');
        await until(() => d.messages[0], 'echo after a throwing listener');
        expect(d.messages[0].data.toString()).toBe('alive');
      });
    }

    it('closes open connections with 1001 on graceful shutdown (runs last)', async () => {
      const c = track(await open(`${base}/echo`));
      const d = track(await open(`${base}/echo`));
      await fixture.shutdown();
      expect((await c.closed).code).toBe(1001);
      expect((await d.closed).code).toBe(1001);
      // A second shutdown (from afterAll) must be harmless.
      fixture = { ...fixture, shutdown: async () => undefined };
    });
  });
}
