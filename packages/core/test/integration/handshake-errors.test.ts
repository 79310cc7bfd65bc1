/**
 * Invalid opening handshakes over real sockets: each one gets its exact HTTP status and
 * X-WebSocket-Reject-Reason, the server emits `upgradeError`, no `request` reaches the app, and
 * the server keeps serving normal clients afterwards.
 */
import { startServer, type TestServer } from '../helpers/raw-peer';
import { ClientPool, echo, rawUpgrade, type RawUpgradeOptions } from '../helpers/server-harness';
import type { HandshakeError } from '../../src/protocol/errors';
import type { WebSocketRequest } from '../../src/request';

let server: TestServer;
const pool = new ClientPool();
const upgradeErrors: HandshakeError[] = [];
const requests: WebSocketRequest[] = [];

beforeAll(async () => {
  server = await startServer();
  server.wss.on('upgradeError', (error) => upgradeErrors.push(error as HandshakeError));
  server.wss.on('request', (request) => {
    requests.push(request);
    const connection = request.accept(request.requestedProtocols[0] ?? null);
    connection.on('message', (message) => {
      if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    });
  });
});

afterAll(async () => {
  await pool.closeAll();
  await server.close();
});

beforeEach(() => {
  upgradeErrors.length = 0;
  requests.length = 0;
});

interface HandshakeCase {
  name: string;
  request: (port: number) => RawUpgradeOptions;
  status: string;
  reason: string;
  extraHeaders?: string[];
}

const VERSION_426 = ['Sec-WebSocket-Version: 13'];

