/**
 * Transport faults at every stage, over real sockets: a TCP reset or a half-close before
 * accept, during the 101, mid-frame, mid-fragmented-message and mid-close-handshake. Each
 * connection emits `close` exactly once, with 1006, and leaves nothing behind: no timers, no
 * socket listeners, no entries in `connections` or `pendingRequests`. Half-open peers are
 * found by keepalive.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/raw-peer';
import { clientFrame, waitUntil } from '../helpers/integration-kit';
import type { WebSocketConnection } from '../../src/connection';
import type { WebSocketRequest } from '../../src/request';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Ending = 'reset' | 'half-close';

/** Active timers in this process (every `setTimeout` not yet fired or cleared). */
function timers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

/** A server holding requests on `/hold`, accepting the rest; it records every close event. */
async function faultServer(options: Record<string, unknown> = {}): Promise<{
  server: TestServer;
  held: WebSocketRequest[];
  connections: WebSocketConnection[];
  closes: Map<WebSocketConnection, Array<[number, string]>>;
  messages: unknown[];
}> {
  const server = await startServer({ keepalive: true, keepaliveInterval: 60_000, keepaliveGracePeriod: 60_000, handshakeTimeout: 60_000, ...options });
  cleanups.push(() => server.close());
  const held: WebSocketRequest[] = [];
  const connections: WebSocketConnection[] = [];
  const closes = new Map<WebSocketConnection, Array<[number, string]>>();
  const messages: unknown[] = [];
  const track = (connection: WebSocketConnection): void => {
    connections.push(connection);
    closes.set(connection, []);
    connection.on('close', (code, description) => closes.get(connection)?.push([code, description]));
    connection.on('message', (message) => messages.push(message));
    connection.on('error', () => undefined);
  };
  server.wss.on('request', (request) => {
    if (request.resource === '/hold') held.push(request);
    else request.accept();
  });
  // Emitted inside accept(), before any socket event can reach the connection.
  server.wss.on('connect', track);
  return { server, held, connections, closes, messages };
}

/** A raw client: writes the upgrade request and hands every received chunk to `onData`. */
async function rawClient(port: number, path = '/', onData: (chunk: Buffer, socket: Socket) => void = () => undefined): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => onData(chunk, socket));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  cleanups.push(() => {
    socket.destroy();
  });
  return socket;
}

function end(socket: Socket, ending: Ending): void {
  if (ending === 'reset') socket.resetAndDestroy();
  else socket.end();
}

/** The fault leaves nothing behind, and the close event fired once, with 1006. */
/** A connection that sent its close frame (4000 'leaving'), seen by the raw client, with no reply yet. */
async function closeFrameSent(): Promise<{ fixture: Awaited<ReturnType<typeof faultServer>>; baseline: number; socket: Socket; connection: WebSocketConnection }> {
  const fixture = await faultServer({ closeTimeout: 60_000 });
  const baseline = timers();
  let sawClose = false;
  const socket = await rawClient(fixture.server.port, '/', (chunk) => {
    if (chunk.includes(Buffer.from('leaving'))) sawClose = true;
  });
  await waitUntil(() => fixture.connections.length === 1, 5000, 'the connection');
  const connection = fixture.connections[0];
  connection.close(4000, 'leaving');
  await waitUntil(() => sawClose, 5000, 'our close frame at the client');
  return { fixture, baseline, socket, connection };
}

async function expectCleanClose(
  fixture: Awaited<ReturnType<typeof faultServer>>,
  connection: WebSocketConnection,
  baselineTimers: number,
): Promise<void> {
  await waitUntil(() => (fixture.closes.get(connection)?.length ?? 0) > 0 && connection.socket.destroyed, 5000, 'the close event');
  // A second close event would come from a later socket event: let those run.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const closes = fixture.closes.get(connection) ?? [];
  expect(closes).toHaveLength(1);
  expect(closes[0][0]).toBe(1006);
  expect(fixture.server.wss.connections).toEqual([]);
  expect(fixture.server.wss.pendingRequests).toEqual([]);
  expect([connection.closeTimer, connection._keepaliveTimeoutID, connection._gracePeriodTimeoutID]).toEqual([null, null, null]);
  // Ours are gone; net.Socket's own 'end' handler (onReadableStreamEnd) is Node's.
  for (const event of ['data', 'end', 'close', 'drain', 'pause', 'resume']) {
    const ours = connection.socket.listeners(event).filter((listener) => listener.name !== 'onReadableStreamEnd');
    expect([event, ours.map(String)]).toEqual([event, []]);
  }
  // Timers of earlier tests may have fired since the baseline; none may have been added. A
  // short-lived timer (a socket's or the test's own) may still be pending: a leaked one never goes.
  await waitUntil(() => timers() <= baselineTimers, 3000, `the timer count to fall back to ${baselineTimers} (now ${timers()})`);
}

