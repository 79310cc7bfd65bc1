/**
 * Topics over real sockets: subscribe / publish / except / unsubscribe, the close leaving every
 * topic, subscriber counts, one encoding shared by every subscriber (also with permessage-deflate
 * connections), the slow-consumer policy on publish, and the pub/sub driver seam.
 */
import { RawPeer, startServer, type ReceivedFrame, type TestServer } from '../helpers/raw-peer';
import { waitUntil } from '../helpers/integration-kit';
import { WebSocketConnection, SendBufferFullError } from '../../src/connection';
import { WebSocketClient } from '../../src/client';
import type { WebSocketServerOptions } from '../../src/server';
import type { PubSubDriver, PubSubTarget } from '../../src/pubsub';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  jest.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server whose connections subscribe to the topics listed in `?topics=a,b` and are kept by `?name=`. */
interface TopicServer extends TestServer {
  /** The server side of each connection, by its `name` query parameter. */
  byName: Map<string, WebSocketConnection>;
  /** Resolves with the server side of the connection named `name`. */
  side(name: string): Promise<WebSocketConnection>;
}

async function serve(options: Omit<WebSocketServerOptions, 'httpServer'> = {}): Promise<TopicServer> {
  const server = await startServer({ keepalive: false, ...options });
  cleanups.push(() => server.close());
  const byName = new Map<string, WebSocketConnection>();
  server.wss.on('request', (request) => {
    const connection = request.accept();
    const query = new URL(request.resource, 'http://x').searchParams;
    for (const topic of (query.get('topics') ?? '').split(',').filter(Boolean)) connection.subscribe(topic);
    byName.set(query.get('name') ?? '', connection);
  });
  return Object.assign(server, {
    byName,
    async side(name: string) {
      await waitUntil(() => byName.has(name), 5000, `connection ${name}`);
      return byName.get(name) as WebSocketConnection;
    },
  });
}

/** A raw peer named `name`, subscribed to `topics`, and the server side of its connection. */
async function peer(server: TopicServer, name: string, topics: string[] = [], headers: Record<string, string> = {}): Promise<{ peer: RawPeer; connection: WebSocketConnection }> {
  const raw = await RawPeer.connect(server.port, { path: `/?name=${name}&topics=${topics.join(',')}`, headers });
  cleanups.push(() => {
    raw.socket.destroy();
  });
  return { peer: raw, connection: await server.side(name) };
}

interface WireMessage {
  opcode: number;
  rsv1: boolean;
  payload: Buffer;
}

/** Data frames assembled into messages (continuations joined). */
function messagesOf(frames: ReceivedFrame[]): WireMessage[] {
  const messages: WireMessage[] = [];
  let current: WireMessage | null = null;
  for (const frame of frames) {
    if (frame.opcode >= 0x8) continue;
    if (frame.opcode !== 0) current = { opcode: frame.opcode, rsv1: frame.rsv1, payload: frame.payload };
    else if (current) current.payload = Buffer.concat([current.payload, frame.payload]);
    if (frame.fin && current) {
      messages.push(current);
      current = null;
    }
  }
  return messages;
}

async function messages(raw: RawPeer, count: number): Promise<WireMessage[]> {
  await raw.waitFor((frames) => messagesOf(frames).length >= count);
  return messagesOf(raw.frames);
}

const texts = (list: WireMessage[]): string[] => list.map((m) => m.payload.toString());

