/**
 * Topics in a gateway: `@WebSocketServer()` is core's server, so a handler subscribes the
 * `@ConnectedSocket()` to a room and `this.server.publish(room, ...)` reaches the room's
 * clients (except the sender), on both HTTP platforms.
 */
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { WebSocketConnection, WebSocketServer as CoreServer } from '@wsuite/core';
import { PLATFORMS, startApp, type RunningApp } from './helpers/app';
import { Peer } from './helpers/peer';

@WebSocketGateway({ path: '/rooms' })
class RoomsGateway {
  @WebSocketServer() server!: CoreServer;

  @SubscribeMessage('join')
  join(@MessageBody() room: string, @ConnectedSocket() client: WebSocketConnection): { event: string; data: number } {
    client.subscribe(room);
    return { event: 'joined', data: this.server.subscriberCount(room) };
  }

  @SubscribeMessage('say')
  say(@MessageBody() body: { room: string; text: string }, @ConnectedSocket() client: WebSocketConnection): void {
    this.server.publish(body.room, JSON.stringify({ event: 'said', data: body.text }), { except: client });
  }

  @SubscribeMessage('leave')
  leave(@MessageBody() room: string, @ConnectedSocket() client: WebSocketConnection): { event: string; data: boolean } {
    return { event: 'left', data: client.unsubscribe(room) };
  }
}

describe.each(PLATFORMS)('topics in a gateway (%s)', (platform) => {
  let running: RunningApp;
  const peers: Peer[] = [];

  beforeEach(async () => {
    running = await startApp(platform, [RoomsGateway]);
  });
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.terminate();
    await running.close();
  });

  async function member(room: string): Promise<Peer> {
    const peer = await Peer.open(running.url('/rooms'));
    peers.push(peer);
    peer.emit('join', room);
    expect(await peer.json()).toMatchObject({ event: 'joined' });
    return peer;
  }

  it('this.server.publish reaches the room’s subscribers, except the sender; leave stops delivery', async () => {
    const gateway = running.app.get(RoomsGateway);
    const [ada, bob] = [await member('tea'), await member('tea')];
    await member('coffee');
    expect(gateway.server.subscriberCount('tea')).toBe(2);

    ada.emit('say', { room: 'tea', text: 'kettle on' });
    expect(await bob.json()).toEqual({ event: 'said', data: 'kettle on' });
    expect(gateway.server.publish('tea', JSON.stringify({ event: 'said', data: 'from the server' }))).toBe(2);
    expect(await ada.json()).toEqual({ event: 'said', data: 'from the server' });
    expect(await bob.json()).toEqual({ event: 'said', data: 'from the server' });

    bob.emit('leave', 'tea');
    expect(await bob.json()).toEqual({ event: 'left', data: true });
    gateway.server.publish('tea', JSON.stringify({ event: 'said', data: 'after bob left' }));
    expect(await ada.json()).toEqual({ event: 'said', data: 'after bob left' });
    // Bob's next message is the answer to a new request: nothing from "tea" was queued before it.
    bob.emit('join', 'coffee');
    expect(await bob.json()).toEqual({ event: 'joined', data: 2 });
    expect(gateway.server.subscriberCount('tea')).toBe(1);
  });
});
