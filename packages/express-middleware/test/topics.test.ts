/**
 * Topics on the attach result: `attached.publish` reaches subscribers on every route (routes
 * with their own core options run on other core servers), `except` skips the sender, counts,
 * and a pub/sub driver (the seam @wsuite/redis plugs into) sees the attachment as one target.
 */
import express from 'express';
import type { PubSubDriver, PubSubTarget, WebSocketConnection } from '@wsuite/core';
import { createExpressWebSocket, type AttachedWebSocket } from '@wsuite/express-middleware';
import { open, start, until, type Client, type Running } from './helpers';

const running: Running[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

/**
 * An app with two routes that subscribe their connections to `?topic=`: `/chat` on the
 * instance's options, `/big` with its own core options (so on a second core server). Text a
 * client sends is published to its topic, except to itself.
 */
async function serveRooms(): Promise<{ r: Running; attached: AttachedWebSocket; accepted: WebSocketConnection[] }> {
  const wsx = createExpressWebSocket();
  const app = express();
  const accepted: WebSocketConnection[] = [];
  // The attachment exists once the app is served; handlers run after that.
  const box: { attached?: AttachedWebSocket } = {};
  const handler = (connection: WebSocketConnection, req: express.Request): void => {
    accepted.push(connection);
    const topic = typeof req.query.topic === 'string' ? req.query.topic : undefined;
    if (topic) connection.subscribe(topic);
    connection.on('message', (message) => {
      if (message.type === 'utf8' && topic) box.attached?.publish(topic, message.utf8Data, { except: connection });
    });
    connection.sendUTF('ready');
  };
  wsx.ws(app, '/chat', handler);
  wsx.ws(app, '/big', { maxReceivedMessageSize: 4 * 1024 * 1024 }, handler);
  const r = await start(wsx, app);
  running.push(r);
  box.attached = r.attached;
  return { r, attached: r.attached, accepted };
}

async function join(r: Running, path: string): Promise<Client> {
  const client = await open(r.url(path));
  clients.push(client);
  await until(() => (client.messages[0] === 'ready' ? true : undefined), 'the handler');
  client.messages.shift();
  return client;
}

describe('attached.publish', () => {
  it('reaches the topic’s subscribers on every route and skips except', async () => {
    const { r, attached, accepted } = await serveRooms();
    const onChat = await join(r, '/chat?topic=room');
    const onBig = await join(r, '/big?topic=room');
    const elsewhere = await join(r, '/chat?topic=lobby');
    // Two routes, two core servers (different core options), one topic space.
    expect(accepted[0].config).not.toBe(accepted[1].config);
    expect(attached.subscriberCount('room')).toBe(2);
    expect([...attached.topics].sort()).toEqual(['lobby', 'room']);

    expect(attached.publish('room', 'hello room')).toBe(2);
    await until(() => (onChat.messages.length === 1 && onBig.messages.length === 1 ? true : undefined), 'both subscribers');
    // A client's message is published to the others (the handler passes except: itself).
    onChat.ws.send('from chat');
    await until(() => (onBig.messages.length === 2 ? true : undefined), 'the message from /chat');
    attached.publish('room', 'end');
    await until(() => (onChat.messages.length === 2 && onBig.messages.length === 3 ? true : undefined), 'end');
    expect(onChat.messages).toEqual(['hello room', 'end']);
    expect(onBig.messages).toEqual(['hello room', 'from chat', 'end']);
    expect(elsewhere.messages).toEqual([]);
  });

  it('counts drop as subscribers leave; bad arguments are TypeErrors', async () => {
    const { r, attached } = await serveRooms();
    const one = await join(r, '/chat?topic=room');
    await join(r, '/big?topic=room');
    one.ws.terminate();
    await until(() => (attached.subscriberCount('room') === 1 ? true : undefined), 'the count to drop');
    expect(() => attached.publish('', 'x')).toThrow(new TypeError('attached.publish() needs a non-empty topic name.'));
    expect(() => attached.publish('room', null as never)).toThrow(TypeError);
    expect(() => attached.publish('room', 'x', { except: 'me' as never })).toThrow(/attached\.publish\(\) option "except"/);
    expect(() => attached.subscriberCount(5 as never)).toThrow(TypeError);
  });
});

describe('attached.setPubSub', () => {
  class RecordingDriver implements PubSubDriver {
    readonly calls: unknown[][] = [];
    target: PubSubTarget | undefined;
    subscribe(topic: string, target: PubSubTarget): void {
      this.target = target;
      this.calls.push(['subscribe', topic]);
    }
    unsubscribe(topic: string): void {
      this.calls.push(['unsubscribe', topic]);
    }
    publish(topic: string, payload: Buffer, isBinary: boolean, origin: PubSubTarget): void {
      this.calls.push(['publish', topic, payload.toString(), isBinary, origin === this.target]);
    }
  }

  it('sees the attachment as one target: one subscription per topic, one publish per message, remote messages reach every route', async () => {
    const { r, attached } = await serveRooms();
    const driver = new RecordingDriver();
    attached.setPubSub(driver);
    // Before any connection (no core server yet), a publish still goes to other processes.
    attached.publish('room', Buffer.from('early'));
    expect(driver.calls).toEqual([['publish', 'room', 'early', true, false]]);
    driver.calls.length = 0;

    const onChat = await join(r, '/chat?topic=room');
    const onBig = await join(r, '/big?topic=room');
    expect(driver.calls).toEqual([['subscribe', 'room']]);
    attached.publish('room', 'local and remote');
    attached.publish('room', 'local only', { local: true });
    expect(driver.calls.slice(1)).toEqual([['publish', 'room', 'local and remote', false, true]]);
    expect((driver.target as PubSubTarget).deliverRemote('room', Buffer.from('from another process'), false)).toBe(2);
    await until(() => (onChat.messages.length === 3 && onBig.messages.length === 3 ? true : undefined), 'three messages each');
    expect(onChat.messages).toEqual(['local and remote', 'local only', 'from another process']);
    expect(onBig.messages).toEqual(onChat.messages);

    onChat.ws.terminate();
    await until(() => (attached.subscriberCount('room') === 1 ? true : undefined), 'one subscriber left');
    expect(driver.calls.filter((call) => call[0] === 'unsubscribe')).toEqual([]);
    onBig.ws.terminate();
    await until(() => (driver.calls.some((call) => call[0] === 'unsubscribe') ? true : undefined), 'the unsubscribe');
    expect(driver.calls.filter((call) => call[0] === 'unsubscribe')).toEqual([['unsubscribe', 'room']]);
  });

  it('moves current topics to a new driver, null removes it, a non-driver is a TypeError', async () => {
    const { r, attached } = await serveRooms();
    await join(r, '/chat?topic=room');
    const first = new RecordingDriver();
    const second = new RecordingDriver();
    attached.setPubSub(first);
    attached.setPubSub(second);
    attached.setPubSub(null);
    expect(first.calls).toEqual([['subscribe', 'room'], ['unsubscribe', 'room']]);
    expect(second.calls).toEqual([['subscribe', 'room'], ['unsubscribe', 'room']]);
    expect(() => attached.setPubSub({} as never)).toThrow(TypeError);
  });
});
