/**
 * What Autobahn|Testsuite categories 12 and 13 check, against `ws` as the peer: compressed echo
 * round trips of messages from 16 bytes to 128 KiB (text and binary, compressible and random)
 * under each permessage-deflate parameter set (13.1 defaults, 13.2 no context takeover, 13.3-13.6
 * window bits with and without context takeover, 13.7 combinations), compressed fragmented
 * messages, in both roles: a `ws` client against our server, and our client against a `ws` server.
 * Every message is compressed (threshold 0 on both sides, as Autobahn does), and the bytes on the
 * wire are checked to be compressed (or, for an 8-bit server window on our side, not).
 */
import type { Socket } from 'node:net';
import type { PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { startServer } from '../helpers/raw-peer';
import { Cleanup, BIG, compressibleText, connectOurs, connectWs, prng, randomData, startWsEcho, bytesOf } from '../helpers/deflate-kit';
import type { WebSocketConnection } from '../../src/connection';
import type { PerMessageDeflateOptions } from '../../src/deflate-options';

const SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Random text of exactly `size` UTF-8 bytes, with 2-, 3- and 4-byte characters (compresses poorly). */
function randomText(size: number, seed: number): string {
  const next = prng(seed);
  const alphabet = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/äöüßéèñçøå€₿✓☃🎉𝄞'];
  let text = '';
  let bytes = 0;
  while (bytes < size) {
    const char = alphabet[(next() * alphabet.length) | 0];
    const length = Buffer.byteLength(char);
    if (bytes + length > size) {
      text += 'x'.repeat(size - bytes);
      break;
    }
    text += char;
    bytes += length;
  }
  return text;
}

/** Text made of random words from a small vocabulary: compresses well even in a 256-byte window. */
function wordyText(size: number, seed: number): string {
  const next = prng(seed);
  const words = ['the', 'websocket', 'frame', 'message', 'deflate', 'window', 'context', 'takeover', 'server', 'client', 'payload', 'zlib', '{"id":', '},', 'true', 'false'];
  let text = '';
  while (text.length < size) text += words[(next() * words.length) | 0] + (next() < 0.2 ? '\n' : ' ');
  return text.slice(0, size);
}

/** Autobahn 12.x-style payloads at each size: wordy text (local redundancy), random text, text that only repeats every 2500 bytes, random binary. */
const payloads: Array<string | Buffer> = SIZES.flatMap((size, i) => [
  wordyText(size, i),
  randomText(size, 100 + i),
  Buffer.from(compressibleText(size, 200 + i)),
  randomData(size, 300 + i),
]);
const totalBytes = payloads.reduce((sum, p) => sum + (typeof p === 'string' ? Buffer.byteLength(p) : p.length), 0);

/** A parameter set, as the client's offer (the ws / our client option names are the same). */
interface ParameterSet {
  name: string;
  offer: PerMessageDeflateOptions;
}

const windowSets = (key: 'serverMaxWindowBits' | 'clientMaxWindowBits'): ParameterSet[] =>
  [8, 9, 10, 11, 12, 13, 14, 15].map((bits) => ({ name: `${key} ${bits}`, offer: { [key]: bits } }));

const SETS: ParameterSet[] = [
  { name: '13.1 defaults', offer: {} },
  { name: '13.2 server_no_context_takeover', offer: { serverNoContextTakeover: true } },
  { name: 'client_no_context_takeover', offer: { clientNoContextTakeover: true } },
  ...windowSets('serverMaxWindowBits'),
  ...windowSets('clientMaxWindowBits'),
  { name: '13.5 server_no_context_takeover, server window 8', offer: { serverNoContextTakeover: true, serverMaxWindowBits: 8 } },
  { name: '13.6 server_no_context_takeover, server window 15', offer: { serverNoContextTakeover: true, serverMaxWindowBits: 15 } },
  { name: '13.7 everything, windows 9', offer: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 } },
  { name: '13.7 everything, windows 8', offer: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 8 } },
  { name: '13.7 everything, windows 12 / 10', offer: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 10 } },
  { name: 'takeover, windows 10 / 11', offer: { serverMaxWindowBits: 10, clientMaxWindowBits: 11 } },
];

