/**
 * The limit, timeout and origin options: their defaults, and bad values failing when the server
 * is built with a TypeError/RangeError naming the option (nothing mounted).
 */
import { createServer } from 'node:http';
import { WebSocketServer } from '../../src/server';
import { WebSocketClient } from '../../src/client';
import { SERVER_DEFAULTS } from '../../src/config';
import { thrownBy } from '../helpers/server-harness';

describe('limit and origin options', () => {
  it.each<[string, Record<string, unknown>, ErrorConstructor, string]>([
    ['handshakeTimeout -1', { handshakeTimeout: -1 }, RangeError, 'Option "handshakeTimeout" must be a finite non-negative number of milliseconds (0 turns it off), got -1.'],
    ['handshakeTimeout Infinity', { handshakeTimeout: Infinity }, RangeError, 'Option "handshakeTimeout" must be a finite non-negative number of milliseconds (0 turns it off), got Infinity.'],
    ['handshakeTimeout "5"', { handshakeTimeout: '5' }, TypeError, 'Option "handshakeTimeout" must be a number of milliseconds, got "5".'],
    ['maxPendingRequests 0', { maxPendingRequests: 0 }, RangeError, 'Option "maxPendingRequests" must be a positive integer (or Infinity for no limit), got 0.'],
    ['maxConnections 2.5', { maxConnections: 2.5 }, RangeError, 'Option "maxConnections" must be a positive integer (or Infinity for no limit), got 2.5.'],
    ['maxConnections null', { maxConnections: null }, TypeError, 'Option "maxConnections" must be a number, got null.'],
    ['maxHandshakeHeaderSize NaN', { maxHandshakeHeaderSize: NaN }, TypeError, 'Option "maxHandshakeHeaderSize" must be a number, got NaN.'],
    ['maxBufferedAmount 0', { maxBufferedAmount: 0 }, RangeError, 'Option "maxBufferedAmount" must be a positive integer (or Infinity for no limit), got 0.'],
    ['bufferOverflowPolicy "ignore"', { bufferOverflowPolicy: 'ignore' }, TypeError, 'Option "bufferOverflowPolicy" must be \'close\' or \'drop\', got "ignore".'],
    ['allowedOrigins "https://a.example"', { allowedOrigins: 'https://a.example' }, TypeError, 'Option "allowedOrigins" must be an array of origins or a function, got "https://a.example".'],
    ['allowedOrigins [1]', { allowedOrigins: [1] }, TypeError, 'Option "allowedOrigins[0]" must be a string, got 1.'],
    [
      'allowedOrigins with a path',
      { allowedOrigins: ['https://a.example', 'https://b.example/'] },
      RangeError,
      'Option "allowedOrigins[1]" must be an origin as browsers send it (scheme://host[:port]), got "https://b.example/"; did you mean "https://b.example"?',
    ],
    [
      'allowedOrigins with a default port',
      { allowedOrigins: ['https://a.example:443'] },
      RangeError,
      'Option "allowedOrigins[0]" must be an origin as browsers send it (scheme://host[:port]), got "https://a.example:443"; did you mean "https://a.example"?',
    ],
    ['allowedOrigins with no URL', { allowedOrigins: ['example.com'] }, RangeError, 'Option "allowedOrigins[0]" must be an origin as browsers send it (scheme://host[:port]), got "example.com".'],
  ])('rejects %s at construction', (_name, options, ErrorType, message) => {
    const http = createServer();
    const error = thrownBy(() => new WebSocketServer({ httpServer: http, ...options }));
    expect(error).toBeInstanceOf(ErrorType);
    expect(error.message).toBe(message);
    expect(http.listenerCount('upgrade')).toBe(0);
  });

  it('accepts Infinity for the caps, 0 for the timeout, "null" and mixed-case origins', () => {
    const wss = new WebSocketServer({
      httpServer: createServer(),
      maxPendingRequests: Infinity,
      maxConnections: Infinity,
      maxHandshakeHeaderSize: Infinity,
      maxBufferedAmount: Infinity,
      handshakeTimeout: 0,
      bufferOverflowPolicy: 'drop',
      allowedOrigins: ['null', 'HTTPS://Example.com'],
    });
    expect(wss.config?.maxConnections).toBe(Infinity);
    wss.unmount();
  });

  it('has the documented defaults: everything on, the buffer limit sized from maxReceivedMessageSize', () => {
    expect(SERVER_DEFAULTS).toMatchObject({ handshakeTimeout: 10000, maxPendingRequests: 1000, maxConnections: 50000, maxHandshakeHeaderSize: 16384, bufferOverflowPolicy: 'close' });
    const small = new WebSocketServer({ httpServer: createServer() });
    expect(small.config?.maxBufferedAmount).toBe(8 * 1024 * 1024);
    const big = new WebSocketServer({ httpServer: createServer(), maxReceivedMessageSize: 32 * 1024 * 1024 });
    expect(big.config?.maxBufferedAmount).toBe(64 * 1024 * 1024);
    const set = new WebSocketServer({ httpServer: createServer(), maxReceivedMessageSize: 32 * 1024 * 1024, maxBufferedAmount: 1024 });
    expect(set.config?.maxBufferedAmount).toBe(1024);
    for (const wss of [small, big, set]) wss.unmount();
  });

  it('checks the buffer options on clients too, where the limit is off by default', () => {
    expect(new WebSocketClient().config.maxBufferedAmount).toBeUndefined();
    expect(() => new WebSocketClient({ maxBufferedAmount: -5 })).toThrow(new RangeError('Option "maxBufferedAmount" must be a positive integer (or Infinity for no limit), got -5.'));
    expect(() => new WebSocketClient({ bufferOverflowPolicy: 'slow' as never })).toThrow(TypeError);
  });
});
