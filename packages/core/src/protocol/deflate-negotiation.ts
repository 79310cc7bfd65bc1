/**
 * permessage-deflate negotiation (RFC 7692 §5, §7): parsing `Sec-WebSocket-Extensions` with the
 * RFC 6455 §9.1 grammar, choosing the server's answer to a client's offers, and checking a
 * server's answer on the client side. Pure: strings in, parameters out.
 */
import { isToken } from './validation';

/** The extension's registered name. */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';
/** Smallest and largest LZ77 window sizes, as base-2 logarithms (RFC 7692 §7.1.2). */
export const MIN_WINDOW_BITS = 8;
export const MAX_WINDOW_BITS = 15;

/** One parameter as sent: `true` when it had no value. */
export type ExtensionParamValue = string | true;

/** One extension from a header, its parameters in order (duplicates kept, to be refused). */
export interface ParsedExtension {
  name: string;
  params: Array<[name: string, value: ExtensionParamValue]>;
}

/** A malformed extensions header. */
export class ExtensionHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtensionHeaderError';
  }
}

/**
 * Parse a `Sec-WebSocket-Extensions` value: `1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )`.
 * Names are lower-cased. Throws an {@link ExtensionHeaderError} on a syntax error.
 */
export function parseExtensionList(header: string): ParsedExtension[] {
  const extensions: ParsedExtension[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (what: string): string => {
    const start = i;
    while (i < n && isToken(header[i])) i++;
    if (i === start) throw new ExtensionHeaderError(`Invalid Sec-WebSocket-Extensions header: expected ${what} at offset ${start}.`);
    return header.slice(start, i);
  };
  for (;;) {
    skipSpace();
    // Empty list elements (",,") are allowed by the #rule.
    if (i < n && header[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const extension: ParsedExtension = { name: readToken('an extension name').toLowerCase(), params: [] };
    skipSpace();
    while (i < n && header[i] === ';') {
      i++;
      skipSpace();
      const name = readToken('a parameter name').toLowerCase();
      skipSpace();
      let value: ExtensionParamValue = true;
      if (i < n && header[i] === '=') {
        i++;
        skipSpace();
        if (header[i] === '"') {
          i++;
          let text = '';
          while (i < n && header[i] !== '"') {
            if (header[i] === '\\') i++;
            if (i < n) text += header[i++];
          }
          if (i >= n) throw new ExtensionHeaderError('Invalid Sec-WebSocket-Extensions header: unterminated quoted string.');
          i++;
          // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
          if (!isToken(text)) throw new ExtensionHeaderError(`Invalid Sec-WebSocket-Extensions header: quoted value ${JSON.stringify(text)} is not a token.`);
          value = text;
        } else {
          value = readToken('a parameter value');
        }
        skipSpace();
      }
      extension.params.push([name, value]);
    }
    extensions.push(extension);
    skipSpace();
    if (i < n) {
      if (header[i] !== ',') throw new ExtensionHeaderError(`Invalid Sec-WebSocket-Extensions header: unexpected ${JSON.stringify(header[i])} at offset ${i}.`);
      i++;
    }
  }
  return extensions;
}

/** The parameters both sides agreed on. */
export interface DeflateParams {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover: boolean;
  /** Window bits the server compresses with (8-15). */
  serverMaxWindowBits: number;
  /** Window bits the client compresses with (8-15). */
  clientMaxWindowBits: number;
}

/** What one side is willing to agree to (the `perMessageDeflate` option, normalised). */
export interface DeflatePolicy {
  /** Server: always ask for server_no_context_takeover. Client: offer it. */
  serverNoContextTakeover: boolean;
  /** Ask the client to reset its context after each message. */
  clientNoContextTakeover: boolean;
  /** Largest window the server compresses with; false: accept no server_max_window_bits limit request below 15. */
  serverMaxWindowBits: number;
  /** Window the client should compress with; undefined leaves it to the client. */
  clientMaxWindowBits: number | undefined;
}

function windowBits(value: ExtensionParamValue): number | undefined {
  if (value === true || !/^(?:[89]|1[0-5])$/.test(value)) return undefined;
  return Number(value);
}

/** Why an offer was declined, for logs and tests. */
export type DeclineReason = string;

/** Read one offer's parameters, or the reason the RFC says to decline it. */
function readOffer(params: ParsedExtension['params']): Map<string, ExtensionParamValue> | DeclineReason {
  const seen = new Map<string, ExtensionParamValue>();
  for (const [name, value] of params) {
    if (seen.has(name)) return `parameter ${name} appears twice`;
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) return `${name} must not have a value`;
        break;
      case 'server_max_window_bits':
        if (windowBits(value) === undefined) return `server_max_window_bits must be 8-15`;
        break;
      case 'client_max_window_bits':
        if (value !== true && windowBits(value) === undefined) return `client_max_window_bits must be 8-15 or have no value`;
        break;
      default:
        return `unknown parameter ${name}`;
    }
    seen.set(name, value);
  }
  return seen;
}

/** The server's choice: the agreed parameters and the response header value, or null. */
export interface DeflateAcceptance {
  params: DeflateParams;
  response: string;
}

/**
 * Pick the first permessage-deflate offer the server can accept under `policy` (RFC 7692 §5:
 * an offer with an unknown, duplicate or invalid parameter is declined, not fatal).
 * Returns null when every offer is declined (the connection proceeds without compression).
 */
export function acceptDeflateOffer(offers: readonly ParsedExtension[], policy: DeflatePolicy): DeflateAcceptance | null {
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const params = readOffer(offer.params);
    if (typeof params === 'string') continue;
    const requestedServerBits = params.has('server_max_window_bits') ? windowBits(params.get('server_max_window_bits') as string) : undefined;
    const clientBitsOffer = params.get('client_max_window_bits');
    // A server window we must use is the smaller of ours and the client's limit.
    const serverBits = Math.min(policy.serverMaxWindowBits, requestedServerBits ?? MAX_WINDOW_BITS);
    // We may only limit the client's window if the client said it can honour a limit.
    if (policy.clientMaxWindowBits !== undefined && clientBitsOffer === undefined) continue;
    let clientBits = MAX_WINDOW_BITS;
    if (clientBitsOffer !== undefined && clientBitsOffer !== true) clientBits = windowBits(clientBitsOffer) as number;
    if (policy.clientMaxWindowBits !== undefined) clientBits = Math.min(clientBits, policy.clientMaxWindowBits);

    const agreed: DeflateParams = {
      serverNoContextTakeover: policy.serverNoContextTakeover || params.has('server_no_context_takeover'),
      clientNoContextTakeover: policy.clientNoContextTakeover || params.has('client_no_context_takeover'),
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const parts = [PERMESSAGE_DEFLATE];
    if (agreed.serverNoContextTakeover) parts.push('server_no_context_takeover');
    if (agreed.clientNoContextTakeover) parts.push('client_no_context_takeover');
    if (requestedServerBits !== undefined || serverBits < MAX_WINDOW_BITS) parts.push(`server_max_window_bits=${serverBits}`);
    if (clientBitsOffer !== undefined && (clientBits < MAX_WINDOW_BITS || clientBitsOffer !== true)) parts.push(`client_max_window_bits=${clientBits}`);
    return { params: agreed, response: parts.join('; ') };
  }
  return null;
}

/** The offer a client sends for `policy`. */
export function formatDeflateOffer(policy: DeflatePolicy): string {
  const parts = [PERMESSAGE_DEFLATE];
  if (policy.serverNoContextTakeover) parts.push('server_no_context_takeover');
  if (policy.clientNoContextTakeover) parts.push('client_no_context_takeover');
  if (policy.serverMaxWindowBits < MAX_WINDOW_BITS) parts.push(`server_max_window_bits=${policy.serverMaxWindowBits}`);
  parts.push(policy.clientMaxWindowBits === undefined ? 'client_max_window_bits' : `client_max_window_bits=${policy.clientMaxWindowBits}`);
  return parts.join('; ');
}

/**
 * Check a server's `Sec-WebSocket-Extensions` answer against the offer a client made from
 * `policy` (RFC 7692 §5: the client must fail the connection on an answer it did not allow).
 * Returns the agreed parameters, null when the server chose no compression, or a string saying
 * why the answer is invalid.
 */
export function checkDeflateResponse(header: string | undefined, policy: DeflatePolicy): DeflateParams | null | string {
  if (header === undefined || header.trim() === '') return null;
  let extensions: ParsedExtension[];
  try {
    extensions = parseExtensionList(header);
  } catch (error) {
    return (error as Error).message;
  }
  if (extensions.length === 0) return null;
  if (extensions.length > 1) return 'the server accepted more than one extension';
  const [extension] = extensions;
  if (extension.name !== PERMESSAGE_DEFLATE) return `the server accepted an extension that was not offered: ${extension.name}`;
  const params = readOffer(extension.params);
  if (typeof params === 'string') return `invalid permessage-deflate response: ${params}`;
  if (params.get('client_max_window_bits') === true) return 'invalid permessage-deflate response: client_max_window_bits needs a value in a response';
  const serverBits = params.has('server_max_window_bits') ? (windowBits(params.get('server_max_window_bits') as string) as number) : MAX_WINDOW_BITS;
  if (policy.serverMaxWindowBits < MAX_WINDOW_BITS && serverBits > policy.serverMaxWindowBits) {
    return `invalid permessage-deflate response: server_max_window_bits=${serverBits} exceeds the offered ${policy.serverMaxWindowBits}`;
  }
  if (policy.serverNoContextTakeover && !params.has('server_no_context_takeover')) {
    return 'invalid permessage-deflate response: server_no_context_takeover was requested but not confirmed';
  }
  // A server may leave out client_max_window_bits (RFC 7692 §7.1.2.2: it "may either ignore this
  // value or use this value"); the client then keeps to the limit it offered itself.
  const clientBits = params.has('client_max_window_bits') ? (windowBits(params.get('client_max_window_bits') as string) as number) : MAX_WINDOW_BITS;
  if (policy.clientMaxWindowBits !== undefined && params.has('client_max_window_bits') && clientBits > policy.clientMaxWindowBits) {
    return `invalid permessage-deflate response: client_max_window_bits=${clientBits} exceeds the offered ${policy.clientMaxWindowBits}`;
  }
  return {
    serverNoContextTakeover: params.has('server_no_context_takeover'),
    clientNoContextTakeover: policy.clientNoContextTakeover || params.has('client_no_context_takeover'),
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: Math.min(clientBits, policy.clientMaxWindowBits ?? MAX_WINDOW_BITS),
  };
}
