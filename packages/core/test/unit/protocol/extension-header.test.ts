/**
 * Sec-WebSocket-Extensions parsing into WebSocket-Node's `requestedExtensions` shape.
 */
import { parseExtensionsHeader } from '../../../src/protocol/extension-header';

describe('parseExtensionsHeader', () => {
  it('parses the doc example (lower-cased; a bare parameter has no value key at all)', () => {
    const parsed = parseExtensionsHeader('permessage-deflate; client_max_window_bits, X-Foo; a=1; b');
    expect(parsed).toStrictEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits' }] },
      { name: 'x-foo', params: [{ name: 'a', value: '1' }, { name: 'b' }] },
    ]);
    expect(JSON.stringify(parsed)).toBe('[{"name":"permessage-deflate","params":[{"name":"client_max_window_bits"}]},{"name":"x-foo","params":[{"name":"a","value":"1"},{"name":"b"}]}]');
    expect('value' in parsed[0].params[0]).toBe(false);
  });

  it('returns [] for a missing or empty header', () => {
    expect(parseExtensionsHeader(undefined)).toEqual([]);
    expect(parseExtensionsHeader('')).toEqual([]);
  });

  it('parses an extension without parameters', () => {
    expect(parseExtensionsHeader('permessage-deflate')).toStrictEqual([{ name: 'permessage-deflate', params: [] }]);
  });

  it('keeps everything after the first "=" as the value, and lower-cases values too', () => {
    expect(parseExtensionsHeader('ext; a=B=c; empty=')).toStrictEqual([
      { name: 'ext', params: [{ name: 'a', value: 'b=c' }, { name: 'empty', value: '' }] },
    ]);
  });

  it('splits items on "," with or without spaces, and parameters on ";" with or without spaces', () => {
    expect(parseExtensionsHeader('a;x=1;y,b ,c;  z')).toStrictEqual([
      { name: 'a', params: [{ name: 'x', value: '1' }, { name: 'y' }] },
      { name: 'b ', params: [] },
      { name: 'c', params: [{ name: 'z' }] },
    ]);
  });

  it('keeps repeated offers of the same extension', () => {
    const parsed = parseExtensionsHeader('permessage-deflate; server_no_context_takeover, permessage-deflate');
    expect(parsed.map((e) => e.name)).toEqual(['permessage-deflate', 'permessage-deflate']);
  });
});