const ENDINGS: Ending[] = ['reset', 'half-close'];

describe('a transport fault emits close once with 1006 and leaks nothing', () => {
  it.each(ENDINGS)('%s before accept (the application accepts later)', async (ending) => {
    const fixture = await faultServer();
    const baseline = timers();
    const socket = await rawClient(fixture.server.port, '/hold');
    await waitUntil(() => fixture.held.length === 1, 5000, 'the held request');
    end(socket, ending);
    if (ending === 'reset') await waitUntil(() => fixture.server.wss.pendingRequests.length === 0, 5000, 'the request to be forgotten');
    const connection = fixture.held[0].accept();
    await expectCleanClose(fixture, connection, baseline);
    const [[, description]] = fixture.closes.get(connection) ?? [];
    expect(description).toBe(ending === 'reset' ? 'TCP connection lost before handshake completed.' : 'Connection dropped by remote peer.');
  });

  it.each(ENDINGS)('%s during the 101 write', async (ending) => {
    const fixture = await faultServer();
    const baseline = timers();
    let done = false;
    await rawClient(fixture.server.port, '/', (_chunk, socket) => {
      if (done) return;
      done = true;
      end(socket, ending);
    });
    await waitUntil(() => fixture.connections.length === 1, 5000, 'the connection');
    await expectCleanClose(fixture, fixture.connections[0], baseline);
  });

  it.each(ENDINGS)('%s mid-frame', async (ending) => {
    const fixture = await faultServer();
    const baseline = timers();
    const socket = await rawClient(fixture.server.port);
    await waitUntil(() => fixture.connections.length === 1, 5000, 'the connection');
    const frame = clientFrame(0x2, randomBytes(1000));
    socket.write(frame.subarray(0, 500));
    await waitUntil(() => fixture.connections[0].socket.bytesRead > 200, 5000, 'the first half of the frame');
    end(socket, ending);
    await expectCleanClose(fixture, fixture.connections[0], baseline);
    expect(fixture.messages).toEqual([]);
  });

  it.each(ENDINGS)('%s mid-fragmented-message', async (ending) => {
    const fixture = await faultServer();
    const baseline = timers();
    const socket = await rawClient(fixture.server.port);
    await waitUntil(() => fixture.connections.length === 1, 5000, 'the connection');
    socket.write(Buffer.concat([clientFrame(0x1, 'first part, ', { fin: false }), clientFrame(0x9, 'ping'), clientFrame(0x0, 'second part', { fin: false })]));
    await waitUntil(() => fixture.connections[0].socket.bytesRead > 30, 5000, 'the fragments');
    end(socket, ending);
    await expectCleanClose(fixture, fixture.connections[0], baseline);
    expect(fixture.messages).toEqual([]);
  });

  it('reset mid-close-handshake (our close frame sent, no reply yet)', async () => {
    const { fixture, baseline, socket, connection } = await closeFrameSent();
    expect(connection.closeTimer).not.toBeNull();
    end(socket, 'reset');
    await expectCleanClose(fixture, connection, baseline);
    expect(fixture.closes.get(connection)?.[0][1]).toMatch(/^Socket Error: \w+ (ECONNRESET|EPIPE)$/);
  });

  it('half-close mid-close-handshake: the FIN answers ours, so the close completes with our code (as in WebSocket-Node), once, with no leak', async () => {
    const { fixture, baseline, socket, connection } = await closeFrameSent();
    end(socket, 'half-close');
    await waitUntil(() => connection.socket.destroyed && (fixture.closes.get(connection)?.length ?? 0) > 0, 5000, 'the close');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fixture.closes.get(connection)).toEqual([[4000, 'leaving']]);
    expect(fixture.server.wss.connections).toEqual([]);
    expect(connection.closeTimer).toBeNull();
    await waitUntil(() => timers() <= baseline, 3000, 'the timer count to fall back to its baseline');
  });
});

describe('half-open peers', () => {
  it('are found by keepalive: a peer that neither reads nor answers is closed with 1006 "Peer not responding.", leaking nothing', async () => {
    const fixture = await faultServer({ keepaliveInterval: 100, keepaliveGracePeriod: 150 });
    const baseline = timers();
    const socket = await rawClient(fixture.server.port);
    await waitUntil(() => fixture.connections.length === 1, 5000, 'the connection');
    // Gone without a FIN or a reset, as a crashed host or a dropped route looks: silence.
    socket.pause();
    await expectCleanClose(fixture, fixture.connections[0], baseline);
    expect(fixture.closes.get(fixture.connections[0])).toEqual([[1006, 'Peer not responding.']]);
  });
});
