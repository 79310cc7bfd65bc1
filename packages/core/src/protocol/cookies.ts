/**
 * The `Cookie` request header parser and the `Set-Cookie` formatter used by `accept()`,
 * with WebSocket-Node's rules and messages.
 */

/** A cookie the client sent. A pair without `=` has a `null` value. */
export interface RequestCookie {
  name: string;
  value: string | null;
}

/** A cookie to set in the 101 response. */
export interface SetCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  expires?: Date;
  maxage?: number | string;
  secure?: boolean;
  httponly?: boolean;
}

/**
 * Parse a `Cookie` header into a list (duplicates kept, values URI-decoded).
 * A malformed `%` escape throws a `URIError` (`URI malformed`).
 */
export function parseCookies(header: unknown): RequestCookie[] {
  if (typeof header !== 'string') return [];
  const cookies: RequestCookie[] = [];
  for (const pair of header.split(/[;,] */)) {
    const eq = pair.indexOf('=');
    if (eq < 0) {
      cookies.push({ name: pair, value: null });
      continue;
    }
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"')) value = value.slice(1, -1);
    cookies.push({ name, value: decodeURIComponent(value) });
  }
  return cookies;
}

// eslint-disable-next-line no-control-regex
const CONTROL_OR_SEMICOLON = /[\x00-\x20;]/g;
// eslint-disable-next-line no-control-regex
const ILLEGAL_NAME = /[\x00-\x20"(),/:;<=>?@[\\\]^{}\x7f]/;
const COOKIE_OCTETS = /^[!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]*$/;
const ILLEGAL_VALUE = /[^!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]/;
// eslint-disable-next-line no-control-regex
const ILLEGAL_PATH_OR_DOMAIN = /[\x00-\x20;]/;

/**
 * Validate cookies to set and return one `Set-Cookie` header value per cookie.
 * Throws an `Error` with WebSocket-Node's message on the first bad cookie.
 */
export function formatSetCookies(cookies: unknown): string[] {
  if (!Array.isArray(cookies)) throw new Error('Value supplied for "cookies" argument must be an array.');
  const seen = new Set<string>();
  return cookies.map((cookie: SetCookie) => {
    if (!cookie.name || !cookie.value) throw new Error('Each cookie to set must at least provide a "name" and "value"');
    const name = String(cookie.name).replace(CONTROL_OR_SEMICOLON, '');
    const value = String(cookie.value).replace(CONTROL_OR_SEMICOLON, '');
    if (seen.has(name)) throw new Error('You may not specify the same cookie name twice.');
    seen.add(name);
    const badName = ILLEGAL_NAME.exec(name);
    if (badName) throw new Error(`Illegal character ${badName[0]} in cookie name`);
    const unquoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    if (!COOKIE_OCTETS.test(unquoted)) {
      throw new Error(`Illegal character ${(ILLEGAL_VALUE.exec(unquoted) as RegExpExecArray)[0]} in cookie value`);
    }
    const parts = [`${name}=${value}`];
    if (cookie.path) {
      const bad = ILLEGAL_PATH_OR_DOMAIN.exec(cookie.path);
      if (bad) throw new Error(`Illegal character ${bad[0]} in cookie path`);
      parts.push(`Path=${cookie.path}`);
    }
    if (cookie.domain) {
      if (typeof cookie.domain !== 'string') throw new Error('Domain must be specified and must be a string.');
      const bad = ILLEGAL_PATH_OR_DOMAIN.exec(cookie.domain);
      if (bad) throw new Error(`Illegal character ${bad[0]} in cookie domain`);
      parts.push(`Domain=${cookie.domain.toLowerCase()}`);
    }
    if (cookie.expires) {
      if (!(cookie.expires instanceof Date) || Number.isNaN(cookie.expires.getTime())) {
        throw new Error('Value supplied for cookie "expires" must be a valid date object');
      }
      parts.push(`Expires=${cookie.expires.toUTCString()}`);
    }
    if (cookie.maxage) {
      const maxage = typeof cookie.maxage === 'string' ? parseInt(cookie.maxage, 10) : cookie.maxage;
      if (Number.isNaN(maxage) || maxage <= 0) throw new Error('Value supplied for cookie "maxage" must be a non-zero number');
      parts.push(`Max-Age=${Math.round(maxage)}`);
    }
    for (const flag of ['secure', 'httponly'] as const) {
      const set = cookie[flag];
      if (set && typeof set !== 'boolean') throw new Error(`Value supplied for cookie "${flag}" must be of type boolean`);
      if (set) parts.push(flag === 'secure' ? 'Secure' : 'HttpOnly');
    }
    return parts.join(';');
  });
}