/** The response a server that accepts every offered parameter sends (15 is the default and stays implicit in our entries). */
function expectedParams(offer: PerMessageDeflateOptions): Array<{ name: string; value?: string }> {
  const params: Array<{ name: string; value?: string }> = [];
  if (offer.serverNoContextTakeover) params.push({ name: 'server_no_context_takeover' });
  if (offer.clientNoContextTakeover) params.push({ name: 'client_no_context_takeover' });
  if (offer.serverMaxWindowBits !== undefined && offer.serverMaxWindowBits < 15) params.push({ name: 'server_max_window_bits', value: String(offer.serverMaxWindowBits) });
  if (offer.clientMaxWindowBits !== undefined && offer.clientMaxWindowBits < 15) params.push({ name: 'client_max_window_bits', value: String(offer.clientMaxWindowBits) });
  return params;
}

function same(received: Buffer, sent: string | Buffer): boolean {
  return received.equals(typeof sent === 'string' ? Buffer.from(sent) : sent);
}

/** Bytes sent on the wire compared with the payload bytes: compressed when well below. */
function expectCompressed(wireBytes: number, compressed: boolean): void {
  if (compressed) expect(wireBytes).toBeLessThan(totalBytes * 0.85);
  else expect(wireBytes).toBeGreaterThanOrEqual(totalBytes);
}

/** ws's socket. */
function socketOf(ws: unknown): Socket {
  return (ws as { _socket: Socket })._socket;
}

describe('ws client → our server (Autobahn 12 / 13 as the server under test)', () => {
  it.each(SETS)('$name: every size and kind echoes intact, compressed on the wire', async ({ offer }) => {
    const server = cleanup.add(
      await startServer({ keepalive: false, perMessageDeflate: { threshold: 0 }, maxReceivedFrameSize: BIG, maxReceivedMessageSize: BIG }),
      (s) => s.close(),
    );
    let serverSide!: WebSocketConnection;
    server.wss.on('request', (request) => {
      serverSide = request.accept();
      serverSide.on('message', (m) => (m.type === 'utf8' ? serverSide.sendUTF(m.utf8Data) : serverSide.sendBytes(m.binaryData)));
    });
    const { ws, messages } = cleanup.add(await connectWs(server.url, { perMessageDeflate: { ...offer, threshold: 0 } as WsDeflateOptions }), (p) => p.ws.terminate());
    expect(serverSide.extensions).toEqual([{ name: 'permessage-deflate', params: expectedParams(offer) }]);
    expect(ws.extensions).toMatch(/^permessage-deflate/);

    const readBefore = socketOf(ws).bytesRead;
    for (const payload of payloads) ws.send(payload, { binary: typeof payload !== 'string' });
    for (const payload of payloads) {
      const echoed = await messages.next('echo');
      expect(echoed.isBinary).toBe(typeof payload !== 'string');
      expect(same(echoed.data, payload)).toBe(true);
    }
    // ws compresses everything (its 8-bit window is zlib's 9, which never reaches back more than 250 bytes);
    // our server cannot make zlib produce an 8-bit window and sends uncompressed then.
    expectCompressed(serverSide.socket.bytesRead, true);
    expectCompressed(socketOf(ws).bytesRead - readBefore, offer.serverMaxWindowBits !== 8);
  });

  it.each([SETS[0], SETS[1], SETS[2], SETS.find((s) => s.name.startsWith('13.7 everything, windows 9')) as ParameterSet])(
    '$name: compressed fragmented messages (ws sends fragments, our server fragments its echo)',
    async ({ offer }) => {
      const server = cleanup.add(
        await startServer({ keepalive: false, perMessageDeflate: { threshold: 0 }, maxReceivedFrameSize: BIG, maxReceivedMessageSize: BIG, fragmentationThreshold: 1000 }),
        (s) => s.close(),
      );
      server.wss.on('request', (request) => {
        const connection = request.accept();
        connection.on('message', (m) => (m.type === 'utf8' ? connection.sendUTF(m.utf8Data) : connection.sendBytes(m.binaryData)));
      });
      const { ws, messages } = cleanup.add(await connectWs(server.url, { perMessageDeflate: { ...offer, threshold: 0 } as WsDeflateOptions }), (p) => p.ws.terminate());
      const messagesSent: Array<string | Buffer> = [];
      for (const [i, size] of [16, 1024, 65536, 131072].entries()) {
        for (const payload of [compressibleText(size, i), randomData(size, i)]) {
          const binary = typeof payload !== 'string';
          const bytes = Buffer.from(payload);
          // Fragments of uneven sizes, the first one possibly empty.
          const cuts = [0, Math.floor(bytes.length / 7), Math.floor(bytes.length / 2), bytes.length - 1, bytes.length];
          for (let f = 0; f < cuts.length - 1; f++) ws.send(bytes.subarray(cuts[f], cuts[f + 1]), { binary, fin: f === cuts.length - 2, compress: true });
          messagesSent.push(payload);
        }
      }
      for (const payload of messagesSent) {
        const echoed = await messages.next('echo');
        expect(echoed.isBinary).toBe(typeof payload !== 'string');
        expect(same(echoed.data, payload)).toBe(true);
      }
    },
  );
});

