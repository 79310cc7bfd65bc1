/**
 * The pieces core gives framework adapters: extra 101 headers, the handler runner, and the
 * socket-error guard of createUpgradeResponse.
 */
import { connect } from 'node:net';
import WebSocket from 'ws';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, createUpgradeResponse, runConnectionHandler, SERVER_OPTION_KEYS, type WebSocketConnection } from '@wsuite/core';

describe('adapter seam', () => {
  let http: Server;
  let wss: WebSocketServer;
  let port: number;
  let onUpgrade: (req: Parameters<Parameters<Server['on']>[1]>[0], socket: import('node:stream').Duplex, head: Buffer) => void;

  beforeAll(async () => {
    http = createServer();
    wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => onUpgrade(req, socket, head));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await wss.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('lists every server option key', () => {
    expect(SERVER_OPTION_KEYS).toEqual(expect.arrayContaining(['httpServer', 'noServer', 'maxReceivedFrameSize', 'keepalive', 'closeTimeout']));
  });

  it('adds extra headers to the 101 but never lets them replace the handshake headers', async () => {
    onUpgrade = (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (request) => {
        request.accept(null, null, undefined, {
          'Set-Cookie': ['a=1', 'b=2'],
          'X-Trace': 7,
          Upgrade: 'h2c',
          'Sec-WebSocket-Accept': 'forged',
          'X-Evil': 'x\r\nInjected: yes',
        });
      });
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      ws.on('upgrade', (res) => resolve(res.headers));
      ws.on('open', () => ws.close());
      ws.on('error', reject);
    });
    expect(headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(headers['x-trace']).toBe('7');
    expect(headers.upgrade).toBe('websocket');
    expect(headers['x-evil']).toBe('xInjected: yes');
    expect(headers.injected).toBeUndefined();
  });

  it('guards the socket against resets while the framework routes, until release()', async () => {
    const released = new Promise<void>((resolve) => {
      onUpgrade = (req, socket) => {
        const upgrade = createUpgradeResponse(req, socket);
        // The framework is "still routing" when the client resets.
        socket.once('close', () => {
          expect(socket.destroyed).toBe(true);
          resolve();
        });
        void upgrade;
      };
    });
    const client = connect(port, '127.0.0.1', () => {
      client.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      setTimeout(() => client.resetAndDestroy(), 50);
    });
    client.on('error', () => undefined);
    await released;
  });

  describe('runConnectionHandler', () => {
    const open = (handler: (c: WebSocketConnection) => unknown, onError: (e: Error, c: WebSocketConnection) => void): Promise<{ code: number }> => {
      onUpgrade = (req, socket, head) =>
        wss.handleUpgrade(req, socket, head, (request) => {
          const connection = request.accept();
          runConnectionHandler(connection, () => handler(connection), (error) => onError(error, connection));
        });
      return new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        ws.on('close', (code) => resolve({ code }));
        ws.on('error', () => undefined);
      });
    };

    it.each([
      ['a sync throw', () => {
        throw new Error('sync');
      }, 'sync'],
      ['an async rejection', async () => {
        throw new Error('async');
      }, 'async'],
      ['a non-Error throw', () => {
        throw 'just a string';
      }, 'Non-error thrown: just a string'],
    ])('routes %s to the error handler', async (_what, handler, message) => {
      const seen: string[] = [];
      const closed = await open(handler, (error, connection) => {
        seen.push(error.message);
        connection.close(1011, 'handled');
      });
      expect(seen).toEqual([message]);
      expect(closed.code).toBe(1011);
    });

    it('routes a throw from a listener on the connection to the error handler; the next frames are still read', async () => {
      const seen: string[] = [];
      onUpgrade = (req, socket, head) =>
        wss.handleUpgrade(req, socket, head, (request) => {
          const connection = request.accept();
          runConnectionHandler(
            connection,
            () =>
              connection.on('message', (message) => {
                if (message.type === 'utf8' && message.utf8Data === 'boom') throw new Error('listener failed');
                connection.sendUTF(message.type === 'utf8' ? `echo ${message.utf8Data}` : 'binary');
              }),
            (error) => seen.push(error.message),
          );
        });
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((resolve) => ws.on('open', resolve));
      const replies: string[] = [];
      ws.on('message', (data) => replies.push(String(data)));
      // The frame after the throwing one is still parsed and delivered.
      ws.send('boom');
      ws.send('after');
      await new Promise<void>((resolve) => {
        const check = (): void => (replies.length > 0 ? resolve() : void setTimeout(check, 5));
        check();
      });
      expect(seen).toEqual(['listener failed']);
      expect(replies).toEqual(['echo after']);
      ws.close();
    });

    it('tells onErrorHandlerFailure when the error handler throws, then closes with 1011', async () => {
      const failures: Array<[string, string]> = [];
      onUpgrade = (req, socket, head) =>
        wss.handleUpgrade(req, socket, head, (request) => {
          const connection = request.accept();
          runConnectionHandler(
            connection,
            () => {
              throw new Error('first');
            },
            () => {
              throw new Error('second');
            },
            { onErrorHandlerFailure: (failure, error) => failures.push([(failure as Error).message, error.message]) },
          );
        });
      const code = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        ws.on('close', (c) => resolve(c));
        ws.on('error', () => undefined);
      });
      expect(code).toBe(1011);
      expect(failures).toEqual([['second', 'first']]);
    });

    it('refuses arguments that are not functions with a TypeError', () => {
      const connection = {} as WebSocketConnection;
      expect(() => runConnectionHandler(connection, 'handler' as never, () => undefined)).toThrow(new TypeError('runConnectionHandler() needs the function that runs the handler as its second argument.'));
      expect(() => runConnectionHandler(connection, () => undefined, null as never)).toThrow(new TypeError('runConnectionHandler() needs an error handler function as its third argument.'));
      expect(() => runConnectionHandler(connection, () => undefined, () => undefined, { onErrorHandlerFailure: 1 as never })).toThrow(
        new TypeError('runConnectionHandler(): onErrorHandlerFailure must be a function.'),
      );
    });

    it('closes with 1011 when the error handler itself throws', async () => {
      const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const closed = await open(() => {
        throw new Error('first');
      }, () => {
        throw new Error('second');
      });
      expect(closed.code).toBe(1011);
      expect(spy).toHaveBeenCalled();
      spy.mockRestore();
    });
  });
});
