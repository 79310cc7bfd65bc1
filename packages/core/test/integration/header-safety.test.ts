/**
 * Nothing a caller passes can split or corrupt a handshake response: property tests that feed
 * hostile strings (CR, LF, NUL, other controls, colons, non-Latin-1, whole injected header lines)
 * as reject reasons, extra header names and values, cookies, subprotocols and origins, and read
 * every response with Node's own HTTP parser and line by line.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { startServer, type TestServer } from '../helpers/raw-peer';
import { newKey } from '../helpers/server-harness';
import type { WebSocketRequest } from '../../src/request';
import type { SetCookie } from '../../src/protocol/cookies';

/** Pieces hostile strings are made of. */
const hostile = fc.string({
  unit: fc.constantFrom('\r', '\n', '\r\n', '\0', '\x0b', '\x1b', '\x7f', '\t', ' ', ':', 'a', 'Z', '9', 'é', '\u0085', '\u2028', '\u{1F600}', 'X-Injected: yes', '\r\nX-Injected: yes\r\n', '\r\n\r\nHTTP/1.1 200 OK'),
  maxLength: 12,
});
const TOKEN_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\r\n]*$/;

/** What one exchange got: the status and headers as Node's parser read them, and the raw head lines. */
interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  lines: string[];
  /** Bytes after the head (a refusal has none; a 101 none before any frame). */
  rest: string;
}

let server: TestServer;
let decide: (request: WebSocketRequest) => void = (request) => request.reject(400);
let decisionErrors: Error[] = [];

beforeAll(async () => {
  server = await startServer({ keepalive: false });
  server.wss.on('request', (request) => {
    try {
      decide(request);
    } catch (error) {
      decisionErrors.push(error as Error);
    }
  });
});
afterAll(() => server.close());

/** An upgrade request read by Node's HTTP client: a parse error (a split or corrupt response) rejects. */
function exchange(headers: Record<string, string> = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      path: '/',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': newKey(), 'Sec-WebSocket-Version': '13', ...headers },
    });
    let raw = '';
    req.on('socket', (socket: Socket) => socket.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1'))));
    const finish = (status: number, responseHeaders: IncomingHttpHeaders, socket: Socket): void => {
      const done = (): void => {
        const end = raw.indexOf('\r\n\r\n');
        resolve({ status, headers: responseHeaders, lines: raw.slice(0, end).split('\r\n').slice(1), rest: raw.slice(end + 4) });
      };
      socket.destroy();
      setImmediate(done);
    };
    req.on('upgrade', (res, socket) => finish(res.statusCode ?? 0, res.headers, socket));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode ?? 0, res.headers, res.socket));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every header line is one well-formed `name: value` line, and none was injected. */
function expectWellFormed(result: Exchange): void {
  for (const line of result.lines) expect(line).toMatch(TOKEN_LINE);
  expect(result.lines.filter((line) => /^x-injected:/i.test(line))).toEqual([]);
  expect(result.headers['x-injected']).toBeUndefined();
  expect(result.rest).toBe('');
}

/** The names of the header lines, lower-cased. */
function names(result: Exchange): string[] {
  return result.lines.map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
}

describe('handshake responses cannot be split or corrupted', () => {
  it('reject reasons', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (reason) => {
        decide = (request) => request.reject(403, reason);
        const result = await exchange();
        expectWellFormed(result);
        expect(result.status).toBe(403);
        expect(names(result).filter((n) => n !== 'connection' && n !== 'x-websocket-reject-reason')).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('extra header names and values, on reject and on accept', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(hostile, hostile, { maxKeys: 3 }), fc.boolean(), async (extra, accept) => {
        decide = (request) => (accept ? request.accept(null, null, undefined, extra) : request.reject(401, 'no', extra));
        const result = await exchange();
        expectWellFormed(result);
        expect(result.status).toBe(accept ? 101 : 401);
        // At most one line per extra header, plus the handshake's own.
        expect(result.lines.length).toBeLessThanOrEqual(Object.keys(extra).length + (accept ? 3 : 2));
      }),
      { numRuns: 100 },
    );
  });

  it('the allowed origin echoed by accept()', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (origin) => {
        decide = (request) => request.accept(null, origin);
        const result = await exchange({ Origin: 'https://example.com' });
        expectWellFormed(result);
        expect(result.status).toBe(101);
        expect(names(result).sort()).toEqual(['connection', 'sec-websocket-accept', 'upgrade', ...(result.headers.origin === undefined ? [] : ['origin'])].sort());
      }),
      { numRuns: 100 },
    );
  });

  it('cookies: a bad one is refused (500, nothing written), a good one is one Set-Cookie line', async () => {
    const cookie = fc.record({ name: hostile, value: hostile, path: fc.option(hostile, { nil: undefined }), domain: fc.option(hostile, { nil: undefined }) });
    await fc.assert(
      fc.asyncProperty(fc.array(cookie, { minLength: 1, maxLength: 2 }), async (cookies) => {
        decisionErrors = [];
        decide = (request) => request.accept(null, null, cookies as SetCookie[]);
        const result = await exchange();
        expectWellFormed(result);
        if (result.status === 500) expect(decisionErrors).toHaveLength(1);
        else {
          expect(result.status).toBe(101);
          expect(names(result).filter((n) => n === 'set-cookie')).toHaveLength(cookies.length);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('subprotocols: only one the client requested can be answered', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (protocol) => {
        decisionErrors = [];
        decide = (request) => request.accept(protocol);
        const result = await exchange({ 'Sec-WebSocket-Protocol': 'chat, superchat' });
        expectWellFormed(result);
        if (result.status === 101) {
          expect(['chat', 'superchat']).toContain(result.headers['sec-websocket-protocol'] ?? 'chat');
        } else {
          expect(result.status).toBe(500);
          expect(decisionErrors).toHaveLength(1);
        }
      }),
      { numRuns: 100 },
    );
  });
});
