import {
  acceptDeflateOffer,
  checkDeflateResponse,
  formatDeflateOffer,
  parseExtensionList,
  ExtensionHeaderError,
  type DeflatePolicy,
} from '../../../src/protocol/deflate-negotiation';

const policy = (overrides: Partial<DeflatePolicy> = {}): DeflatePolicy => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: undefined,
  ...overrides,
});

describe('parseExtensionList', () => {
  it('parses several offers with bare, token and quoted values', () => {
    expect(parseExtensionList('permessage-deflate; client_max_window_bits; server_max_window_bits="10", Foo ;a=1 ; b')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
      { name: 'foo', params: [['a', '1'], ['b', true]] },
    ]);
  });

  it('keeps duplicate parameters so they can be refused', () => {
    expect(parseExtensionList('permessage-deflate; server_no_context_takeover; server_no_context_takeover')[0].params).toHaveLength(2);
  });

  it('ignores empty list elements', () => {
    expect(parseExtensionList(' , permessage-deflate ,, ').map((e) => e.name)).toEqual(['permessage-deflate']);
  });

  it.each([
    ['permessage-deflate; =1'],
    ['permessage-deflate; a="unterminated'],
    ['permessage-deflate; a="has space"'],
    ['permessage-deflate x'],
    ['permessage-deflate; a=@'],
    [';'],
  ])('throws on malformed syntax: %s', (header) => {
    expect(() => parseExtensionList(header)).toThrow(ExtensionHeaderError);
  });
});

describe('acceptDeflateOffer (server)', () => {
  const accept = (header: string, p: Partial<DeflatePolicy> = {}) => acceptDeflateOffer(parseExtensionList(header), policy(p));

  it('accepts a bare offer with defaults', () => {
    expect(accept('permessage-deflate')).toEqual({
      params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
      response: 'permessage-deflate',
    });
  });

  it('confirms every parameter the client asked for', () => {
    const result = accept('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12');
    expect(result?.params).toEqual({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 });
    expect(result?.response).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12');
  });

  it('applies the server policy: own window, no-context-takeover for both, client window when allowed', () => {
    const result = accept('permessage-deflate; client_max_window_bits', { serverMaxWindowBits: 11, serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: 9 });
    expect(result?.params).toEqual({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 9 });
    expect(result?.response).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=9');
  });

  it('uses the smaller of the requested and allowed server window', () => {
    expect(accept('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 12 })?.params.serverMaxWindowBits).toBe(9);
    expect(accept('permessage-deflate; server_max_window_bits=14', { serverMaxWindowBits: 12 })?.params.serverMaxWindowBits).toBe(12);
  });

  it('declines an offer that cannot take a client window limit when the policy needs one, and takes the next', () => {
    const result = accept('permessage-deflate, permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 });
    expect(result?.params.clientMaxWindowBits).toBe(10);
    expect(accept('permessage-deflate', { clientMaxWindowBits: 10 })).toBeNull();
  });

  it.each([
    ['unknown parameter', 'permessage-deflate; foo'],
    ['duplicate parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['value on a flag', 'permessage-deflate; client_no_context_takeover=1'],
    ['server window 7', 'permessage-deflate; server_max_window_bits=7'],
    ['server window 16', 'permessage-deflate; server_max_window_bits=16'],
    ['server window without value', 'permessage-deflate; server_max_window_bits'],
    ['server window 010', 'permessage-deflate; server_max_window_bits=010'],
    ['client window 0', 'permessage-deflate; client_max_window_bits=0'],
  ])('declines an offer with an invalid parameter (%s)', (_what, header) => {
    expect(accept(header)).toBeNull();
    // ...but accepts a valid offer that follows it.
    expect(accept(`${header}, permessage-deflate`)?.response).toBe('permessage-deflate');
  });

  it('ignores other extensions', () => {
    expect(accept('x-webkit-deflate-frame, foo; bar')).toBeNull();
  });
});

describe('client offer and response check', () => {
  it('formats the default offer', () => {
    expect(formatDeflateOffer(policy())).toBe('permessage-deflate; client_max_window_bits');
    expect(formatDeflateOffer(policy({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 }))).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    );
  });

  it('accepts what a server may answer', () => {
    expect(checkDeflateResponse(undefined, policy())).toBeNull();
    expect(checkDeflateResponse('permessage-deflate', policy())).toEqual({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
    expect(checkDeflateResponse('permessage-deflate; server_no_context_takeover; client_max_window_bits=10', policy())).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 10,
    });
  });

  it.each([
    ['an extension not offered', 'x-foo'],
    ['two extensions', 'permessage-deflate, permessage-deflate'],
    ['an unknown parameter', 'permessage-deflate; foo=1'],
    ['a duplicate', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits'],
    ['an invalid window', 'permessage-deflate; server_max_window_bits=16'],
    ['bad syntax', 'permessage-deflate; ='],
  ])('refuses %s', (_what, header) => {
    expect(typeof checkDeflateResponse(header, policy())).toBe('string');
  });

  it('refuses a server window above the one offered, and a missing confirmation of server_no_context_takeover', () => {
    expect(typeof checkDeflateResponse('permessage-deflate; server_max_window_bits=12', policy({ serverMaxWindowBits: 10 }))).toBe('string');
    expect(typeof checkDeflateResponse('permessage-deflate', policy({ serverNoContextTakeover: true }))).toBe('string');
    expect(typeof checkDeflateResponse('permessage-deflate; client_max_window_bits=12', policy({ clientMaxWindowBits: 10 }))).toBe('string');
  });

  it('keeps the offered client window when the server leaves client_max_window_bits out (RFC 7692 §7.1.2.2)', () => {
    expect(checkDeflateResponse('permessage-deflate', policy({ clientMaxWindowBits: 11 }))).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 11,
    });
  });
});
