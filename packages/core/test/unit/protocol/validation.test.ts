/**
 * Protocol predicates: close-code validity, HTTP tokens (subprotocol names), line-break stripping.
 */
import { findIllegalTokenChar, isToken, isValidCloseCode, stripLineBreaks } from '../../../src/protocol/validation';

describe('isValidCloseCode', () => {
  it('follows RFC 6455 §7.4 for every code 0..70000', () => {
    const wrong: number[] = [];
    for (let code = 0; code <= 70000; code++) {
      const rfc = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
      if (isValidCloseCode(code) !== rfc) wrong.push(code);
    }
    expect(wrong).toEqual([]);
  });

  it.each([1004, 1005, 1006, 1015, 1016, 999, 2999, 5000, -1000, 1000.5, NaN, Infinity])('refuses %p', (code) => {
    expect(isValidCloseCode(code)).toBe(false);
  });
});

describe('findIllegalTokenChar and isToken', () => {
  it('accepts tokens made of every legal character', () => {
    const legal: string[] = [];
    for (let c = 0x21; c <= 0x7e; c++) {
      const ch = String.fromCharCode(c);
      if (!'()<>@,;:\\"/[]?={}'.includes(ch)) legal.push(ch);
    }
    const token = legal.join('');
    expect(token).toHaveLength(94 - 17);
    expect(findIllegalTokenChar(token)).toBeUndefined();
    expect(isToken(token)).toBe(true);
    expect(isToken('chat')).toBe(true);
    expect(isToken('v2.bin-proto_x')).toBe(true);
  });

  it.each(['(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}', ' ', '\t', '\x00', '\x1f', '\x7f', 'é', '€'])(
    'reports %p as illegal',
    (ch) => {
      expect(findIllegalTokenChar(`ab${ch}cd${ch}`)).toBe(ch);
      expect(isToken(`ab${ch}cd`)).toBe(false);
      expect(isToken(ch)).toBe(false);
    },
  );

  it('reports the first illegal character', () => {
    expect(findIllegalTokenChar('a b,c')).toBe(' ');
    expect(findIllegalTokenChar('a,b c')).toBe(',');
  });

  it('the empty string has no illegal character but is not a token', () => {
    expect(findIllegalTokenChar('')).toBeUndefined();
    expect(isToken('')).toBe(false);
  });
});

describe('stripLineBreaks', () => {
  it('removes every CR and LF and nothing else', () => {
    expect(stripLineBreaks('a\r\nb\rc\nd')).toBe('abcd');
    expect(stripLineBreaks('\r\n\r\n')).toBe('');
    expect(stripLineBreaks('tab\tand space ok')).toBe('tab\tand space ok');
    expect(stripLineBreaks('x\r\nSet-Cookie: evil=1')).toBe('xSet-Cookie: evil=1');
  });
});
