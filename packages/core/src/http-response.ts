/**
 * Plain HTTP answers on a raw upgrade socket: the 101 and every refusal go through here, with
 * header values stripped of anything that could end a header line.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

// Control characters (other than tab) would end or corrupt a header line.
// eslint-disable-next-line no-control-regex
const UNSAFE_HEADER_CHARS = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** `value` made safe for one HTTP header line: no CR, LF or other control characters. */
export function sanitizeHeaderValue(value: string): string {
  return value.replace(UNSAFE_HEADER_CHARS, '');
}

// A header name is an HTTP token (RFC 9110 §5.6.2): anything else would make the line unparseable.
const NON_TOKEN_CHARS = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/g;

/** Header lines as name/value pairs, in order; a name may repeat (e.g. Set-Cookie). */
export type HeaderList = ReadonlyArray<readonly [string, string | number]>;

/** An HTTP/1.1 response head: status line, sanitized headers, blank line. */
export function formatHttpResponse(status: number, headers: HeaderList = [], statusText?: string): string {
  const lines = [`HTTP/1.1 ${status} ${sanitizeHeaderValue(statusText ?? STATUS_CODES[status] ?? 'Unknown')}`];
  for (const [name, value] of headers) {
    const token = name.replace(NON_TOKEN_CHARS, '');
    // A name with nothing of a token left would be an unparseable line: it is left out.
    if (token !== '') lines.push(`${token}: ${sanitizeHeaderValue(String(value))}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Whether an upgrade socket can still be answered. */
export function isSocketWritable(socket: Duplex): boolean {
  return !socket.destroyed && socket.writable && !socket.writableEnded;
}

/**
 * Refuse an upgrade: write an HTTP error (with `Connection: close`, the reason as
 * `X-WebSocket-Reject-Reason`, and `extraHeaders`) and end the socket. A socket that can no
 * longer be written is destroyed instead.
 */
export function abortHandshake(
  socket: Duplex,
  status: number,
  reason?: string,
  extraHeaders?: Readonly<Record<string, string | number>>,
): void {
  if (!isSocketWritable(socket)) {
    socket.destroy();
    return;
  }
  const headers: Array<[string, string | number]> = [['Connection', 'close']];
  if (reason) headers.push(['X-WebSocket-Reject-Reason', reason]);
  if (extraHeaders) for (const [name, value] of Object.entries(extraHeaders)) headers.push([name, value]);
  socket.end(formatHttpResponse(status, headers), 'utf8');
}
