/**
 * What an open connection keeps of its upgrade request: the handler and error handler get `req`
 * for the connection's life, but the routing state (the stand-in response, the router's `next`
 * and the upgrade context) is let go once the handshake is done.
 */
import express from 'express';
import { createExpressWebSocket } from '@wsuite/express-middleware';
import { collectGarbage } from '../../core/test/helpers/collect-garbage';
import { open, start, type Client, type Running } from './helpers';

describe('an accepted connection', () => {
  let r: Running;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await r.stop();
  });

  it('does not hold the upgrade response or the router chain, only req', async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    let response: WeakRef<object> | undefined;
    const seen: Array<{ res: unknown; next: unknown; url: string }> = [];
    app.use((_req, res, next) => {
      response = new WeakRef(res);
      next();
    });
    wsx.ws(app, '/room/:id', (connection, req) => {
      seen.push({ res: req.res, next: req.next, url: req.originalUrl });
      connection.on('message', () => connection.sendUTF(`${req.params.id} still here`));
    });
    r = await start(wsx, app);
    const client = await open(r.url('/room/7'));
    clients.push(client);
    expect(seen).toEqual([{ res: undefined, next: undefined, url: '/room/7' }]);
    // Let the routing's own timers and ticks finish before the collection.
    await new Promise((resolve) => setTimeout(resolve, 50));
    collectGarbage();
    expect(response?.deref()).toBeUndefined();

    client.ws.send('ping');
    await new Promise<void>((resolve) => client.ws.once('message', () => resolve()));
    expect(client.messages).toEqual(['7 still here']);
  });
});
