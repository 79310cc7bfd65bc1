/**
 * The connection's state properties, which are packed and created lazily to keep an idle
 * connection small: they must still read and write like WebSocket-Node's plain properties.
 * Real sockets, a `ws` client as the peer.
 */
import WebSocket from 'ws';
import { startServer, type TestServer } from '../helpers/raw-peer';
import type { WebSocketConnection } from '../../src/connection';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => unknown)();
});

/** A server that accepts every request, and one `ws` client connected to it. */
async function connected(options: Parameters<typeof startServer>[0] = {}, headers: Record<string, string> = {}): Promise<{ server: TestServer; connection: WebSocketConnection; client: WebSocket }> {
  const server = await startServer(options);
  cleanups.push(() => server.close());
  const accepted = new Promise<WebSocketConnection>((resolve) => {
    server.wss.on('request', (request) => resolve(request.accept(null, request.origin)));
  });
  const client = new WebSocket(server.url, { headers });
  cleanups.push(() => client.terminate());
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  return { server, connection: await accepted, client };
}

const BOOLEANS = ['connected', 'closeEventEmitted', 'outputBufferFull', 'inputPaused', 'socketHadError', 'waitingForCloseResponse', 'receivedEnd'] as const;

describe('connection state properties', () => {
  it('start as WebSocket-Node has them, and each boolean can be set without touching the others', async () => {
    const { connection } = await connected();
    expect(connection.connected).toBe(true);
    expect(connection.closeEventEmitted).toBe(false);
    expect(connection.outputBufferFull).toBe(false);
    expect(connection.socketHadError).toBe(false);
    expect(connection.waitingForCloseResponse).toBe(false);
    expect(connection.receivedEnd).toBe(false);
    expect(connection.maskOutgoingPackets).toBe(false);
    const initial = Object.fromEntries(BOOLEANS.map((name) => [name, connection[name]]));
    for (const name of BOOLEANS) {
      const before = connection[name];
      connection[name] = !before;
      const now = Object.fromEntries(BOOLEANS.map((n) => [n, connection[n]]));
      expect(now).toEqual({ ...initial, [name]: !before });
      connection[name] = before;
    }
    expect(Object.fromEntries(BOOLEANS.map((name) => [name, connection[name]]))).toEqual(initial);
  });

  it('end the socket once in a close handshake: the peer\'s FIN after ours is not answered by a second end()', async () => {
    const { connection, client } = await connected();
    const end = jest.spyOn(connection.socket, 'end');
    const closed = new Promise((resolve) => connection.socket.once('close', resolve));
    client.close(1000, 'bye');
    await closed;
    // A second end() on an ended socket would also build an ERR_STREAM_ALREADY_FINISHED error.
    expect(end).toHaveBeenCalledTimes(1);
    expect(connection.receivedEnd).toBe(true);
  });

  it('track the close: connected false, closeEventEmitted true, code and description set', async () => {
    const { connection, client } = await connected();
    const closed = new Promise<[number, string]>((resolve) => connection.on('close', (code, description) => resolve([code, description])));
    client.close(4001, 'bye');
    expect(await closed).toEqual([4001, 'bye']);
    expect(connection.connected).toBe(false);
    expect(connection.closeEventEmitted).toBe(true);
    expect(connection.closeReasonCode).toBe(4001);
    expect(connection.state).toBe('closed');
  });

  it('config-derived values follow the server config', async () => {
    const { connection } = await connected({ maxReceivedMessageSize: 12345, closeTimeout: 777, assembleFragments: true });
    expect(connection.maxReceivedMessageSize).toBe(12345);
    expect(connection.closeTimeout).toBe(777);
    expect(connection.assembleFragments).toBe(true);
  });

  it('extensions: an empty array, the same one on every read, and assignable', async () => {
    const { connection } = await connected();
    const first = connection.extensions;
    expect(first).toEqual([]);
    expect(connection.extensions).toBe(first);
    const replaced = [{ name: 'x', params: {} }];
    connection.extensions = replaced;
    expect(connection.extensions).toBe(replaced);
  });

  it('remoteAddresses: the peer alone without X-Forwarded-For, the same array on every read, and assignable', async () => {
    const { connection } = await connected();
    expect(connection.remoteAddress).toBe('127.0.0.1');
    const first = connection.remoteAddresses;
    expect(first).toEqual(['127.0.0.1']);
    expect(connection.remoteAddresses).toBe(first);
    first?.push('kept');
    expect(connection.remoteAddresses).toEqual(['127.0.0.1', 'kept']);
    connection.remoteAddresses = ['1.2.3.4'];
    expect(connection.remoteAddresses).toEqual(['1.2.3.4']);
  });

  it('remoteAddresses: the X-Forwarded-For chain, then the peer', async () => {
    const { connection } = await connected({}, { 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' });
    expect(connection.remoteAddresses).toEqual(['203.0.113.9', '10.0.0.1', '127.0.0.1']);
    expect(connection.remoteAddress).toBe('203.0.113.9');
  });
});

describe('the server forgets a closed connection', () => {
  it('before any of the application\'s close listeners run', async () => {
    const { server, connection, client } = await connected();
    const seen = new Promise<number>((resolve) => connection.on('close', () => resolve(server.wss.connections.length)));
    client.close();
    expect(await seen).toBe(0);
  });

  it('even when the application removed every close listener of the connection', async () => {
    const { server, connection, client } = await connected();
    connection.removeAllListeners('close');
    const serverClose = new Promise((resolve) => server.wss.once('close', resolve));
    client.close();
    await serverClose;
    expect(server.wss.connections).toHaveLength(0);
  });
});