describe('subscribe and publish', () => {
  it('delivers a publish to the topic’s subscribers only, as text or binary', async () => {
    const server = await serve();
    const a = await peer(server, 'a', ['news']);
    const b = await peer(server, 'b', ['news', 'sport']);
    const c = await peer(server, 'c', ['sport']);
    expect(server.wss.publish('news', 'hello news')).toBe(2);
    expect(server.wss.publish('news', Buffer.from([0, 1, 255]))).toBe(2);
    expect(server.wss.publish('sport', 'goal')).toBe(2);
    expect(server.wss.publish('weather', 'nobody listens')).toBe(0);
    const [ma, mb, mc] = [await messages(a.peer, 2), await messages(b.peer, 3), await messages(c.peer, 1)];
    expect(ma.map((m) => [m.opcode, m.payload.toString('hex')])).toEqual([[1, Buffer.from('hello news').toString('hex')], [2, '0001ff']]);
    expect(mb.map((m) => m.opcode)).toEqual([1, 2, 1]);
    expect(texts(mb)[2]).toBe('goal');
    expect(texts(mc)).toEqual(['goal']);
    // Nothing more arrives: a message published afterwards is the next one each peer sees.
    server.wss.publish('news', 'end');
    server.wss.publish('sport', 'end');
    expect(texts(await messages(a.peer, 3))).toEqual(['hello news', '\u0000\u0001\ufffd', 'end']);
    expect(texts(await messages(c.peer, 2))).toEqual(['goal', 'end']);
  });

  it('accepts ArrayBuffers, typed-array views and toString() values like send() does', async () => {
    const server = await serve();
    const a = await peer(server, 'a', ['t']);
    const bytes = new Uint8Array([5, 6, 7, 8]);
    server.wss.publish('t', bytes.subarray(1, 3));
    server.wss.publish('t', bytes.buffer);
    server.wss.publish('t', { toString: () => 'from toString' });
    const got = await messages(a.peer, 3);
    expect(got.map((m) => [m.opcode, m.payload.toString('hex')])).toEqual([
      [2, '0607'],
      [2, '05060708'],
      [1, Buffer.from('from toString').toString('hex')],
    ]);
  });

  it('skips the connection given as except (the sender)', async () => {
    const server = await serve();
    const a = await peer(server, 'a', ['room']);
    const b = await peer(server, 'b', ['room']);
    expect(server.wss.publish('room', 'from a', { except: a.connection })).toBe(1);
    server.wss.publish('room', 'to all');
    expect(texts(await messages(a.peer, 1))).toEqual(['to all']);
    expect(texts(await messages(b.peer, 2))).toEqual(['from a', 'to all']);
  });

  it('stops delivering after unsubscribe; subscribe/unsubscribe report whether anything changed', async () => {
    const server = await serve();
    const a = await peer(server, 'a');
    expect(a.connection.subscribe('news')).toBe(true);
    expect(a.connection.subscribe('news')).toBe(false);
    expect(a.connection.isSubscribed('news')).toBe(true);
    server.wss.publish('news', 'one');
    expect(a.connection.unsubscribe('news')).toBe(true);
    expect(a.connection.unsubscribe('news')).toBe(false);
    expect(a.connection.isSubscribed('news')).toBe(false);
    server.wss.publish('news', 'two');
    a.connection.subscribe('other');
    server.wss.publish('other', 'three');
    expect(texts(await messages(a.peer, 2))).toEqual(['one', 'three']);
  });

  it('keeps counts and topic lists on both sides', async () => {
    const server = await serve();
    const a = await peer(server, 'a', ['news', 'sport']);
    const b = await peer(server, 'b', ['news']);
    expect(a.connection.topics).toEqual(['news', 'sport']);
    expect(b.connection.topics).toEqual(['news']);
    expect(server.wss.topics).toEqual(['news', 'sport']);
    expect(server.wss.subscriberCount('news')).toBe(2);
    expect(server.wss.subscriberCount('sport')).toBe(1);
    expect(server.wss.subscriberCount('weather')).toBe(0);
    a.connection.unsubscribe('sport');
    expect(server.wss.topics).toEqual(['news']);
    expect(server.wss.subscriberCount('sport')).toBe(0);
  });

  it('a connection that closes leaves every topic, before the close listeners run', async () => {
    const server = await serve();
    const a = await peer(server, 'a', ['news', 'sport']);
    await peer(server, 'b', ['news']);
    const seenInClose: string[][] = [];
    a.connection.on('close', () => seenInClose.push(a.connection.topics));
    const serverSaw = new Promise<number>((resolve) => server.wss.once('close', () => resolve(server.wss.subscriberCount('news'))));
    a.peer.socket.destroy();
    expect(await serverSaw).toBe(1);
    expect(seenInClose).toEqual([[]]);
    expect(a.connection.topics).toEqual([]);
    expect(server.wss.topics).toEqual(['news']);
    expect(server.wss.subscriberCount('sport')).toBe(0);
    // A closed connection cannot subscribe again (it would never be cleaned up).
    expect(a.connection.subscribe('news')).toBe(false);
    expect(server.wss.subscriberCount('news')).toBe(1);
  });

  it('a connection closed by a close handshake leaves its topics too', async () => {
    const server = await serve();
    const a = await peer(server, 'a', ['news']);
    a.peer.sendClose(1000, 'bye');
    await waitUntil(() => server.wss.subscriberCount('news') === 0, 5000, 'the topic to empty');
    expect(server.wss.topics).toEqual([]);
    expect(server.wss.publish('news', 'anyone?')).toBe(0);
  });

  it('throws clear errors: bad topics and data are TypeErrors, client connections cannot subscribe', async () => {
    const server = await serve();
    const a = await peer(server, 'a');
    expect(() => a.connection.subscribe('')).toThrow(new TypeError('subscribe() needs a non-empty topic name.'));
    expect(() => a.connection.unsubscribe(7 as never)).toThrow(new TypeError('unsubscribe() needs a topic name as a string, got number.'));
    expect(() => server.wss.publish(undefined as never, 'x')).toThrow(new TypeError('publish() needs a topic name as a string, got undefined.'));
    expect(() => server.wss.publish('t', null as never)).toThrow(TypeError);
    expect(() => server.wss.publish('t', 'x', { except: 'a' as never })).toThrow(/option "except" must be a WebSocketConnection/);
    expect(() => server.wss.subscriberCount(null as never)).toThrow(TypeError);
    expect(() => server.wss.deliverRemote('t', 'text' as never, false)).toThrow(new TypeError('deliverRemote() needs the payload as a Buffer, got string.'));

    const client = new WebSocketClient();
    const connected = new Promise<WebSocketConnection>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connectFailed', reject);
    });
    client.connect(`${server.url}/?name=client`);
    const clientSide = await connected;
    cleanups.push(() => clientSide.drop(1000, 'test over', true));
    expect(() => clientSide.subscribe('news')).toThrow(/subscribe\(\) works on connections accepted by a WebSocketServer/);
    expect(() => clientSide.unsubscribe('news')).toThrow(Error);
    expect(clientSide.topics).toEqual([]);
    expect(clientSide.isSubscribed('news')).toBe(false);
  });
});

