import WebSocket from 'ws';
import { startServer, RawPeer } from '../helpers/raw-peer';

describe('server smoke', () => {
  it('echoes a text message to a ws client and a raw peer', async () => {
    const server = await startServer();
    server.wss.on('request', (request) => {
      const connection = request.accept();
      connection.on('message', (m) => (m.type === 'utf8' ? connection.sendUTF(m.utf8Data) : connection.sendBytes(m.binaryData)));
    });
    const ws = new WebSocket(server.url);
    const echoed = await new Promise<string>((resolve) => {
      ws.on('open', () => ws.send('hi'));
      ws.on('message', (data) => resolve(data.toString()));
    });
    expect(echoed).toBe('hi');
    ws.close();
    const peer = await RawPeer.connect(server.port);
    expect(peer.status).toBe(101);
    peer.sendFrame(0x1, 'raw');
    const frames = await peer.waitFor((f) => f.length > 0);
    expect(frames[0].payload.toString()).toBe('raw');
    peer.destroy();
    await server.close();
  });
});
