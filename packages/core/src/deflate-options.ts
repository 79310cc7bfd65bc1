/**
 * The `perMessageDeflate` option: its shape, defaults and checks, and what a connection needs
 * from it (the negotiation policy and the zlib settings).
 */
import { MAX_WINDOW_BITS, MIN_WINDOW_BITS, PERMESSAGE_DEFLATE, type DeflateParams, type DeflatePolicy } from './protocol/deflate-negotiation';
import type { Extension } from './protocol/extension-header';
import { DEFLATE_DEFAULTS, type DeflateOptions } from './permessage-deflate';

/** permessage-deflate settings (RFC 7692). Every key is optional. */
export interface PerMessageDeflateOptions {
  /** Reset the server's compression context after every message (frees no memory, costs ratio). @default false */
  serverNoContextTakeover?: boolean;
  /** Ask the client to reset its context after every message. @default false */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window the server compresses with, 8-15. @default 15 */
  serverMaxWindowBits?: number;
  /** Window the client should compress with, 8-15; unset leaves it to the client. */
  clientMaxWindowBits?: number;
  /** zlib compression level, 0-9. @default 1 */
  level?: number;
  /** zlib memLevel, 1-9. @default 8 */
  memLevel?: number;
  /** Messages smaller than this many bytes are sent uncompressed. @default 1024 */
  threshold?: number;
  /** Process-wide cap on zlib jobs running at once. @default 10 */
  concurrencyLimit?: number;
}

/** The option as given: true for the defaults, false/undefined for off, or settings. */
export type PerMessageDeflateSetting = boolean | PerMessageDeflateOptions | undefined;

/** A checked, complete `perMessageDeflate` setting. */
export interface ResolvedDeflate {
  policy: DeflatePolicy;
  options: DeflateOptions;
}

const KEYS = new Set(['serverNoContextTakeover', 'clientNoContextTakeover', 'serverMaxWindowBits', 'clientMaxWindowBits', 'level', 'memLevel', 'threshold', 'concurrencyLimit']);

function integerIn(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`perMessageDeflate.${key} must be an integer from ${min} to ${max}, got ${String(value)}.`);
  }
  return value;
}

function flag(value: unknown, key: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`perMessageDeflate.${key} must be a boolean, got ${String(value)}.`);
  return value;
}

/** Check and complete a `perMessageDeflate` setting; null when compression is off. */
export function resolveDeflate(setting: unknown): ResolvedDeflate | null {
  if (setting === undefined || setting === false || setting === null) return null;
  if (setting !== true && (typeof setting !== 'object' || Array.isArray(setting))) {
    throw new TypeError(`Option "perMessageDeflate" must be a boolean or an options object, got ${String(setting)}.`);
  }
  const o = (setting === true ? {} : setting) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key)) throw new TypeError(`Unknown perMessageDeflate option "${key}". Known options: ${[...KEYS].join(', ')}.`);
  }
  return {
    policy: {
      serverNoContextTakeover: flag(o.serverNoContextTakeover, 'serverNoContextTakeover'),
      clientNoContextTakeover: flag(o.clientNoContextTakeover, 'clientNoContextTakeover'),
      serverMaxWindowBits: o.serverMaxWindowBits === undefined ? MAX_WINDOW_BITS : integerIn(o.serverMaxWindowBits, 'serverMaxWindowBits', MIN_WINDOW_BITS, MAX_WINDOW_BITS),
      clientMaxWindowBits: o.clientMaxWindowBits === undefined ? undefined : integerIn(o.clientMaxWindowBits, 'clientMaxWindowBits', MIN_WINDOW_BITS, MAX_WINDOW_BITS),
    },
    options: {
      level: o.level === undefined ? DEFLATE_DEFAULTS.level : integerIn(o.level, 'level', 0, 9),
      memLevel: o.memLevel === undefined ? DEFLATE_DEFAULTS.memLevel : integerIn(o.memLevel, 'memLevel', 1, 9),
      threshold: o.threshold === undefined ? DEFLATE_DEFAULTS.threshold : integerIn(o.threshold, 'threshold', 0, Number.MAX_SAFE_INTEGER),
      concurrencyLimit: o.concurrencyLimit === undefined ? DEFLATE_DEFAULTS.concurrencyLimit : integerIn(o.concurrencyLimit, 'concurrencyLimit', 1, 1024),
    },
  };
}

/** The agreed parameters carried by a negotiated permessage-deflate extension entry. */
export function deflateParamsOf(extension: Extension): DeflateParams {
  const value = (name: string): string | undefined => extension.params.find((p) => p.name === name)?.value;
  const has = (name: string): boolean => extension.params.some((p) => p.name === name);
  return {
    serverNoContextTakeover: has('server_no_context_takeover'),
    clientNoContextTakeover: has('client_no_context_takeover'),
    serverMaxWindowBits: Number(value('server_max_window_bits') ?? MAX_WINDOW_BITS),
    clientMaxWindowBits: Number(value('client_max_window_bits') ?? MAX_WINDOW_BITS),
  };
}

/** An extension entry (the shape of `connection.extensions`) for agreed parameters. */
export function deflateExtensionEntry(params: DeflateParams): Extension {
  const entry: Extension = { name: PERMESSAGE_DEFLATE, params: [] };
  if (params.serverNoContextTakeover) entry.params.push({ name: 'server_no_context_takeover' });
  if (params.clientNoContextTakeover) entry.params.push({ name: 'client_no_context_takeover' });
  if (params.serverMaxWindowBits < MAX_WINDOW_BITS) entry.params.push({ name: 'server_max_window_bits', value: String(params.serverMaxWindowBits) });
  if (params.clientMaxWindowBits < MAX_WINDOW_BITS) entry.params.push({ name: 'client_max_window_bits', value: String(params.clientMaxWindowBits) });
  return entry;
}