describe('one encoding for every subscriber', () => {
  function spyOnEncodedWrites(): Array<{ connection: WebSocketConnection; frames: readonly Buffer[] }> {
    const calls: Array<{ connection: WebSocketConnection; frames: readonly Buffer[] }> = [];
    const original = WebSocketConnection.prototype.sendEncodedFrames;
    jest.spyOn(WebSocketConnection.prototype, 'sendEncodedFrames').mockImplementation(function (this: WebSocketConnection, frames, cb) {
      calls.push({ connection: this, frames });
      return original.call(this, frames, cb);
    });
    return calls;
  }

  it('hands the same frame Buffers to every subscriber’s send path (text, binary, fragmented)', async () => {
    const server = await serve({ fragmentationThreshold: 1000 });
    const peers = [await peer(server, 'a', ['t']), await peer(server, 'b', ['t']), await peer(server, 'c', ['t'])];
    const calls = spyOnEncodedWrites();
    const big = Buffer.alloc(4500, 7);
    server.wss.publish('t', 'short text');
    server.wss.publish('t', Buffer.from('binary'));
    server.wss.publish('t', big);
    server.wss.publish('t', 'x'.repeat(2500));
    expect(calls).toHaveLength(12);
    for (let message = 0; message < 4; message++) {
      const group = calls.slice(message * 3, message * 3 + 3);
      expect(new Set(group.map((call) => call.connection))).toEqual(new Set(peers.map((p) => p.connection)));
      // The very same array and Buffer objects, not equal copies.
      for (const call of group) {
        expect(call.frames).toBe(group[0].frames);
        call.frames.forEach((frame, i) => expect(frame).toBe(group[0].frames[i]));
      }
    }
    // The large messages were fragmented once (a frame per 1000 bytes, 4-byte headers), not per
    // subscriber, into one buffer: one piece in each socket's write.
    expect(calls[6].frames.map((frame) => frame.length)).toEqual([4500 + 5 * 4]);
    expect(calls[9].frames.map((frame) => frame.length)).toEqual([2500 + 3 * 4]);
    for (const p of peers) {
      const got = await messages(p.peer, 4);
      expect(got[2].payload.equals(big)).toBe(true);
      expect(got[3].payload.toString()).toBe('x'.repeat(2500));
      expect(p.peer.frames.map((f) => f.opcode)).toEqual([1, 2, 2, 0, 0, 0, 0, 1, 0, 0]);
    }
  });

  it('permessage-deflate connections get the same uncompressed frame (RSV1 clear) and decode it', async () => {
    const server = await serve({ perMessageDeflate: { threshold: 0 } });
    const compressed = await peer(server, 'z', ['t'], { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    const plain = await peer(server, 'p', ['t']);
    expect([compressed.connection.compressed, plain.connection.compressed]).toEqual([true, false]);
    const calls = spyOnEncodedWrites();
    const text = 'compressible '.repeat(500);
    server.wss.publish('t', text);
    expect(calls).toHaveLength(2);
    expect(calls[0].frames).toBe(calls[1].frames);
    const [z, p] = [await messages(compressed.peer, 1), await messages(plain.peer, 1)];
    expect(z[0].rsv1).toBe(false);
    expect(z[0].payload.toString()).toBe(text);
    expect(p[0].payload.toString()).toBe(text);
  });

  it('on a compressed connection, a publish keeps its place after messages still being compressed', async () => {
    const server = await serve({ perMessageDeflate: { threshold: 0 } });
    const compressed = await peer(server, 'z', ['t'], { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    compressed.connection.sendUTF('first '.repeat(20000));
    server.wss.publish('t', 'second');
    const got = await messages(compressed.peer, 2);
    expect(got.map((m) => m.rsv1)).toEqual([true, false]);
    expect(got[1].payload.toString()).toBe('second');
  });
});

describe('the slow-consumer policy applies to publish', () => {
  it("'drop': a subscriber over maxBufferedAmount loses the message (messageDropped), the others get it", async () => {
    const server = await serve({ maxBufferedAmount: 64 * 1024, bufferOverflowPolicy: 'drop' });
    const slow = await peer(server, 'slow', ['t']);
    const fast = await peer(server, 'fast', ['t']);
    // The slow side reports a full buffer, as if its peer had stopped reading long ago.
    Object.defineProperty(slow.connection, 'bufferedAmount', { get: () => 10 * 1024 * 1024, configurable: true });
    const dropped: SendBufferFullError[] = [];
    slow.connection.on('messageDropped', (error) => dropped.push(error));
    server.wss.publish('t', 'one');
    server.wss.publish('t', Buffer.alloc(100));
    expect(dropped.map((e) => [e.code, e.byteLength, e.limit])).toEqual([
      ['WS_ERR_SEND_BUFFER_FULL', 5, 64 * 1024],
      ['WS_ERR_SEND_BUFFER_FULL', 102, 64 * 1024],
    ]);
    expect(slow.connection.state).toBe('open');
    expect(server.wss.subscriberCount('t')).toBe(2);
    expect(texts(await messages(fast.peer, 2))[0]).toBe('one');
    // Once it can take data again, it gets the next publish.
    delete (slow.connection as unknown as Record<string, unknown>).bufferedAmount;
    server.wss.publish('t', 'three');
    expect(texts(await messages(slow.peer, 1))).toEqual(['three']);
  });

  it("'close': a subscriber that stops reading is closed with 1008 and leaves the topic; the reader gets every message", async () => {
    const server = await serve({ maxBufferedAmount: 256 * 1024, bufferOverflowPolicy: 'close' });
    const slow = await peer(server, 'slow', ['t']);
    const fast = await peer(server, 'fast', ['t']);
    slow.peer.socket.pause();
    const slowClosed = new Promise<number>((resolve) => slow.connection.once('close', (code) => resolve(code)));
    let closedCode: number | null = null;
    void slowClosed.then((code) => (closedCode = code));
    const chunk = Buffer.alloc(128 * 1024, 1);
    let sent = 0;
    // Publish until the kernel buffers of the paused peer are full and core's limit is hit
    // (bounded: 4000 x 128 KiB = 500 MiB would be far beyond any socket buffer).
    while (closedCode === null && sent < 4000) {
      chunk.writeUInt32BE(sent, 0);
      server.wss.publish('t', chunk);
      sent++;
      await fast.peer.waitFor((frames) => messagesOf(frames).length >= sent, 10000);
    }
    expect(await slowClosed).toBe(1008);
    expect(slow.connection.closeDescription).toBe('Send buffer limit exceeded.');
    expect(server.wss.subscriberCount('t')).toBe(1);
    const got = messagesOf(fast.peer.frames);
    expect(got.map((m) => m.payload.readUInt32BE(0))).toEqual(Array.from({ length: sent }, (_, i) => i));
  });
});

describe('the pub/sub driver seam', () => {
  class RecordingDriver implements PubSubDriver {
    readonly calls: unknown[][] = [];
    subscribe(topic: string, target: PubSubTarget): void {
      this.calls.push(['subscribe', topic, target]);
    }
    unsubscribe(topic: string, target: PubSubTarget): void {
      this.calls.push(['unsubscribe', topic, target]);
    }
    publish(topic: string, payload: Buffer, isBinary: boolean, origin: PubSubTarget): void {
      this.calls.push(['publish', topic, Buffer.from(payload).toString(), isBinary, origin]);
    }
  }

  it('subscribes a topic on its first local subscriber and unsubscribes it on the last (close included)', async () => {
    const server = await serve();
    const driver = new RecordingDriver();
    expect(server.wss.setPubSub(driver)).toBe(server.wss);
    expect(server.wss.pubsub).toBe(driver);
    const a = await peer(server, 'a', ['news']);
    const b = await peer(server, 'b', ['news', 'sport']);
    expect(driver.calls).toEqual([['subscribe', 'news', server.wss], ['subscribe', 'sport', server.wss]]);
    a.connection.unsubscribe('news');
    expect(driver.calls).toHaveLength(2);
    b.peer.socket.destroy();
    await waitUntil(() => driver.calls.length === 4, 5000, 'unsubscribes');
    expect(driver.calls.slice(2)).toEqual([['unsubscribe', 'news', server.wss], ['unsubscribe', 'sport', server.wss]]);
  });

  it('publish goes to local subscribers and then to the driver once; local: true keeps it off the driver', async () => {
    const server = await serve();
    const driver = new RecordingDriver();
    server.wss.setPubSub(driver);
    const a = await peer(server, 'a', ['news']);
    driver.calls.length = 0;
    expect(server.wss.publish('news', 'hi')).toBe(1);
    expect(server.wss.publish('nobody', Buffer.from('bin'))).toBe(0);
    expect(server.wss.publish('news', 'local only', { local: true })).toBe(1);
    expect(driver.calls).toEqual([
      ['publish', 'news', 'hi', false, server.wss],
      ['publish', 'nobody', 'bin', true, server.wss],
    ]);
    expect(texts(await messages(a.peer, 2))).toEqual(['hi', 'local only']);
  });

  it('deliverRemote reaches local subscribers and is not handed back to the driver', async () => {
    const server = await serve();
    const driver = new RecordingDriver();
    server.wss.setPubSub(driver);
    const a = await peer(server, 'a', ['news']);
    driver.calls.length = 0;
    expect(server.wss.deliverRemote('news', Buffer.from('from elsewhere'), false)).toBe(1);
    expect(server.wss.deliverRemote('news', Buffer.from([1, 2]), true)).toBe(1);
    expect(server.wss.deliverRemote('other', Buffer.from('x'), false)).toBe(0);
    expect(driver.calls).toEqual([]);
    const got = await messages(a.peer, 2);
    expect(got.map((m) => m.opcode)).toEqual([1, 2]);
    expect(got[0].payload.toString()).toBe('from elsewhere');
  });

  it('setPubSub moves existing topics to the new driver, null removes it, a non-driver is a TypeError', async () => {
    const server = await serve();
    await peer(server, 'a', ['news']);
    const first = new RecordingDriver();
    const second = new RecordingDriver();
    server.wss.setPubSub(first);
    expect(first.calls).toEqual([['subscribe', 'news', server.wss]]);
    server.wss.setPubSub(second);
    expect(first.calls).toEqual([['subscribe', 'news', server.wss], ['unsubscribe', 'news', server.wss]]);
    expect(second.calls).toEqual([['subscribe', 'news', server.wss]]);
    server.wss.setPubSub(null);
    expect(second.calls[1]).toEqual(['unsubscribe', 'news', server.wss]);
    expect(server.wss.pubsub).toBeNull();
    server.wss.publish('news', 'no driver');
    expect(second.calls).toHaveLength(2);
    expect(() => server.wss.setPubSub({ publish() {} } as never)).toThrow(TypeError);
    expect(() => server.wss.setPubSub(undefined as never)).toThrow(/setPubSub\(\) needs a driver/);
  });
});
