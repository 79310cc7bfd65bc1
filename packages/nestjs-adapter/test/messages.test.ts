/**
 * Messages: JSON `{ event, data }` by default, replies as values, Promises and Observables,
 * `@ConnectedSocket()` as core's connection, binary frames, custom parsers and serializers,
 * broadcast through `@WebSocketServer()`, and the documented answer to malformed JSON and
 * unknown events (an `exception` frame, the connection stays open, one log line per connection).
 */
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, type OnGatewayDisconnect, type WsResponse } from '@nestjs/websockets';
import { interval, map, take, type Observable } from 'rxjs';
import { WebSocketConnection, type WebSocketServer as CoreServer } from '@wsuite/core';
import { BINARY_EVENT, broadcastEvent, type MessageParser, type WsuiteGatewayOptions } from '@wsuite/nestjs-adapter';
import { PLATFORMS, startApp, type RunningApp } from './helpers/app';
import { Peer } from './helpers/peer';

@WebSocketGateway({ path: '/events' })
class EventsGateway {
  @WebSocketServer() server!: CoreServer;

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): WsResponse<unknown> {
    return { event: 'echo', data };
  }

  @SubscribeMessage('plain')
  plain(@MessageBody() data: string): string {
    return `pong:${data}`;
  }

  @SubscribeMessage('later')
  async later(@MessageBody() data: number): Promise<WsResponse<number>> {
    await new Promise((resolve) => setImmediate(resolve));
    return { event: 'later', data: data * 2 };
  }

  @SubscribeMessage('count')
  count(@MessageBody() upTo: number): Observable<WsResponse<number>> {
    return interval(1).pipe(take(upTo), map((i) => ({ event: 'tick', data: i + 1 })));
  }

  @SubscribeMessage('manual')
  manual(@ConnectedSocket() client: WebSocketConnection): void {
    client.sendUTF(JSON.stringify({ event: 'manual', data: client instanceof WebSocketConnection }));
  }

  @SubscribeMessage('silent')
  silent(): undefined {
    return undefined;
  }

  @SubscribeMessage(BINARY_EVENT)
  binary(@MessageBody() data: Buffer): Buffer {
    return Buffer.concat([Buffer.from([0xff]), data]);
  }

  @SubscribeMessage('announce')
  announce(@MessageBody() text: string): void {
    broadcastEvent(this.server, 'news', text);
  }

  @SubscribeMessage('announce-raw')
  announceRaw(@MessageBody() text: string): void {
    this.server.broadcast(text);
  }
}

@WebSocketGateway({ path: '/elsewhere' })
class ElsewhereGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): WsResponse<unknown> {
    return { event: 'echo', data };
  }
}

// A line format: "event data", dropped when empty, an error when it has no space.
const lineParser: MessageParser = (data, { isBinary }) => {
  if (isBinary) return { event: 'bytes', data };
  const text = data as string;
  if (text === '') return null;
  const space = text.indexOf(' ');
  if (space === -1) throw new Error('no space');
  return { event: text.slice(0, space), data: text.slice(space + 1) };
};

@WebSocketGateway<WsuiteGatewayOptions>({
  path: '/lines',
  messageParser: lineParser,
  messageSerializer: (reply) => (typeof reply === 'string' ? reply : `json ${JSON.stringify(reply)}`),
})
class LinesGateway {
  @SubscribeMessage('say')
  say(@MessageBody() text: string): string {
    return `said ${text}`;
  }

  @SubscribeMessage('bytes')
  bytes(@MessageBody() data: Buffer): { length: number } {
    return { length: data.length };
  }
}

