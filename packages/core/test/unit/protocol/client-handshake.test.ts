import { parse as legacyParse } from 'node:url';
import {
  ClientHandshakeError,
  buildHandshakeHeaders,
  generateKey,
  non101ResponseError,
  normalizeProtocols,
  parseWebSocketUrl,
  verifyHandshakeResponse,
  type ClientExtensionNegotiator,
} from '../../../src/protocol/client-handshake';
import { computeAcceptKey, isValidKey } from '../../../src/protocol/handshake';

describe('generateKey', () => {
  it('is a base64 16-byte nonce that the server-side check accepts', () => {
    const key = generateKey();
    expect(Buffer.from(key, 'base64')).toHaveLength(16);
    expect(isValidKey(key)).toBe(true);
  });

  it('comes from crypto, not Math.random, and differs every time', () => {
    const random = jest.spyOn(Math, 'random');
    const keys = new Set(Array.from({ length: 64 }, generateKey));
    expect(random).not.toHaveBeenCalled();
    random.mockRestore();
    expect(keys.size).toBe(64);
  });
});

describe('parseWebSocketUrl', () => {
  it('reads a ws: URL with port, path and query', () => {
    expect(parseWebSocketUrl('ws://example.com:8080/chat/room?x=1&y=2#frag')).toEqual({
      secure: false,
      hostname: 'example.com',
      port: 8080,
      path: '/chat/room?x=1&y=2',
      hostHeader: 'example.com:8080',
      auth: undefined,
      href: 'ws://example.com:8080/chat/room?x=1&y=2',
    });
  });

  it('uses the default ports and leaves them out of Host', () => {
    expect(parseWebSocketUrl('ws://example.com')).toMatchObject({ port: 80, hostHeader: 'example.com', path: '/', secure: false });
    expect(parseWebSocketUrl('wss://example.com')).toMatchObject({ port: 443, hostHeader: 'example.com', secure: true });
    expect(parseWebSocketUrl('wss://example.com:80/')).toMatchObject({ port: 80, hostHeader: 'example.com:80' });
  });

  it('reads http: and https: as ws: and wss:, as the WHATWG standard does', () => {
    expect(parseWebSocketUrl('http://h/p')).toMatchObject({ secure: false, port: 80, href: 'ws://h/p' });
    expect(parseWebSocketUrl('HTTPS://h/p')).toMatchObject({ secure: true, port: 443, href: 'wss://h/p' });
  });

  it('connects to IPv6 literals without brackets and sends them with brackets', () => {
    expect(parseWebSocketUrl('ws://[::1]:9000/')).toMatchObject({ hostname: '::1', hostHeader: '[::1]:9000', href: 'ws://[::1]:9000/' });
  });

  it('returns credentials for Basic authorization, decoded', () => {
    expect(parseWebSocketUrl('ws://us%40er:p%3Ass@h/').auth).toBe('us@er:p:ss');
    expect(parseWebSocketUrl('ws://h/').auth).toBeUndefined();
  });

  it('accepts WHATWG URL objects and legacy url.parse() results', () => {
    expect(parseWebSocketUrl(new URL('wss://h:444/a?b'))).toMatchObject({ secure: true, hostname: 'h', port: 444, path: '/a?b' });
    expect(parseWebSocketUrl(legacyParse('ws://user:pw@h:81/a?b'))).toMatchObject({ hostname: 'h', port: 81, path: '/a?b', auth: 'user:pw' });
  });

  it('throws WebSocket-Node\'s message when the URL has no scheme', () => {
    for (const input of ['example.com/chat', '/chat', '127.0.0.1:8080/', '']) {
      expect(() => parseWebSocketUrl(input)).toThrow(new TypeError('You must specify a full WebSocket URL, including protocol.'));
    }
    expect(() => parseWebSocketUrl({ hostname: 'h' })).toThrow('You must specify a full WebSocket URL, including protocol.');
  });

  it('refuses other schemes instead of misreading "host:port" as a scheme', () => {
    expect(() => parseWebSocketUrl('localhost:8080/chat')).toThrow(TypeError);
    expect(() => parseWebSocketUrl('localhost:8080/chat')).toThrow(
      'Unsupported URL scheme "localhost:": a WebSocket URL must start with ws:// or wss:// (got "localhost:8080/chat").',
    );
    expect(() => parseWebSocketUrl('ftp://h/')).toThrow('Unsupported URL scheme "ftp:"');
    expect(() => parseWebSocketUrl('file:///etc/passwd')).toThrow('Unsupported URL scheme "file:"');
  });

  it('throws WebSocket-Node\'s message when the host is missing', () => {
    const message = 'You must specify a full WebSocket URL, including hostname. Relative URLs are not supported.';
    expect(() => parseWebSocketUrl('ws://')).toThrow(message);
    expect(() => parseWebSocketUrl('wss:')).toThrow(message);
    expect(() => parseWebSocketUrl('ws://?x=1')).toThrow(message);
    expect(() => parseWebSocketUrl({ protocol: 'ws:', pathname: '/x' })).toThrow(message);
  });

  it('names the URL when it cannot be parsed, and rejects bad ports and non-URLs', () => {
    expect(() => parseWebSocketUrl('ws://exa mple.com/')).toThrow('Invalid WebSocket URL "ws://exa mple.com/"');
    expect(() => parseWebSocketUrl({ protocol: 'ws:', hostname: 'h', port: 'http' })).toThrow(RangeError);
    expect(() => parseWebSocketUrl(42 as unknown as string)).toThrow('The WebSocket URL must be a string or a URL object, got number.');
  });
});

