/**
 * Topics through the plugin: `fastify.websocketServer` is core's server, so handlers subscribe
 * connections and `fastify.websocketServer.publish` reaches them (with `except`, counts, and
 * the pub/sub driver seam @wsuite/redis plugs into).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { PubSubDriver } from '@wsuite/core';
import { fastifyWebSocket } from '@wsuite/fastify-plugin';
import { listen, openClient, type OpenClient } from './helpers';

describe('topics on fastify.websocketServer', () => {
  let app: FastifyInstance;
  const clients: OpenClient[] = [];

  beforeEach(async () => {
    app = Fastify();
    await app.register(fastifyWebSocket);
    // Join the room of the URL; what a client says goes to the others in the room.
    app.get<{ Params: { room: string } }>('/rooms/:room', { websocket: true }, (connection, request) => {
      const { room } = request.params;
      connection.subscribe(room);
      connection.on('message', (message) => {
        if (message.type === 'utf8') app.websocketServer.publish(room, message.utf8Data, { except: connection });
      });
      connection.sendUTF('joined');
    });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await app.close();
  });

  async function join(base: string, room: string): Promise<OpenClient> {
    const client = await openClient(`${base}/rooms/${room}`);
    clients.push(client);
    expect(await client.message(0)).toBe('joined');
    return client;
  }

  it('fastify.websocketServer.publish reaches the room’s subscribers, except the sender', async () => {
    const base = await listen(app);
    const [ada, bob, eve] = [await join(base, 'tea'), await join(base, 'tea'), await join(base, 'coffee')];
    expect(app.websocketServer.subscriberCount('tea')).toBe(2);
    expect(app.websocketServer.topics.sort()).toEqual(['coffee', 'tea']);
    expect(app.websocketServer.publish('tea', 'kettle on')).toBe(2);
    expect(await ada.message(1)).toBe('kettle on');
    expect(await bob.message(1)).toBe('kettle on');
    ada.ws.send('milk?');
    expect(await bob.message(2)).toBe('milk?');
    app.websocketServer.publish('tea', 'done');
    expect(await ada.message(2)).toBe('done');
    expect(ada.messages).toEqual(['joined', 'kettle on', 'done']);
    expect(eve.messages).toEqual(['joined']);
  });

  it('closed connections leave their rooms; setPubSub takes a driver', async () => {
    const calls: string[] = [];
    const driver: PubSubDriver = {
      subscribe: (topic) => calls.push(`subscribe ${topic}`),
      unsubscribe: (topic) => calls.push(`unsubscribe ${topic}`),
      publish: (topic, payload) => calls.push(`publish ${topic} ${payload.toString()}`),
    };
    app.websocketServer.setPubSub(driver);
    const base = await listen(app);
    const ada = await join(base, 'tea');
    app.websocketServer.publish('tea', 'hi');
    ada.ws.terminate();
    await ada.closed;
    for (let i = 0; i < 200 && app.websocketServer.subscriberCount('tea') > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(app.websocketServer.subscriberCount('tea')).toBe(0);
    expect(calls).toEqual(['subscribe tea', 'publish tea hi', 'unsubscribe tea']);
  });
});