describe.each(PLATFORMS)('messages on %s', (platform) => {
  let running: RunningApp;
  const peers: Peer[] = [];
  const open = async (path = '/events'): Promise<Peer> => {
    const peer = await Peer.open(running.url(path));
    peers.push(peer);
    return peer;
  };

  beforeAll(async () => {
    running = await startApp(platform, [EventsGateway, ElsewhereGateway, LinesGateway]);
  });
  afterEach(() => peers.splice(0).forEach((peer) => peer.terminate()));
  afterAll(() => running.close());

  it('dispatches JSON {event, data} to @SubscribeMessage handlers and sends WsResponses back', async () => {
    const peer = await open();
    peer.emit('echo', { a: [1, 'two'] });
    expect(await peer.json()).toEqual({ event: 'echo', data: { a: [1, 'two'] } });
  });

  it('sends a bare return value as JSON, and Promise results when they resolve', async () => {
    const peer = await open();
    peer.emit('plain', 'x');
    peer.emit('later', 21);
    expect(await peer.json()).toBe('pong:x');
    expect(await peer.json()).toEqual({ event: 'later', data: 42 });
  });

  it('sends one frame per Observable item', async () => {
    const peer = await open();
    peer.emit('count', 3);
    expect([await peer.json(), await peer.json(), await peer.json()]).toEqual([
      { event: 'tick', data: 1 },
      { event: 'tick', data: 2 },
      { event: 'tick', data: 3 },
    ]);
  });

  it('gives @ConnectedSocket() core\'s WebSocketConnection, and sends nothing for void or undefined', async () => {
    const peer = await open();
    peer.emit('manual');
    peer.emit('silent');
    peer.emit('echo', 'after');
    expect(await peer.json()).toEqual({ event: 'manual', data: true });
    // Replies keep the order of the messages: had `silent` sent anything, it would come here.
    expect(await peer.json()).toEqual({ event: 'echo', data: 'after' });
  });

  it('dispatches binary frames as the "binary" event with a Buffer, and sends Buffers back as binary', async () => {
    const peer = await open();
    peer.ws.send(Buffer.from([1, 2, 3]));
    const reply = await peer.next();
    expect(reply.isBinary).toBe(true);
    expect(reply.data.toString('hex')).toBe('ff010203');
  });

  it('loses no message sent right after the handshake', async () => {
    const peer = await open();
    for (let i = 0; i < 50; i++) peer.emit('echo', i);
    const replies: unknown[] = [];
    for (let i = 0; i < 50; i++) replies.push(await peer.json());
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => ({ event: 'echo', data: i })));
  });

  it('broadcasts through @WebSocketServer() to every client of that gateway only', async () => {
    const a = await open();
    const b = await open();
    const other = await open('/elsewhere');
    a.emit('announce', 'hello all');
    expect(await a.json()).toEqual({ event: 'news', data: 'hello all' });
    expect(await b.json()).toEqual({ event: 'news', data: 'hello all' });
    b.emit('announce-raw', 'raw text');
    expect((await a.next()).data.toString()).toBe('raw text');
    expect((await b.next()).data.toString()).toBe('raw text');
    other.emit('echo', 'first');
    expect(await other.json()).toEqual({ event: 'echo', data: 'first' });
  });

  it('answers malformed JSON with an exception frame and keeps the connection open', async () => {
    const peer = await open();
    peer.ws.send('{not json');
    expect(await peer.json()).toEqual({
      event: 'exception',
      data: { status: 'error', message: 'Invalid message: expected JSON {"event": string, "data": any}' },
    });
    peer.ws.send('[1,2]');
    peer.ws.send('{"data":1}');
    expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error' } });
    expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error' } });
    peer.emit('echo', 'still open');
    expect(await peer.json()).toEqual({ event: 'echo', data: 'still open' });
  });

  it('answers an unknown event with an exception frame naming it', async () => {
    const peer = await open();
    peer.emit('nope', 1);
    expect(await peer.json()).toEqual({ event: 'exception', data: { status: 'error', message: 'No handler for event "nope"' } });
    peer.emit('echo', 'still open');
    expect(await peer.json()).toEqual({ event: 'echo', data: 'still open' });
  });

  it('logs bad messages at most once per connection', async () => {
    const before = running.logger.from('WsuiteAdapter').length;
    const first = await open();
    for (let i = 0; i < 20; i++) first.ws.send(i % 2 ? '{bad' : '{"event":"unknown"}');
    for (let i = 0; i < 20; i++) await first.json();
    const second = await open();
    second.ws.send('{bad');
    await second.json();
    const logged = running.logger.from('WsuiteAdapter').slice(before);
    expect(logged).toHaveLength(2);
    expect(logged.every((entry) => entry.level === 'warn')).toBe(true);
  });

  it('uses a gateway\'s own messageParser and messageSerializer', async () => {
    const peer = await open('/lines');
    peer.ws.send('say hello world');
    peer.ws.send('');
    peer.ws.send(Buffer.from([1, 2]));
    expect((await peer.next()).data.toString()).toBe('said hello world');
    // The empty line was dropped by the parser (null): the next reply is the binary one.
    expect((await peer.next()).data.toString()).toBe('json {"length":2}');
    peer.ws.send('nospace');
    expect((await peer.next()).data.toString()).toMatch(/^json \{"event":"exception","data":\{"status":"error"/);
  });
});

describe('adapter-wide messageParser', () => {
  it('applies to every gateway that does not set its own', async () => {
    const running = await startApp('express', [ElsewhereGateway], {
      adapter: { messageParser: (data) => ({ event: 'echo', data: `parsed:${String(data)}` }) },
    });
    try {
      const peer = await Peer.open(running.url('/elsewhere'));
      peer.ws.send('anything');
      expect(await peer.json()).toEqual({ event: 'echo', data: 'parsed:anything' });
      peer.terminate();
    } finally {
      await running.close();
    }
  });

  it('stops an Observable reply when the client goes away', async () => {
    let emitted = 0;
    let disconnected!: () => void;
    const gone = new Promise<void>((resolve) => (disconnected = resolve));
    @WebSocketGateway({ path: '/stream' })
    class StreamGateway implements OnGatewayDisconnect {
      @SubscribeMessage('stream')
      stream(): Observable<number> {
        return interval(1).pipe(map((i) => (emitted = i)));
      }
      handleDisconnect(): void {
        disconnected();
      }
    }
    const running = await startApp('express', [StreamGateway]);
    try {
      const peer = await Peer.open(running.url('/stream'));
      peer.emit('stream');
      await peer.next();
      peer.ws.close();
      await gone;
      const atDisconnect = emitted;
      // Let the interval fire a few more times: a leaked subscription would keep counting.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(emitted).toBe(atDisconnect);
    } finally {
      await running.close();
    }
  });
});