describe('normalizeProtocols', () => {
  it('reads its argument as WebSocket-Node does', () => {
    expect(normalizeProtocols('chat')).toEqual(['chat']);
    expect(normalizeProtocols('')).toEqual([]);
    expect(normalizeProtocols(undefined)).toEqual([]);
    expect(normalizeProtocols(null)).toEqual([]);
    expect(normalizeProtocols(42)).toEqual([]);
    expect(normalizeProtocols(['a', 'B'])).toEqual(['a', 'B']);
  });

  it('throws WebSocket-Node\'s message for a character that is not allowed in a token', () => {
    for (const [protocol, bad] of [['a b', ' '], ['a,b', ','], ['caf\u00e9', '\u00e9'], ['x/y', '/'], ['t\tab', '\t']]) {
      expect(() => normalizeProtocols(['ok', protocol])).toThrow(new TypeError(`Protocol list contains invalid character "${bad}"`));
    }
  });

  it('refuses empty names and duplicates (compared case-insensitively, as servers do)', () => {
    expect(() => normalizeProtocols(['a', ''])).toThrow('Protocol list contains an empty protocol name.');
    expect(() => normalizeProtocols(['chat', 'Chat'])).toThrow('Protocol list contains "chat" and "Chat": each subprotocol may be requested once.');
  });
});

