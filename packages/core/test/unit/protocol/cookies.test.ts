/**
 * Cookie header parsing and Set-Cookie formatting with WebSocket-Node's rules and messages
 * (API doc §4.1 and §4.3 step 5).
 */
import { formatSetCookies, parseCookies, type SetCookie } from '../../../src/protocol/cookies';

describe('parseCookies', () => {
  it('parses the doc example', () => {
    expect(parseCookies('a=1; b="two%20x"; c; d=; e=f=g,h=i')).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: 'two x' },
      { name: 'c', value: null },
      { name: 'd', value: '' },
      { name: 'e', value: 'f=g' },
      { name: 'h', value: 'i' },
    ]);
  });

  it('returns [] for anything but a string', () => {
    expect(parseCookies(undefined)).toEqual([]);
    expect(parseCookies(null)).toEqual([]);
    expect(parseCookies(42)).toEqual([]);
    expect(parseCookies(['a=1'])).toEqual([]);
  });

  it('keeps duplicates, trims names and values, but not a bare name', () => {
    expect(parseCookies('a=1;a=2; a = 3 ;x ')).toEqual([
      { name: 'a', value: '1' },
      { name: 'a', value: '2' },
      { name: 'a', value: '3' },
      { name: 'x ', value: null },
    ]);
  });

  it('URI-decodes values and strips one pair of surrounding quotes', () => {
    expect(parseCookies('u=%E2%82%AC%20%F0%9F%98%80; q=""; r="a"b"')).toEqual([
      { name: 'u', value: '€ 😀' },
      { name: 'q', value: '' },
      { name: 'r', value: 'a"b' },
    ]);
  });

  it.each(['bad=%', 'bad=%zz', 'ok=1; bad=%E2%82', 'bad="%"'])('a malformed %% escape (%s) throws URIError "URI malformed"', (header) => {
    expect(() => parseCookies(header)).toThrow(URIError);
    expect(() => parseCookies(header)).toThrow('URI malformed');
  });
});

