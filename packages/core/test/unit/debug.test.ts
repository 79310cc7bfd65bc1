/**
 * The `DEBUG`-driven buffering logger: namespace patterns, a changed `DEBUG` taking effect, and
 * a connection carrying its own logger only when its namespace is enabled.
 */
import { PassThrough } from 'node:stream';
import { createBufferingLogger, SILENT_LOGGER } from '../../src/debug';
import { WebSocketConnection } from '../../src/connection';
import { SERVER_DEFAULTS, type ConnectionConfig } from '../../src/config';

const original = process.env.DEBUG;
afterEach(() => {
  if (original === undefined) delete process.env.DEBUG;
  else process.env.DEBUG = original;
});

describe('createBufferingLogger', () => {
  it('returns the shared silent logger when DEBUG does not name the namespace', () => {
    delete process.env.DEBUG;
    expect(createBufferingLogger('websocket:connection', 1)).toBe(SILENT_LOGGER);
    process.env.DEBUG = 'other:*';
    expect(createBufferingLogger('websocket:connection', 2)).toBe(SILENT_LOGGER);
  });

  it.each([
    ['websocket:connection', true],
    ['websocket:*', true],
    ['*', true],
    ['foo, websocket:*', true],
    ['websocket:*,-websocket:connection', false],
    ['websocket:server', false],
    ['websocket:conn', false],
  ])('DEBUG=%j enables websocket:connection: %s', (setting, enabled) => {
    process.env.DEBUG = setting;
    expect(createBufferingLogger('websocket:connection', 1).enabled).toBe(enabled);
  });

  it('follows DEBUG when it changes while the process runs', () => {
    process.env.DEBUG = 'websocket:*';
    expect(createBufferingLogger('websocket:server', 1).enabled).toBe(true);
    process.env.DEBUG = '-websocket:server';
    expect(createBufferingLogger('websocket:server', 1).enabled).toBe(false);
    process.env.DEBUG = 'websocket:*';
    expect(createBufferingLogger('websocket:server', 1).enabled).toBe(true);
  });

  it('buffers formatted lines until printOutput, then forgets them', () => {
    process.env.DEBUG = 'websocket:connection';
    const logger = createBufferingLogger('websocket:connection', 7);
    logger('a %s and %d', 'string', 42);
    logger('with %j', { x: 1 }, 'extra');
    const lines: string[] = [];
    logger.printOutput((line) => lines.push(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ - 7 - websocket:connection a string and 42$/);
    expect(lines[1]).toMatch(/with \{"x":1\} extra$/);
    logger.printOutput((line) => lines.push(line));
    expect(lines).toHaveLength(2);
  });
});

describe('connection._debug', () => {
  const config: ConnectionConfig = { ...SERVER_DEFAULTS, keepalive: false };
  const socket = (): PassThrough => new PassThrough();

  it('is the shared silent logger on every connection when debugging is off', () => {
    delete process.env.DEBUG;
    const a = new WebSocketConnection(socket() as never, [], undefined, false, config);
    const b = new WebSocketConnection(socket() as never, [], undefined, false, config);
    expect(a._debug).toBe(SILENT_LOGGER);
    expect(b._debug).toBe(SILENT_LOGGER);
    expect(Object.prototype.hasOwnProperty.call(a, '_debug')).toBe(false);
  });

  it('is a logger of the connection\'s own when websocket:connection is enabled', () => {
    process.env.DEBUG = 'websocket:connection';
    const a = new WebSocketConnection(socket() as never, [], undefined, false, config);
    const b = new WebSocketConnection(socket() as never, [], undefined, false, config);
    expect(a._debug.enabled).toBe(true);
    expect(a._debug).not.toBe(b._debug);
    a._debug('hello %s', 'there');
    const lines: string[] = [];
    a._debug.printOutput((line) => lines.push(line));
    expect(lines).toEqual([expect.stringMatching(/websocket:connection hello there$/)]);
  });
});
