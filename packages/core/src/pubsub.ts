/**
 * The seam between a server's topics and a cross-process message bus (Redis, NATS, ...): what a
 * pub/sub driver must implement, what it calls back, and how publish data becomes a payload.
 * Core ships no driver; `@wsuite/redis` is one.
 */
import type { WebSocketConnection } from './connection';

/**
 * Where a driver delivers messages published elsewhere: a `WebSocketServer` (or anything that
 * fans messages out to local subscribers, like an adapter that owns several servers).
 */
export interface PubSubTarget {
  /**
   * Deliver a message published by another process (or another target of the same driver) to
   * this target's local subscribers of `topic`. It is not handed back to the driver.
   */
  deliverRemote(topic: string, payload: Buffer, isBinary: boolean): number;
}

/**
 * A cross-process fan-out for `server.publish`, installed with `server.setPubSub(driver)`.
 *
 * - `subscribe`/`unsubscribe` are called when a topic gains its first local subscriber on
 *   `target` and when it loses its last one, so only topics someone listens to are subscribed
 *   on the bus.
 * - `publish` is called after the message went to `origin`'s local subscribers: the driver
 *   carries it to every other process, and to the other targets it serves in this process, but
 *   never back to `origin` (which already delivered it).
 * - Messages from elsewhere go to `target.deliverRemote(topic, payload, isBinary)` for every
 *   target subscribed to `topic`.
 *
 * One driver may serve several targets (e.g. one per NestJS gateway). Its methods must not
 * throw for bus failures: a driver reports them its own way (an `error` event) and keeps local
 * delivery unaffected.
 */
export interface PubSubDriver {
  /** `target` has its first local subscriber of `topic`. */
  subscribe(topic: string, target: PubSubTarget): void;
  /** `target` has no local subscriber of `topic` left. */
  unsubscribe(topic: string, target: PubSubTarget): void;
  /** `origin` published `payload` to `topic` (text as UTF-8 when `isBinary` is false). */
  publish(topic: string, payload: Buffer, isBinary: boolean, origin: PubSubTarget): void;
}

/** Options of `server.publish(topic, data, options)`. */
export interface PublishOptions {
  /** A connection that does not get the message, typically the one that sent it. */
  except?: WebSocketConnection | null;
  /**
   * Deliver to this server's subscribers only; the pub/sub driver (other processes) does not
   * see the message. @default false
   */
  local?: boolean;
}

/**
 * Check `options` of a publish and return them with defaults. Throws a `TypeError` naming the
 * bad option.
 */
export function readPublishOptions(options: PublishOptions | undefined, where = 'publish()'): { except: WebSocketConnection | null; local: boolean } {
  if (options === undefined || options === null) return { except: null, local: false };
  if (typeof options !== 'object') throw new TypeError(`${where} options must be an object like { except, local }, got ${typeof options}.`);
  const except = options.except ?? null;
  if (except !== null && (typeof except !== 'object' || typeof (except as { sendEncodedFrames?: unknown }).sendEncodedFrames !== 'function')) {
    throw new TypeError(`${where} option "except" must be a WebSocketConnection (or null), got ${typeof except}.`);
  }
  const local = options.local ?? false;
  if (typeof local !== 'boolean') throw new TypeError(`${where} option "local" must be a boolean, got ${typeof local}.`);
  return { except, local };
}

/** What `publish` accepts: binary data, or anything with `toString()` as text. */
export type PublishData = Buffer | ArrayBuffer | ArrayBufferView | string | { toString(): string };

/** A message ready to frame or to hand to a driver. */
export interface PublishPayload {
  /** The message bytes (UTF-8 for text). */
  payload: Buffer;
  /** True for a binary message, false for text. */
  isBinary: boolean;
}

/**
 * Turn publish data into bytes, as `connection.send` would: Buffers, ArrayBuffers and
 * ArrayBuffer views are binary (not copied), anything else with `toString()` is UTF-8 text.
 * `where` names the caller in the `TypeError` thrown for null or undefined.
 */
export function toPublishPayload(data: PublishData, where = 'publish()'): PublishPayload {
  if (Buffer.isBuffer(data)) return { payload: data, isBinary: true };
  if (data instanceof ArrayBuffer) return { payload: Buffer.from(data), isBinary: true };
  if (ArrayBuffer.isView(data)) return { payload: Buffer.from(data.buffer, data.byteOffset, data.byteLength), isBinary: true };
  if (data !== null && data !== undefined && typeof (data as { toString?: unknown }).toString === 'function') {
    return { payload: Buffer.from(typeof data === 'string' ? data : data.toString(), 'utf8'), isBinary: false };
  }
  throw new TypeError(`${where} needs the message as a Buffer, an ArrayBuffer (view) or a string, got ${data === null ? 'null' : typeof data}.`);
}

/** Throw a `TypeError` unless `driver` has the three methods of a {@link PubSubDriver} (null is allowed: no driver). */
export function assertPubSubDriver(driver: unknown): asserts driver is PubSubDriver | null {
  if (driver === null) return;
  const d = driver as Partial<PubSubDriver> | undefined;
  if (typeof d !== 'object' || typeof d.subscribe !== 'function' || typeof d.unsubscribe !== 'function' || typeof d.publish !== 'function') {
    throw new TypeError('setPubSub() needs a driver with subscribe(topic, target), unsubscribe(topic, target) and publish(topic, payload, isBinary, origin) methods, or null to remove it.');
  }
}
