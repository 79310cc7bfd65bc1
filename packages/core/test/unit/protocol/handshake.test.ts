/**
 * Opening handshake: validateUpgradeRequest (every failure with its status and exact message,
 * the order of checks, what a valid request yields), isValidKey and computeAcceptKey.
 */
import { computeAcceptKey, isValidKey, validateUpgradeRequest, type UpgradeRequestLike } from '../../../src/protocol/handshake';
import { HandshakeError } from '../../../src/protocol/errors';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(headers: Record<string, string | string[] | undefined> = {}, extra: Partial<UpgradeRequestLike> = {}): UpgradeRequestLike {
  return {
    method: 'GET',
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    ...extra,
    headers: {
      host: 'example.com:8080',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': KEY,
      'sec-websocket-version': '13',
      ...headers,
    },
  };
}

/** The HandshakeError thrown by validating `req` (fails the test if nothing is thrown). */
function failure(req: UpgradeRequestLike): HandshakeError {
  let caught: unknown;
  try {
    validateUpgradeRequest(req);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(HandshakeError);
  return caught as HandshakeError;
}

describe('validateUpgradeRequest: failures', () => {
  it.each([
    ['no Host header', request({ host: undefined }), 400, 'WS_ERR_HANDSHAKE_NO_HOST', 'Client must provide a Host header.'],
    ['empty Host header', request({ host: '' }), 400, 'WS_ERR_HANDSHAKE_NO_HOST', 'Client must provide a Host header.'],
    ['POST', request({}, { method: 'POST' }), 405, 'WS_ERR_HANDSHAKE_METHOD', 'Invalid HTTP method POST: a WebSocket upgrade must use GET.'],
    ['lower-case get', request({}, { method: 'get' }), 405, 'WS_ERR_HANDSHAKE_METHOD', 'Invalid HTTP method get: a WebSocket upgrade must use GET.'],
    ['HTTP/1.0', request({}, { httpVersionMajor: 1, httpVersionMinor: 0 }), 400, 'WS_ERR_HANDSHAKE_HTTP_VERSION', 'Client must use HTTP/1.1 or later.'],
    ['HTTP/0.9', request({}, { httpVersionMajor: 0, httpVersionMinor: 9 }), 400, 'WS_ERR_HANDSHAKE_HTTP_VERSION', 'Client must use HTTP/1.1 or later.'],
    ['HTTP/1 with no minor version', request({}, { httpVersionMajor: 1, httpVersionMinor: undefined }), 400, 'WS_ERR_HANDSHAKE_HTTP_VERSION', 'Client must use HTTP/1.1 or later.'],
    ['missing Upgrade', request({ upgrade: undefined }), 400, 'WS_ERR_HANDSHAKE_UPGRADE', 'Client must send an Upgrade: websocket header.'],
    ['Upgrade: foo', request({ upgrade: 'foo' }), 400, 'WS_ERR_HANDSHAKE_UPGRADE', 'Client must send an Upgrade: websocket header.'],
    ['Upgrade: websockets', request({ upgrade: 'websockets' }), 400, 'WS_ERR_HANDSHAKE_UPGRADE', 'Client must send an Upgrade: websocket header.'],
    ['no Sec-WebSocket-Key', request({ 'sec-websocket-key': undefined }), 400, 'WS_ERR_HANDSHAKE_NO_KEY', 'Client must provide a value for Sec-WebSocket-Key.'],
    ['empty Sec-WebSocket-Key', request({ 'sec-websocket-key': '' }), 400, 'WS_ERR_HANDSHAKE_NO_KEY', 'Client must provide a value for Sec-WebSocket-Key.'],
    ['key "x"', request({ 'sec-websocket-key': 'x' }), 400, 'WS_ERR_HANDSHAKE_INVALID_KEY', 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.'],
    ['key of 15 bytes', request({ 'sec-websocket-key': Buffer.alloc(15).toString('base64') }), 400, 'WS_ERR_HANDSHAKE_INVALID_KEY', 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.'],
    ['key of 17 bytes', request({ 'sec-websocket-key': Buffer.alloc(17).toString('base64') }), 400, 'WS_ERR_HANDSHAKE_INVALID_KEY', 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.'],
    ['no Sec-WebSocket-Version', request({ 'sec-websocket-version': undefined }), 400, 'WS_ERR_HANDSHAKE_NO_VERSION', 'Client must provide a value for Sec-WebSocket-Version.'],
    ['empty version', request({ 'sec-websocket-version': '' }), 400, 'WS_ERR_HANDSHAKE_NO_VERSION', 'Client must provide a value for Sec-WebSocket-Version.'],
    ['version 0', request({ 'sec-websocket-version': '0' }), 400, 'WS_ERR_HANDSHAKE_NO_VERSION', 'Client must provide a value for Sec-WebSocket-Version.'],
    ['version "abc"', request({ 'sec-websocket-version': 'abc' }), 400, 'WS_ERR_HANDSHAKE_NO_VERSION', 'Client must provide a value for Sec-WebSocket-Version.'],
    ['bad protocol token (space)', request({ 'sec-websocket-protocol': 'chat, a b' }), 400, 'WS_ERR_HANDSHAKE_INVALID_PROTOCOL', 'Invalid Sec-WebSocket-Protocol header: "a b" is not a valid token.'],
    ['bad protocol token (quote)', request({ 'sec-websocket-protocol': '"chat"' }), 400, 'WS_ERR_HANDSHAKE_INVALID_PROTOCOL', 'Invalid Sec-WebSocket-Protocol header: "\\"chat\\"" is not a valid token.'],
    ['empty protocol in the list', request({ 'sec-websocket-protocol': 'chat,,x' }), 400, 'WS_ERR_HANDSHAKE_INVALID_PROTOCOL', 'Invalid Sec-WebSocket-Protocol header: "" is not a valid token.'],
    ['duplicate protocol', request({ 'sec-websocket-protocol': 'chat, chat' }), 400, 'WS_ERR_HANDSHAKE_INVALID_PROTOCOL', 'Invalid Sec-WebSocket-Protocol header: "chat" is listed twice.'],
    ['duplicate protocol differing in case', request({ 'sec-websocket-protocol': 'Chat, x, CHAT' }), 400, 'WS_ERR_HANDSHAKE_INVALID_PROTOCOL', 'Invalid Sec-WebSocket-Protocol header: "CHAT" is listed twice.'],
  ])('%s → %d', (_name, req, status, code, message) => {
    const error = failure(req);
    expect(error.httpCode).toBe(status);
    expect(error.statusCode).toBe(status);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error.name).toBe('HandshakeError');
    expect(error).toBeInstanceOf(Error);
  });

  it('POST answers 405 with Allow: GET', () => {
    expect(failure(request({}, { method: 'POST' })).headers).toEqual({ Allow: 'GET' });
  });

  it.each([
    ['7', 'Unsupported websocket client version: 7Only versions 8 and 13 are supported.'],
    ['13abc', 'Unsupported websocket client version: 13abcOnly versions 8 and 13 are supported.'],
    ['14', 'Unsupported websocket client version: 14Only versions 8 and 13 are supported.'],
    ['12', 'Unsupported websocket client version: 12Only versions 8 and 13 are supported.'],
    ['-1', 'Unsupported websocket client version: -1Only versions 8 and 13 are supported.'],
    ['13.0', 'Unsupported websocket client version: 13.0Only versions 8 and 13 are supported.'],
  ])('version %p → 426 with Sec-WebSocket-Version: 13', (version, message) => {
    const error = failure(request({ 'sec-websocket-version': version }));
    expect(error.httpCode).toBe(426);
    expect(error.code).toBe('WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION');
    expect(error.message).toBe(message);
    expect(error.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
  });

  it('has no extra headers on a plain 400', () => {
    expect(failure(request({ host: undefined })).headers).toBeUndefined();
  });

  it('checks in order: Host, method, HTTP version, Upgrade, key, version, protocols', () => {
    const broken = { host: undefined, upgrade: 'foo', 'sec-websocket-key': undefined, 'sec-websocket-version': '7', 'sec-websocket-protocol': 'a b' };
    const steps: [Record<string, string | undefined>, Partial<UpgradeRequestLike>, string][] = [
      [broken, { method: 'POST', httpVersionMinor: 0 }, 'WS_ERR_HANDSHAKE_NO_HOST'],
      [{ ...broken, host: 'h' }, { method: 'POST', httpVersionMinor: 0 }, 'WS_ERR_HANDSHAKE_METHOD'],
      [{ ...broken, host: 'h' }, { httpVersionMinor: 0 }, 'WS_ERR_HANDSHAKE_HTTP_VERSION'],
      [{ ...broken, host: 'h' }, {}, 'WS_ERR_HANDSHAKE_UPGRADE'],
      [{ ...broken, host: 'h', upgrade: 'websocket' }, {}, 'WS_ERR_HANDSHAKE_NO_KEY'],
      [{ ...broken, host: 'h', upgrade: 'websocket', 'sec-websocket-key': 'bad' }, {}, 'WS_ERR_HANDSHAKE_INVALID_KEY'],
      [{ ...broken, host: 'h', upgrade: 'websocket', 'sec-websocket-key': KEY }, {}, 'WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION'],
      [{ ...broken, host: 'h', upgrade: 'websocket', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' }, {}, 'WS_ERR_HANDSHAKE_INVALID_PROTOCOL'],
    ];
    for (const [headers, extra, code] of steps) expect(failure(request(headers, extra)).code).toBe(code);
  });
});

describe('validateUpgradeRequest: accepted requests', () => {
  it('returns what the request asked for', () => {
    expect(validateUpgradeRequest(request({ origin: 'http://example.com' }))).toEqual({
      host: 'example.com:8080',
      key: KEY,
      webSocketVersion: 13,
      origin: 'http://example.com',
      requestedProtocols: [],
      protocolFullCaseMap: {},
    });
  });

  it('skips the method and HTTP version checks when they are not given', () => {
    const req: UpgradeRequestLike = { headers: { host: 'h', upgrade: 'websocket', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' } };
    expect(validateUpgradeRequest(req).webSocketVersion).toBe(13);
  });

  it('accepts HTTP/2 and later, case-insensitive Upgrade values and Upgrade lists', () => {
    expect(() => validateUpgradeRequest(request({}, { httpVersionMajor: 2, httpVersionMinor: 0 }))).not.toThrow();
    expect(() => validateUpgradeRequest(request({}, { httpVersionMajor: 1, httpVersionMinor: 2 }))).not.toThrow();
    expect(() => validateUpgradeRequest(request({ upgrade: 'WebSocket' }))).not.toThrow();
    expect(() => validateUpgradeRequest(request({ upgrade: 'h2c, websocket' }))).not.toThrow();
    expect(() => validateUpgradeRequest(request({ upgrade: ['h2c', ' WEBSOCKET '] }))).not.toThrow();
  });

  it('trims the key and the version', () => {
    const result = validateUpgradeRequest(request({ 'sec-websocket-key': `  ${KEY} `, 'sec-websocket-version': ' 13 ' }));
    expect(result.key).toBe(KEY);
    expect(result.webSocketVersion).toBe(13);
  });

  it('version 13 reads Origin and ignores Sec-WebSocket-Origin', () => {
    const result = validateUpgradeRequest(request({ origin: 'http://a', 'sec-websocket-origin': 'http://b' }));
    expect(result.origin).toBe('http://a');
    expect(validateUpgradeRequest(request({ 'sec-websocket-origin': 'http://b' })).origin).toBeUndefined();
  });

  it('version 8 reads Sec-WebSocket-Origin and ignores Origin', () => {
    const result = validateUpgradeRequest(request({ 'sec-websocket-version': '8', origin: 'http://a', 'sec-websocket-origin': 'http://b' }));
    expect(result.webSocketVersion).toBe(8);
    expect(result.origin).toBe('http://b');
    expect(validateUpgradeRequest(request({ 'sec-websocket-version': '8', origin: 'http://a' })).origin).toBeUndefined();
  });

  it('lower-cases requested protocols in order and maps them to the spelling sent', () => {
    const result = validateUpgradeRequest(request({ 'sec-websocket-protocol': 'Chat, superCHAT,v2.json ,  x-Y' }));
    expect(result.requestedProtocols).toEqual(['chat', 'superchat', 'v2.json', 'x-y']);
    expect({ ...result.protocolFullCaseMap }).toEqual({ chat: 'Chat', superchat: 'superCHAT', 'v2.json': 'v2.json', 'x-y': 'x-Y' });
  });

  it('joins a protocol header given as an array (repeated header lines)', () => {
    const result = validateUpgradeRequest(request({ 'sec-websocket-protocol': ['a', 'B'] }));
    expect(result.requestedProtocols).toEqual(['a', 'b']);
  });

  it('is not fooled by protocol names that are Object.prototype keys', () => {
    const result = validateUpgradeRequest(request({ 'sec-websocket-protocol': 'constructor, __proto__, toString' }));
    expect(result.requestedProtocols).toEqual(['constructor', '__proto__', 'tostring']);
    expect(result.protocolFullCaseMap['tostring']).toBe('toString');
    expect(result.protocolFullCaseMap['constructor']).toBe('constructor');
  });
});

describe('isValidKey', () => {
  it('accepts base64 encodings of 16 bytes', () => {
    expect(isValidKey(KEY)).toBe(true);
    for (let i = 0; i < 50; i++) expect(isValidKey(Buffer.alloc(16, i * 5).toString('base64'))).toBe(true);
    expect(isValidKey('AAAAAAAAAAAAAAAAAAAAAA==')).toBe(true);
    expect(isValidKey('/////////////////////w==')).toBe(true);
  });

  it.each(['', 'x', 'AAAAAAAAAAAAAAAAAAAAAB==', 'AAAAAAAAAAAAAAAAAAAAAA=', 'AAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAA-A==', `${KEY} `, `${KEY}\n`, 'AAAAAAAAAAAAAAAAAAAAAAA='])(
    'refuses %p',
    (key) => {
      expect(isValidKey(key)).toBe(false);
    },
  );
});

describe('computeAcceptKey', () => {
  it('gives the RFC 6455 sample answer', () => {
    expect(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('differs for different keys', () => {
    expect(computeAcceptKey('AAAAAAAAAAAAAAAAAAAAAA==')).not.toBe(computeAcceptKey(KEY));
    expect(computeAcceptKey('AAAAAAAAAAAAAAAAAAAAAA==')).toHaveLength(28);
  });
});