describe('buildHandshakeHeaders', () => {
  const base = { key: 'dGhlIHNhbXBsZSBub25jZQ==', hostHeader: 'h:81' };

  it('sends the handshake headers, after the caller\'s', () => {
    const headers = buildHandshakeHeaders({ ...base, headers: { 'X-Custom': 'yes', 'sec-websocket-version': '99', upgrade: 'h2c' } });
    expect(headers).toEqual({
      'X-Custom': 'yes',
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': base.key,
      Host: 'h:81',
    });
    expect(Object.keys(headers)[0]).toBe('X-Custom');
  });

  it('keeps a Host header given by the caller, whatever its case', () => {
    expect(buildHandshakeHeaders({ ...base, headers: { host: 'virtual.example' } })).toMatchObject({ host: 'virtual.example' });
    expect(buildHandshakeHeaders({ ...base, headers: { host: 'virtual.example' } })).not.toHaveProperty('Host');
  });

  it('joins the protocols and sends the origin under the version\'s header name', () => {
    expect(buildHandshakeHeaders({ ...base, protocols: ['a', 'b'], origin: 'https://o' })).toMatchObject({
      'Sec-WebSocket-Protocol': 'a, b',
      Origin: 'https://o',
    });
    const v8 = buildHandshakeHeaders({ ...base, webSocketVersion: 8, origin: 'https://o' });
    expect(v8).toMatchObject({ 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Origin': 'https://o' });
    expect(v8).not.toHaveProperty('Origin');
  });

  it('drops a caller\'s Sec-WebSocket-Protocol and -Extensions; extensions come from a negotiator only', () => {
    const headers = buildHandshakeHeaders({ ...base, headers: { 'sec-websocket-protocol': 'x', 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
    expect(Object.keys(headers).map((name) => name.toLowerCase())).not.toEqual(expect.arrayContaining(['sec-websocket-protocol']));
    expect(Object.keys(headers).map((name) => name.toLowerCase())).not.toEqual(expect.arrayContaining(['sec-websocket-extensions']));
    expect(buildHandshakeHeaders({ ...base, extensionOffer: 'x-test; a=1' })).toMatchObject({ 'Sec-WebSocket-Extensions': 'x-test; a=1' });
  });

  it('skips undefined and null header values', () => {
    const headers = buildHandshakeHeaders({ ...base, headers: { 'X-A': undefined as unknown as string, 'X-B': null as unknown as string } });
    expect(headers).not.toHaveProperty('X-A');
    expect(headers).not.toHaveProperty('X-B');
  });
});

describe('verifyHandshakeResponse', () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const accept = computeAcceptKey(key);
  const ok = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept };
  const verify = (headers: Record<string, string | undefined>, protocols: string[] = [], extensions?: ClientExtensionNegotiator) =>
    verifyHandshakeResponse({ headers }, { key, protocols, extensions });
  const failure = (fn: () => unknown): ClientHandshakeError => {
    try {
      fn();
    } catch (error) {
      return error as ClientHandshakeError;
    }
    throw new Error('expected a ClientHandshakeError');
  };

  it('accepts a correct response', () => {
    expect(verify(ok)).toEqual({ protocol: undefined, extensions: [], extensionsHeader: '' });
    expect(accept).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('accepts Connection as a token list containing upgrade, in any case', () => {
    expect(() => verify({ ...ok, connection: 'keep-alive, Upgrade' })).not.toThrow();
    expect(() => verify({ ...ok, connection: 'UPGRADE' })).not.toThrow();
    expect(() => verify({ ...ok, upgrade: 'WebSocket' })).not.toThrow();
  });

  it('fails with WebSocket-Node\'s messages, checking in a fixed order', () => {
    expect(failure(() => verify({ ...ok, connection: undefined }))).toMatchObject({
      message: 'Expected a Connection: Upgrade header from the server',
      code: 'WS_ERR_SERVER_CONNECTION_HEADER',
    });
    expect(failure(() => verify({ ...ok, connection: 'keep-alive' })).code).toBe('WS_ERR_SERVER_CONNECTION_HEADER');
    expect(failure(() => verify({ ...ok, upgrade: 'h2c' })).message).toBe('Expected an Upgrade: websocket header from the server');
    expect(failure(() => verify({ ...ok, 'sec-websocket-accept': undefined })).message).toBe('Expected Sec-WebSocket-Accept header from server');
    expect(failure(() => verify({ ...ok, 'sec-websocket-accept': 'AAAA' })).message).toBe(
      `Sec-WebSocket-Accept header from server didn't match expected value of ${accept}`,
    );
    expect(failure(() => verify({ upgrade: 'h2c' })).code).toBe('WS_ERR_SERVER_CONNECTION_HEADER');
    expect(failure(() => verify({ ...ok, connection: 'x' }))).toBeInstanceOf(ClientHandshakeError);
    expect(failure(() => verify({ ...ok, connection: 'x' }))).toBeInstanceOf(Error);
  });

  it('accepts a requested subprotocol, compared exactly', () => {
    expect(verify({ ...ok, 'sec-websocket-protocol': 'b' }, ['a', 'b']).protocol).toBe('b');
    expect(failure(() => verify({ ...ok, 'sec-websocket-protocol': 'B' }, ['a', 'b'])).message).toBe('Server did not respond with a requested protocol.');
    expect(failure(() => verify({ ...ok, 'sec-websocket-protocol': 'a, b' }, ['a', 'b'])).code).toBe('WS_ERR_SERVER_UNKNOWN_PROTOCOL');
  });

  it('accepts a server that selects no subprotocol (as browsers do)', () => {
    expect(verify(ok, ['a']).protocol).toBeUndefined();
    expect(verify({ ...ok, 'sec-websocket-protocol': '' }, ['a']).protocol).toBeUndefined();
  });

  it('fails when the server selects a subprotocol although none was requested', () => {
    expect(failure(() => verify({ ...ok, 'sec-websocket-protocol': 'chat' }))).toMatchObject({
      code: 'WS_ERR_SERVER_UNREQUESTED_PROTOCOL',
      message: 'Server selected the subprotocol "chat", but the client did not request any subprotocol.',
    });
  });

  it('fails when the server accepts an extension that was not offered (RFC 6455 §4.1)', () => {
    expect(failure(() => verify({ ...ok, 'sec-websocket-extensions': 'permessage-deflate' }))).toMatchObject({
      code: 'WS_ERR_SERVER_UNOFFERED_EXTENSION',
      message: 'Server accepted the extension(s) "permessage-deflate", but the client did not offer any extension.',
    });
  });

  it('hands the server\'s extensions to a negotiator and returns what it accepts', () => {
    const negotiator: ClientExtensionNegotiator = {
      offer: () => 'x-test',
      accept: (extensions, header) => {
        if (extensions.some((e) => e.name !== 'x-test')) throw new Error(`unexpected ${extensions[0].name}`);
        return extensions.map((e) => ({ running: e.name, params: e.params, header }));
      },
    };
    expect(verify({ ...ok, 'sec-websocket-extensions': 'x-test; level=2' }, [], negotiator)).toEqual({
      protocol: undefined,
      extensions: [{ running: 'x-test', params: [{ name: 'level', value: '2' }], header: 'x-test; level=2' }],
      extensionsHeader: 'x-test; level=2',
    });
    expect(verify(ok, [], negotiator).extensions).toEqual([]);
    expect(failure(() => verify({ ...ok, 'sec-websocket-extensions': 'x-other' }, [], negotiator))).toMatchObject({
      code: 'WS_ERR_SERVER_EXTENSION_REJECTED',
      message: "Server's Sec-WebSocket-Extensions response is not acceptable: unexpected x-other",
    });
  });
});

describe('non101ResponseError', () => {
  it('formats the status and the headers as WebSocket-Node does', () => {
    const error = non101ResponseError(403, 'Forbidden', { 'x-websocket-reject-reason': 'no', 'set-cookie': ['a=1', 'b=2'] });
    expect(error.message).toBe(
      'Server responded with a non-101 status: 403 Forbidden\nResponse Headers Follow:\nx-websocket-reject-reason: no\nset-cookie: a=1,b=2\n',
    );
    expect(error).toMatchObject({ code: 'WS_ERR_SERVER_NOT_101', statusCode: 403, name: 'ClientHandshakeError' });
  });
});
