/**
 * permessage-deflate through the adapter: the core `perMessageDeflate` option is accepted on the
 * adapter and on a gateway, and a client that offers compression gets it.
 */
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { startApp, type RunningApp } from './helpers/app';
import { Peer } from './helpers/peer';

@WebSocketGateway({ path: '/zipped', perMessageDeflate: { threshold: 0 } })
class ZippedGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() text: string): { event: string; data: string } {
    return { event: 'echo', data: text };
  }
}

@WebSocketGateway({ path: '/plain' })
class PlainGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() text: string): { event: string; data: string } {
    return { event: 'echo', data: text };
  }
}

describe('perMessageDeflate on gateways', () => {
  let running: RunningApp;
  const peers: Peer[] = [];

  beforeAll(async () => {
    running = await startApp('express', [ZippedGateway, PlainGateway]);
  });
  afterAll(async () => {
    for (const peer of peers.splice(0)) peer.terminate();
    await running.close();
  });

  it('negotiates compression on a gateway that enables it, and echoes through it', async () => {
    const peer = await Peer.open(running.url('/zipped'), { perMessageDeflate: true });
    peers.push(peer);
    expect(peer.ws.extensions).toMatch(/^permessage-deflate/);
    const text = 'compress me '.repeat(500);
    peer.emit('echo', text);
    expect(await peer.json()).toEqual({ event: 'echo', data: text });
  });

  it('leaves compression off where the gateway does not enable it', async () => {
    const peer = await Peer.open(running.url('/plain'), { perMessageDeflate: true });
    peers.push(peer);
    expect(peer.ws.extensions).toBe('');
  });

  it('checks the option like core does', async () => {
    await expect(startApp('express', [], { adapter: { perMessageDeflate: { level: 42 } } })).rejects.toThrow(RangeError);
  });
});