describe('our client → ws server (Autobahn 12 / 13 as the client under test)', () => {
  it.each(SETS)('$name: every size and kind echoes intact, compressed on the wire', async ({ offer }) => {
    const wsServer = cleanup.add(await startWsEcho({ threshold: 0 }), (s) => s.close());
    const { connection, messages, client } = cleanup.add(
      await connectOurs(wsServer.url, { perMessageDeflate: { ...offer, threshold: 0 }, maxReceivedFrameSize: BIG, maxReceivedMessageSize: BIG }),
      (c) => c.connection.socket.destroy(),
    );
    expect(connection.extensions).toEqual([{ name: 'permessage-deflate', params: expectedParams(offer) }]);
    expect(client.response?.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);

    const serverSocket = socketOf(wsServer.sockets[0]);
    const readBefore = connection.socket.bytesRead;
    for (const payload of payloads) connection.send(payload);
    for (const payload of payloads) {
      const echoed = await messages.next('echo');
      expect(echoed.type).toBe(typeof payload === 'string' ? 'utf8' : 'binary');
      expect(same(bytesOf(echoed), payload)).toBe(true);
    }
    // Our client cannot make zlib produce an 8-bit window and sends uncompressed then; ws compresses.
    expectCompressed(serverSocket.bytesRead, offer.clientMaxWindowBits !== 8);
    expectCompressed(connection.socket.bytesRead - readBefore, true);
  });

  const serverPolicies: Array<{ name: string; ws: WsDeflateOptions; params: Array<{ name: string; value?: string }> }> = [
    {
      name: 'a server that asks for everything (windows 10)',
      ws: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
      params: [{ name: 'server_no_context_takeover' }, { name: 'client_no_context_takeover' }, { name: 'server_max_window_bits', value: '10' }, { name: 'client_max_window_bits', value: '10' }],
    },
    { name: 'a server that limits the client window to 9', ws: { clientMaxWindowBits: 9 }, params: [{ name: 'client_max_window_bits', value: '9' }] },
    { name: 'a server that resets the client context', ws: { clientNoContextTakeover: true }, params: [{ name: 'client_no_context_takeover' }] },
  ];

  it.each(serverPolicies)('$name: our client follows the parameters the server chose', async ({ ws, params }) => {
    const wsServer = cleanup.add(await startWsEcho({ ...ws, threshold: 0 }), (s) => s.close());
    const { connection, messages } = cleanup.add(
      await connectOurs(wsServer.url, { perMessageDeflate: { threshold: 0 }, maxReceivedFrameSize: BIG, maxReceivedMessageSize: BIG, fragmentationThreshold: 1000 }),
      (c) => c.connection.socket.destroy(),
    );
    expect(connection.extensions).toEqual([{ name: 'permessage-deflate', params }]);
    for (const payload of payloads) connection.send(payload);
    for (const payload of payloads) expect(same(bytesOf(await messages.next('echo')), payload)).toBe(true);
  });

  it('compressed fragmented messages from a ws server are read', async () => {
    const wsServer = cleanup.add(await startWsEcho({ threshold: 0 }), (s) => s.close());
    wsServer.wss.removeAllListeners('connection');
    wsServer.wss.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => {
        const bytes = data as Buffer;
        const half = Math.floor(bytes.length / 2);
        socket.send(bytes.subarray(0, half), { binary: isBinary, fin: false, compress: true });
        socket.send(bytes.subarray(half), { binary: isBinary, fin: true, compress: true });
      });
    });
    const { connection, messages } = cleanup.add(await connectOurs(wsServer.url, { perMessageDeflate: true, maxReceivedFrameSize: BIG, maxReceivedMessageSize: BIG }), (c) =>
      c.connection.socket.destroy(),
    );
    for (const payload of payloads) connection.send(payload);
    for (const payload of payloads) expect(same(bytesOf(await messages.next('echo')), payload)).toBe(true);
  });
});