const cases: HandshakeCase[] = [
  { name: 'no Host header', request: () => ({ headers: { Host: null } }), status: '400 Bad Request', reason: 'Client must provide a Host header.' },
  {
    name: 'POST',
    request: () => ({ method: 'POST', headers: { 'Content-Length': '0' } }),
    status: '405 Method Not Allowed',
    reason: 'Invalid HTTP method POST: a WebSocket upgrade must use GET.',
    extraHeaders: ['Allow: GET'],
  },
  {
    name: 'PUT',
    request: () => ({ method: 'PUT' }),
    status: '405 Method Not Allowed',
    reason: 'Invalid HTTP method PUT: a WebSocket upgrade must use GET.',
    extraHeaders: ['Allow: GET'],
  },
  { name: 'HTTP/1.0', request: () => ({ httpVersion: '1.0' }), status: '400 Bad Request', reason: 'Client must use HTTP/1.1 or later.' },
  { name: 'Upgrade: foo', request: () => ({ headers: { Upgrade: 'foo' } }), status: '400 Bad Request', reason: 'Client must send an Upgrade: websocket header.' },
  {
    name: 'Upgrade: websocketx',
    request: () => ({ headers: { Upgrade: 'websocketx' } }),
    status: '400 Bad Request',
    reason: 'Client must send an Upgrade: websocket header.',
  },
  {
    name: 'missing Sec-WebSocket-Key',
    request: () => ({ headers: { 'Sec-WebSocket-Key': null } }),
    status: '400 Bad Request',
    reason: 'Client must provide a value for Sec-WebSocket-Key.',
  },
  {
    name: 'Sec-WebSocket-Key "x"',
    request: () => ({ headers: { 'Sec-WebSocket-Key': 'x' } }),
    status: '400 Bad Request',
    reason: 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.',
  },
  {
    name: 'Sec-WebSocket-Key of 15 bytes',
    request: () => ({ headers: { 'Sec-WebSocket-Key': Buffer.alloc(15, 7).toString('base64') } }),
    status: '400 Bad Request',
    reason: 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.',
  },
  {
    name: 'Sec-WebSocket-Key of 16 bytes with a bad last character',
    request: () => ({ headers: { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZR==' } }),
    status: '400 Bad Request',
    reason: 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.',
  },
  {
    name: 'missing Sec-WebSocket-Version',
    request: () => ({ headers: { 'Sec-WebSocket-Version': null } }),
    status: '400 Bad Request',
    reason: 'Client must provide a value for Sec-WebSocket-Version.',
  },
  {
    name: 'Sec-WebSocket-Version 0',
    request: () => ({ headers: { 'Sec-WebSocket-Version': '0' } }),
    status: '400 Bad Request',
    reason: 'Client must provide a value for Sec-WebSocket-Version.',
  },
  {
    name: 'Sec-WebSocket-Version abc',
    request: () => ({ headers: { 'Sec-WebSocket-Version': 'abc' } }),
    status: '400 Bad Request',
    reason: 'Client must provide a value for Sec-WebSocket-Version.',
  },
  {
    name: 'Sec-WebSocket-Version 7',
    request: () => ({ headers: { 'Sec-WebSocket-Version': '7' } }),
    status: '426 Upgrade Required',
    reason: 'Unsupported websocket client version: 7Only versions 8 and 13 are supported.',
    extraHeaders: VERSION_426,
  },
  {
    name: 'Sec-WebSocket-Version 14',
    request: () => ({ headers: { 'Sec-WebSocket-Version': '14' } }),
    status: '426 Upgrade Required',
    reason: 'Unsupported websocket client version: 14Only versions 8 and 13 are supported.',
    extraHeaders: VERSION_426,
  },
  {
    name: 'Sec-WebSocket-Version 13abc',
    request: () => ({ headers: { 'Sec-WebSocket-Version': '13abc' } }),
    status: '426 Upgrade Required',
    reason: 'Unsupported websocket client version: 13abcOnly versions 8 and 13 are supported.',
    extraHeaders: VERSION_426,
  },
  {
    name: 'a subprotocol that is not a token',
    request: () => ({ headers: { 'Sec-WebSocket-Protocol': 'chat, bad/proto' } }),
    status: '400 Bad Request',
    reason: 'Invalid Sec-WebSocket-Protocol header: "bad/proto" is not a valid token.',
  },
  {
    name: 'an empty subprotocol',
    request: () => ({ headers: { 'Sec-WebSocket-Protocol': 'a,,b' } }),
    status: '400 Bad Request',
    reason: 'Invalid Sec-WebSocket-Protocol header: "" is not a valid token.',
  },
  {
    name: 'a subprotocol listed twice (case-insensitively)',
    request: () => ({ headers: { 'Sec-WebSocket-Protocol': 'chat, Chat' } }),
    status: '400 Bad Request',
    reason: 'Invalid Sec-WebSocket-Protocol header: "Chat" is listed twice.',
  },
  {
    name: 'a malformed % escape in a cookie',
    request: () => ({ headers: { Cookie: 'ok=1; bad=%E0%A4%A' } }),
    status: '400 Bad Request',
    reason: 'URI malformed',
  },
  {
    name: 'no Host and POST (Host is checked first)',
    request: () => ({ method: 'POST', headers: { Host: null, 'Content-Length': '0' } }),
    status: '400 Bad Request',
    reason: 'Client must provide a Host header.',
  },
  {
    name: 'bad key and bad version (the key is checked first)',
    request: () => ({ headers: { 'Sec-WebSocket-Key': 'x', 'Sec-WebSocket-Version': '7' } }),
    status: '400 Bad Request',
    reason: 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.',
  },
];

describe('invalid handshakes', () => {
  it.each(cases)('$name → $status', async ({ request, status, reason, extraHeaders = [] }) => {
    const exchange = await rawUpgrade(server.port, request(server.port));
    const response = await exchange.response;
    const expected = [`HTTP/1.1 ${status}`, 'Connection: close', `X-WebSocket-Reject-Reason: ${reason}`, ...extraHeaders].join('\r\n');
    // The whole reply: the head, a blank line, no body; then the server closes the connection.
    expect(response).toBe(`${expected}\r\n\r\n`);

    expect(upgradeErrors).toHaveLength(1);
    expect(upgradeErrors[0]).toBeInstanceOf(Error);
    expect(upgradeErrors[0].message).toBe(reason);
    expect(upgradeErrors[0].httpCode).toBe(Number(status.slice(0, 3)));
    expect(requests).toHaveLength(0);
    expect(server.wss.pendingRequests).toHaveLength(0);
    expect(server.wss.connections).toHaveLength(0);

    // The server keeps serving.
    const ws = await pool.open(server.url);
    expect(await echo(ws, `after ${status}`)).toBe(`after ${status}`);
    expect(requests).toHaveLength(1);
    await pool.closeAll();
  });
});

describe('valid handshakes at the edge of the rules', () => {
  it.each<[string, RawUpgradeOptions]>([
    ['Upgrade: WebSocket (any case)', { headers: { Upgrade: 'WebSocket' } }],
    ['Upgrade listing websocket among other tokens', { headers: { Upgrade: 'h2c, websocket' } }],
    ['Sec-WebSocket-Version 8', { headers: { 'Sec-WebSocket-Version': '8' } }],
    ['HTTP/1.1 with a path and query', { path: '/a/b?c=d' }],
  ])('%s is accepted', async (_name, options) => {
    const exchange = await rawUpgrade(server.port, options);
    const head = await exchange.head();
    expect(head.startsWith('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ')).toBe(true);
    expect(upgradeErrors).toHaveLength(0);
    expect(requests).toHaveLength(1);
    exchange.socket.destroy();
    await exchange.response;
  });
});
