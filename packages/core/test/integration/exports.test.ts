/**
 * The package entry and WebSocket-Node's deep-require paths (src/lib/*, src/vendor/*): every
 * key and shim resolves to the right constructor or object, with WebSocket-Node's constants.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '../../src/index';
import { WebSocketServer } from '../../src/server';
import { WebSocketRequest } from '../../src/request';
import { WebSocketConnection } from '../../src/connection';
import { WebSocketFrame } from '../../src/websocket-frame';
import { WebSocketRouter } from '../../src/router';
import { WebSocketRouterRequest } from '../../src/router-request';
import { BufferList } from '../../src/buffer-list';
import { deprecation } from '../../src/deprecation';
import WebSocketServerShim = require('../../src/lib/WebSocketServer');
import WebSocketRequestShim = require('../../src/lib/WebSocketRequest');
import WebSocketConnectionShim = require('../../src/lib/WebSocketConnection');
import WebSocketFrameShim = require('../../src/lib/WebSocketFrame');
import WebSocketRouterShim = require('../../src/lib/WebSocketRouter');
import WebSocketRouterRequestShim = require('../../src/lib/WebSocketRouterRequest');
import DeprecationShim = require('../../src/lib/Deprecation');
import utils = require('../../src/lib/utils');
import versionShim = require('../../src/lib/version');
import websocketShim = require('../../src/lib/websocket');
import FastBufferList = require('../../src/vendor/FastBufferList');

const packageVersion = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

describe('package entry', () => {
  it('has the WebSocket-Node keys bound to the right values', () => {
    const entry = require('../../src/index') as Record<string, unknown>;
    for (const key of ['server', 'router', 'frame', 'request', 'connection', 'deprecation', 'version']) expect(Object.keys(entry)).toContain(key);
    expect(entry.server).toBe(WebSocketServer);
    expect(entry.router).toBe(WebSocketRouter);
    expect(entry.frame).toBe(WebSocketFrame);
    expect(entry.request).toBe(WebSocketRequest);
    expect(entry.connection).toBe(WebSocketConnection);
    expect(entry.deprecation).toBe(deprecation);
    expect(entry.version).toBe(packageVersion);
    expect(typeof entry.version).toBe('string');
  });

  it('has the modern named exports', () => {
    expect(core.WebSocketServer).toBe(WebSocketServer);
    expect(core.WebSocketRequest).toBe(WebSocketRequest);
    expect(core.WebSocketConnection).toBe(WebSocketConnection);
    expect(core.WebSocketFrame).toBe(WebSocketFrame);
    expect(core.WebSocketRouter).toBe(WebSocketRouter);
    expect(core.WebSocketRouterRequest).toBe(WebSocketRouterRequest);
    expect(core.BufferList).toBe(BufferList);
    expect(core.NO_PROTOCOL).toBe('____no_protocol____');
    expect(core.SERVER_DEFAULTS.maxReceivedFrameSize).toBe(0x10000);
    expect(core.CloseCode.Normal).toBe(1000);
    expect(core.Opcode).toEqual({ Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 });
    expect(core.WEBSOCKET_GUID).toBe('258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
    expect(core.computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(typeof core.HandshakeError).toBe('function');
    expect(typeof core.WebSocketProtocolError).toBe('function');
  });

  it('makes the server, request, connection, router and router request EventEmitters, the frame a plain class', () => {
    for (const ctor of [WebSocketServer, WebSocketRequest, WebSocketConnection, WebSocketRouter, WebSocketRouterRequest]) {
      expect(ctor.prototype).toBeInstanceOf(EventEmitter);
    }
    expect(WebSocketFrame.prototype).not.toBeInstanceOf(EventEmitter);
  });
});

describe('deep-require shims (src/lib, src/vendor)', () => {
  it('export the constructors themselves, with no default wrapper', () => {
    expect(WebSocketServerShim).toBe(WebSocketServer);
    expect(WebSocketRequestShim).toBe(WebSocketRequest);
    expect(WebSocketConnectionShim).toBe(WebSocketConnection);
    expect(WebSocketFrameShim).toBe(WebSocketFrame);
    expect(WebSocketRouterShim).toBe(WebSocketRouter);
    expect(WebSocketRouterRequestShim).toBe(WebSocketRouterRequest);
    expect(FastBufferList).toBe(BufferList);
    expect(require('../../src/lib/WebSocketServer')).toBe(WebSocketServer);
    expect(require('../../src/vendor/FastBufferList')).toBe(BufferList);
  });

  it('lib/Deprecation is the deprecation singleton', () => {
    expect(DeprecationShim).toBe(deprecation);
    expect(DeprecationShim.disableWarnings).toBe(false);
    expect(DeprecationShim.deprecationWarningMap).toEqual({});
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      DeprecationShim.warn('anything');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('lib/version is the package version string', () => {
    expect(versionShim).toBe(packageVersion);
    expect(versionShim).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lib/websocket is the package entry', () => {
    expect(websocketShim.server).toBe(WebSocketServer);
    expect(websocketShim.router).toBe(WebSocketRouter);
    expect(websocketShim.frame).toBe(WebSocketFrame);
    expect(websocketShim.request).toBe(WebSocketRequest);
    expect(websocketShim.connection).toBe(WebSocketConnection);
    expect(websocketShim.deprecation).toBe(deprecation);
    expect(websocketShim.version).toBe(packageVersion);
  });

  it('lib/utils has the WebSocket-Node helpers', () => {
    expect(utils.noop()).toBeUndefined();
    const dest = { a: 1, b: 2 };
    expect(utils.extend(dest, { b: 3, c: 4 })).toBe(dest);
    expect(dest).toEqual({ a: 1, b: 3, c: 4 });
    const emitter = new EventEmitter();
    emitter.on('x', () => undefined);
    emitter.on('x', () => undefined);
    expect(utils.eventEmitterListenerCount(emitter, 'x')).toBe(2);
    expect(utils.eventEmitterListenerCount(emitter, 'y')).toBe(0);
    const raw = utils.bufferAllocUnsafe(7);
    expect(Buffer.isBuffer(raw)).toBe(true);
    expect(raw.length).toBe(7);
    expect(utils.bufferFromString('héllo', 'utf8')).toEqual(Buffer.from([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]));
    const logger = utils.BufferingLogger('wsuite:exports-test', 1);
    expect(typeof logger).toBe('function');
    expect(typeof logger.printOutput).toBe('function');
    expect(logger.enabled).toBe(false);
    expect(() => logger('message %d', 1)).not.toThrow();
  });

  it('vendor/FastBufferList behaves like WebSocket-Node\'s buffer list', () => {
    const list = new FastBufferList();
    const writes: Buffer[] = [];
    const advances: number[] = [];
    list.on('write', (b: Buffer) => writes.push(b));
    list.on('advance', (n: number) => advances.push(n));
    list.write(Buffer.from('abc'));
    list.write(Buffer.from('defg'));
    expect(list.length).toBe(7);
    expect(writes.map((b) => b.toString())).toEqual(['abc', 'defg']);
    expect(list.take(5)).toEqual(Buffer.from('abcde'));
    expect(list.length).toBe(7);
    const target = Buffer.alloc(4, 0x2e);
    list.joinInto(target, 1, 0, 3);
    expect(target.toString()).toBe('.abc');
    expect(() => list.joinInto(Buffer.alloc(2), 0, 0, 3)).toThrow(new Error('Insufficient space available in target Buffer.'));
    list.advance(2);
    expect(advances).toEqual([2]);
    expect(list.length).toBe(5);
    expect(list.take(3)).toEqual(Buffer.from('cde'));
    expect(list.join(1, 4)).toEqual(Buffer.from('def'));
  });
});

describe('close constants', () => {
  it('CLOSE_DESCRIPTIONS maps 1000-1011 and 1015 to WebSocket-Node\'s texts', () => {
    const expected = {
      1000: 'Normal connection closure',
      1001: 'Remote peer is going away',
      1002: 'Protocol error',
      1003: 'Unprocessable input',
      1004: 'Reserved',
      1005: 'Reason not provided',
      1006: 'Abnormal closure, no further detail available',
      1007: 'Invalid data received',
      1008: 'Policy violation',
      1009: 'Message too big',
      1010: 'Extension requested by client is required',
      1011: 'Internal Server Error',
      1015: 'TLS Handshake Failed',
    };
    expect({ ...WebSocketConnection.CLOSE_DESCRIPTIONS }).toEqual(expected);
    expect({ ...core.CLOSE_DESCRIPTIONS }).toEqual(expected);
    expect(WebSocketConnection.CLOSE_DESCRIPTIONS[1012]).toBeUndefined();
    expect(WebSocketConnection.CLOSE_DESCRIPTIONS[4000]).toBeUndefined();
  });

  it('the connection class has the static CLOSE_REASON_* constants', () => {
    const statics = WebSocketConnection as unknown as Record<string, unknown>;
    expect({
      NORMAL: statics.CLOSE_REASON_NORMAL,
      GOING_AWAY: statics.CLOSE_REASON_GOING_AWAY,
      PROTOCOL_ERROR: statics.CLOSE_REASON_PROTOCOL_ERROR,
      UNPROCESSABLE_INPUT: statics.CLOSE_REASON_UNPROCESSABLE_INPUT,
      RESERVED: statics.CLOSE_REASON_RESERVED,
      NOT_PROVIDED: statics.CLOSE_REASON_NOT_PROVIDED,
      ABNORMAL: statics.CLOSE_REASON_ABNORMAL,
      INVALID_DATA: statics.CLOSE_REASON_INVALID_DATA,
      POLICY_VIOLATION: statics.CLOSE_REASON_POLICY_VIOLATION,
      MESSAGE_TOO_BIG: statics.CLOSE_REASON_MESSAGE_TOO_BIG,
      EXTENSION_REQUIRED: statics.CLOSE_REASON_EXTENSION_REQUIRED,
      INTERNAL_SERVER_ERROR: statics.CLOSE_REASON_INTERNAL_SERVER_ERROR,
      TLS_HANDSHAKE_FAILED: statics.CLOSE_REASON_TLS_HANDSHAKE_FAILED,
    }).toEqual({
      NORMAL: 1000,
      GOING_AWAY: 1001,
      PROTOCOL_ERROR: 1002,
      UNPROCESSABLE_INPUT: 1003,
      RESERVED: 1004,
      NOT_PROVIDED: 1005,
      ABNORMAL: 1006,
      INVALID_DATA: 1007,
      POLICY_VIOLATION: 1008,
      MESSAGE_TOO_BIG: 1009,
      EXTENSION_REQUIRED: 1010,
      INTERNAL_SERVER_ERROR: 1011,
      TLS_HANDSHAKE_FAILED: 1015,
    });
    expect(WebSocketConnectionShim.CLOSE_REASON_NORMAL).toBe(1000);
    expect(core.connection.CLOSE_REASON_ABNORMAL).toBe(1006);
  });
});
