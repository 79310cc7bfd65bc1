/**
 * Browser entry (WebSocket-Node's `lib/browser.js`, the package's `browser` field): the native
 * WebSocket under the `w3cwebsocket` name, or `null` where there is none. No Node modules.
 */

/** The native WebSocket class this entry wraps. */
type NativeWebSocketClass = typeof globalThis.WebSocket;

/** `w3cwebsocket` in browsers: `new` gives a native WebSocket; arguments after `protocols` are ignored. */
interface BrowserW3CWebSocket {
  new (url: string | URL, protocols?: string | string[]): WebSocket;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readonly CLOSING: number;
  readonly CLOSED: number;
}

const scope = globalThis as unknown as { WebSocket?: NativeWebSocketClass; MozWebSocket?: NativeWebSocketClass };
const NativeWebSocket = scope.WebSocket ?? scope.MozWebSocket;
// Read through require() so bundlers inline the JSON (version.ts reads it with fs, which browsers lack).
const { version } = require('../../package.json') as { version: string };

function W3CWebSocket(url: string | URL, protocols?: string | string[]): WebSocket {
  const Native = NativeWebSocket as NativeWebSocketClass;
  // Called with `new`: returning an object makes it the result, so callers get the native instance.
  return protocols ? new Native(url, protocols) : new Native(url);
}

if (NativeWebSocket) {
  for (const name of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const) {
    Object.defineProperty(W3CWebSocket, name, { get: () => NativeWebSocket[name], enumerable: true });
  }
}

const browser: { w3cwebsocket: BrowserW3CWebSocket | null; version: string } = {
  w3cwebsocket: NativeWebSocket ? (W3CWebSocket as unknown as BrowserW3CWebSocket) : null,
  version,
};

export = browser;
