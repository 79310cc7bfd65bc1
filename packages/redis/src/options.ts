/**
 * Options of `RedisPubSub`: where Redis is, the channel prefix, the instance id and the error
 * callback, checked once in the constructor with errors that name the option.
 */
import { randomUUID } from 'node:crypto';
import type { RedisOptions } from 'ioredis';
import { MAX_INSTANCE_ID_BYTES } from './envelope';

/** Options of `new RedisPubSub(options)`. */
export interface RedisPubSubOptions {
  /**
   * Where Redis is: a `redis://` / `rediss://` URL, or ioredis options (`host`, `port`,
   * `password`, `tls`, `retryStrategy`, ...). Two connections are opened with it.
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: string | RedisOptions;
  /**
   * Prepended to a topic to name its Redis channel (`wsuite:` + `chat` → `wsuite:chat`). Servers
   * that should share topics must use the same prefix; different apps on one Redis, different ones.
   * @default 'wsuite:'
   */
  prefix?: string;
  /**
   * This instance's id, carried in every message so the instance skips its own messages when
   * Redis echoes them back (it has already delivered them locally). Unique per instance;
   * 1 to 255 UTF-8 bytes. @default a random UUID
   */
  instanceId?: string;
  /** Receives every error (the same as listening to the `error` event). */
  onError?: (error: Error) => void;
}

/** The options after defaults and checks. */
export interface ResolvedRedisPubSubOptions {
  redis: string | RedisOptions;
  prefix: string;
  instanceId: string;
  onError: ((error: Error) => void) | undefined;
}

const KNOWN_KEYS = new Set(['redis', 'prefix', 'instanceId', 'onError']);

/** Check `options` and fill in the defaults. Throws a `TypeError`/`RangeError` naming the bad option. */
export function resolveRedisPubSubOptions(options: unknown): ResolvedRedisPubSubOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`RedisPubSub options must be an object like { redis: 'redis://127.0.0.1:6379' }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}.`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN_KEYS.has(key)) throw new TypeError(`Unknown RedisPubSub option "${key}" (known: ${[...KNOWN_KEYS].join(', ')}).`);
  }
  const redis = given.redis ?? 'redis://127.0.0.1:6379';
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//i.test(redis)) throw new TypeError(`Option "redis" must be a redis:// or rediss:// URL (or ioredis options), got "${redis}".`);
  } else if (redis === null || typeof redis !== 'object' || Array.isArray(redis)) {
    throw new TypeError(`Option "redis" must be a redis:// URL or an ioredis options object, got ${redis === null ? 'null' : typeof redis}.`);
  }
  const prefix = given.prefix ?? 'wsuite:';
  if (typeof prefix !== 'string') throw new TypeError(`Option "prefix" must be a string, got ${typeof prefix}.`);
  const instanceId = given.instanceId ?? randomUUID();
  if (typeof instanceId !== 'string') throw new TypeError(`Option "instanceId" must be a string, got ${typeof instanceId}.`);
  const idBytes = Buffer.byteLength(instanceId);
  if (idBytes === 0 || idBytes > MAX_INSTANCE_ID_BYTES) {
    throw new RangeError(`Option "instanceId" must be 1 to ${MAX_INSTANCE_ID_BYTES} bytes of UTF-8, got ${idBytes}.`);
  }
  const onError = given.onError;
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError(`Option "onError" must be a function, got ${typeof onError}.`);
  return { redis: redis as string | RedisOptions, prefix, instanceId, onError: onError as ((error: Error) => void) | undefined };
}