describe('formatSetCookies', () => {
  const one = (cookie: Partial<SetCookie> & Record<string, unknown>) => formatSetCookies([cookie]);

  it('produces the doc example exactly', () => {
    expect(
      one({
        name: 'sess',
        value: '"quoted"',
        path: '/p',
        domain: 'Example.COM',
        expires: new Date(0),
        maxage: 3600,
        secure: true,
        httponly: true,
      }),
    ).toEqual(['sess="quoted";Path=/p;Domain=example.com;Expires=Thu, 01 Jan 1970 00:00:00 GMT;Max-Age=3600;Secure;HttpOnly']);
  });

  it('formats a minimal cookie and one entry per cookie', () => {
    expect(formatSetCookies([])).toEqual([]);
    expect(formatSetCookies([{ name: 'a', value: '1' }, { name: 'b', value: "x!#$%&'()*+-./:<=>?@[]^_`{|}~" }])).toEqual([
      'a=1',
      "b=x!#$%&'()*+-./:<=>?@[]^_`{|}~",
    ]);
  });

  it('omits false flags, a zero maxage, and empty path/domain/expires', () => {
    expect(one({ name: 'a', value: '1', secure: false, httponly: false, maxage: 0, path: '', domain: '' })).toEqual(['a=1']);
  });

  it('skips a NaN maxage like 0 (both are falsy)', () => {
    expect(one({ name: 'a', value: '1', maxage: NaN, secure: true })).toEqual(['a=1;Secure']);
  });

  it('parses a string maxage and rounds a fractional one', () => {
    expect(one({ name: 'a', value: '1', maxage: '3600' })).toEqual(['a=1;Max-Age=3600']);
    expect(one({ name: 'a', value: '1', maxage: '12abc' })).toEqual(['a=1;Max-Age=12']);
    expect(one({ name: 'a', value: '1', maxage: 1.6 })).toEqual(['a=1;Max-Age=2']);
  });

  it('silently strips control characters, spaces and ";" from names and values', () => {
    expect(one({ name: 'x\r\ny', value: 'v;w' })).toEqual(['xy=vw']);
    expect(one({ name: '\tn\x00m\x1f', value: ' a b' })).toEqual(['nm=ab']);
    expect(one({ name: 'a', value: 'x\r\nSet-Cookie: evil=1' })).toEqual(['a=xSet-Cookie:evil=1']);
  });

  it.each<[string, unknown, string]>([
    ['not an array', { name: 'a', value: '1' }, 'Value supplied for "cookies" argument must be an array.'],
    ['a string', 'a=1', 'Value supplied for "cookies" argument must be an array.'],
    ['no name', [{ value: '1' }], 'Each cookie to set must at least provide a "name" and "value"'],
    ['no value', [{ name: 'a' }], 'Each cookie to set must at least provide a "name" and "value"'],
    ['an empty value', [{ name: 'a', value: '' }], 'Each cookie to set must at least provide a "name" and "value"'],
    ['an empty name', [{ name: '', value: '1' }], 'Each cookie to set must at least provide a "name" and "value"'],
    ['the same name twice', [{ name: 'a', value: '1' }, { name: 'a', value: '2' }], 'You may not specify the same cookie name twice.'],
    ['the same name twice after stripping', [{ name: 'ab', value: '1' }, { name: 'a\nb', value: '2' }], 'You may not specify the same cookie name twice.'],
    ['"=" in a name', [{ name: 'a=b', value: '1' }], 'Illegal character = in cookie name'],
    ['"," in a name', [{ name: 'a,b', value: '1' }], 'Illegal character , in cookie name'],
    ['DEL in a name', [{ name: 'a\x7fb', value: '1' }], 'Illegal character \x7f in cookie name'],
    ['"," in a value', [{ name: 'a', value: 'x,y' }], 'Illegal character , in cookie value'],
    ['an inner quote in a value', [{ name: 'a', value: 'x"y' }], 'Illegal character " in cookie value'],
    ['a lone quote as value', [{ name: 'a', value: '"' }], 'Illegal character " in cookie value'],
    ['a backslash in a value', [{ name: 'a', value: 'x\\y' }], 'Illegal character \\ in cookie value'],
    ['DEL in a value', [{ name: 'a', value: 'x\x7f' }], 'Illegal character \x7f in cookie value'],
    ['non-ASCII in a value', [{ name: 'a', value: 'café' }], 'Illegal character é in cookie value'],
    ['a control character in the path', [{ name: 'a', value: '1', path: '/a\x01b' }], 'Illegal character \x01 in cookie path'],
    ['";" in the path', [{ name: 'a', value: '1', path: '/a;b' }], 'Illegal character ; in cookie path'],
    ['a space in the path', [{ name: 'a', value: '1', path: '/a b' }], 'Illegal character   in cookie path'],
    ['a non-string domain', [{ name: 'a', value: '1', domain: 42 }], 'Domain must be specified and must be a string.'],
    ['";" in the domain', [{ name: 'a', value: '1', domain: 'a.com;x' }], 'Illegal character ; in cookie domain'],
    ['CR in the domain', [{ name: 'a', value: '1', domain: 'a.com\r' }], 'Illegal character \r in cookie domain'],
    ['expires as a string', [{ name: 'a', value: '1', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }], 'Value supplied for cookie "expires" must be a valid date object'],
    ['expires as a number', [{ name: 'a', value: '1', expires: 1000 }], 'Value supplied for cookie "expires" must be a valid date object'],
    ['expires as an invalid Date', [{ name: 'a', value: '1', expires: new Date(NaN) }], 'Value supplied for cookie "expires" must be a valid date object'],
    ['maxage not numeric', [{ name: 'a', value: '1', maxage: 'soon' }], 'Value supplied for cookie "maxage" must be a non-zero number'],
    ['maxage negative', [{ name: 'a', value: '1', maxage: -5 }], 'Value supplied for cookie "maxage" must be a non-zero number'],
    ['maxage "0"', [{ name: 'a', value: '1', maxage: '0' }], 'Value supplied for cookie "maxage" must be a non-zero number'],
    ['secure not boolean', [{ name: 'a', value: '1', secure: 'yes' }], 'Value supplied for cookie "secure" must be of type boolean'],
    ['httponly not boolean', [{ name: 'a', value: '1', httponly: 1 }], 'Value supplied for cookie "httponly" must be of type boolean'],
  ])('%s', (_name, input, message) => {
    expect(() => formatSetCookies(input)).toThrow(Error);
    let caught: Error | undefined;
    try {
      formatSetCookies(input);
    } catch (error) {
      caught = error as Error;
    }
    expect(caught?.message).toBe(message);
  });

  it('validates each cookie in order: the first bad one decides the message', () => {
    expect(() => formatSetCookies([{ name: 'ok', value: '1' }, { name: 'a b=', value: 'x,y' }])).toThrow('Illegal character = in cookie name');
    expect(() => formatSetCookies([{ name: 'a', value: 'x,y', path: '/;', secure: 'x' }])).toThrow('Illegal character , in cookie value');
  });
});
