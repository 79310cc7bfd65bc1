/**
 * RedisPubSub: a `@wsuite/core` pub/sub driver on Redis pub/sub (ioredis). One connection
 * subscribes (to the channels of topics with local subscribers only), the other publishes.
 * Every message carries this instance's id, so the copy Redis echoes back is skipped: local
 * subscribers got it already. While Redis is unreachable, local delivery goes on, messages for
 * other processes are dropped and reported, and both connections reconnect by themselves; the
 * subscriptions are restored on every reconnect.
 */
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { PubSubDriver, PubSubTarget } from '@wsuite/core';
import { EnvelopeEncoder, decodeEnvelope } from './envelope';
import { resolveRedisPubSubOptions, type RedisPubSubOptions } from './options';

/** Events of a {@link RedisPubSub}. */
export interface RedisPubSubEvents {
  /**
   * A Redis connection failed or dropped, a publish could not reach Redis, or a message could
   * not be read. Local delivery is never affected.
   */
  error: [error: RedisPubSubError];
  /** Both connections are up and every topic with local subscribers is subscribed (again). */
  ready: [];
}

/** What went wrong, as `RedisPubSubError.code`. */
export type RedisPubSubErrorCode =
  /** A Redis connection reported an error (refused, reset, authentication, ...). */
  | 'WSUITE_REDIS_CONNECTION'
  /** Redis is unreachable: messages for other processes are dropped until it is back (reported once per outage). */
  | 'WSUITE_REDIS_PUBLISH_DROPPED'
  /** A PUBLISH, SUBSCRIBE or UNSUBSCRIBE failed. */
  | 'WSUITE_REDIS_COMMAND'
  /** A message on a subscribed channel was not an envelope of this package. */
  | 'WSUITE_REDIS_BAD_MESSAGE'
  /** A target's `deliverRemote` threw. */
  | 'WSUITE_REDIS_DELIVERY';

/** An error reported by {@link RedisPubSub} (never thrown): a code, and the original error as `cause`. */
export class RedisPubSubError extends Error {
  /** What went wrong. */
  readonly code: RedisPubSubErrorCode;
  /** The Redis connection concerned, when there is one. */
  readonly connection: 'subscriber' | 'publisher' | undefined;

  /**
   * @param code what went wrong
   * @param message a readable description
   * @param options the original error (`cause`) and the Redis connection concerned
   */
  constructor(code: RedisPubSubErrorCode, message: string, options: { cause?: unknown; connection?: 'subscriber' | 'publisher' } = {}) {
    super(message, { cause: options.cause });
    this.name = 'RedisPubSubError';
    this.code = code;
    this.connection = options.connection;
  }
}

type Role = 'subscriber' | 'publisher';

// Behaviour this driver relies on, over whatever the application passes: no queueing or
// resending while disconnected (a resent PUBLISH could arrive twice), and our own resubscription.
const FORCED_OPTIONS: RedisOptions = { enableOfflineQueue: false, autoResubscribe: false, autoResendUnfulfilledCommands: false };

/**
 * A pub/sub driver for `server.setPubSub()` that fans `publish` out to every process connected
 * to the same Redis. One instance per process is enough: it may serve several servers (each one
 * subscribing to what its connections want), and messages published by one of them reach the
 * others directly, without a round trip through Redis.
 */
export class RedisPubSub extends EventEmitter<RedisPubSubEvents> implements PubSubDriver {
  /** This instance's id, carried in every message it publishes. */
  readonly instanceId: string;
  /** The channel prefix (`channel = prefix + topic`). */
  readonly prefix: string;

  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private readonly encoder: EnvelopeEncoder;
  // Topic → the targets (servers) in this process with local subscribers of it.
  private readonly targets = new Map<string, Set<PubSubTarget>>();
  private subscriberSynced = false;
  private isReady = false;
  private droppingSinceOutage = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** @param options where Redis is, the channel prefix, the instance id, an error callback */
  constructor(options?: RedisPubSubOptions) {
    super();
    const resolved = resolveRedisPubSubOptions(options);
    this.instanceId = resolved.instanceId;
    this.prefix = resolved.prefix;
    this.encoder = new EnvelopeEncoder(resolved.instanceId);
    if (resolved.onError) this.on('error', resolved.onError);
    this.subscriber = connect(resolved.redis, 'subscriber');
    this.publisher = connect(resolved.redis, 'publisher');
    this.watch(this.subscriber, 'subscriber');
    this.watch(this.publisher, 'publisher');
    this.subscriber.on('ready', () => this.resubscribe());
    this.publisher.on('ready', () => this.checkReady());
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.handleMessage(channel, message));
  }

  /** True while both connections are up and the subscriptions are in place. */
  get ready(): boolean {
    return this.isReady;
  }

  /** The topics subscribed in Redis: those with local subscribers on at least one target. */
  get topics(): string[] {
    return [...this.targets.keys()];
  }

  /** The Redis channel of `topic`. */
  channelOf(topic: string): string {
    return this.prefix + topic;
  }

  /** Core calls this when `target` has its first local subscriber of `topic`. */
  subscribe(topic: string, target: PubSubTarget): void {
    if (this.closed) return;
    let set = this.targets.get(topic);
    if (!set) {
      set = new Set();
      this.targets.set(topic, set);
      // Not connected: the subscription is made when the connection is (re)established.
      if (this.subscriber.status === 'ready') this.command('SUBSCRIBE', this.subscriber.subscribe(this.channelOf(topic)));
    }
    set.add(target);
  }

  /** Core calls this when `target` has no local subscriber of `topic` left. */
  unsubscribe(topic: string, target: PubSubTarget): void {
    const set = this.targets.get(topic);
    if (!set?.delete(target) || set.size > 0) return;
    this.targets.delete(topic);
    if (!this.closed && this.subscriber.status === 'ready') this.command('UNSUBSCRIBE', this.subscriber.unsubscribe(this.channelOf(topic)));
  }

  /**
   * Core calls this after `origin` delivered a message to its own subscribers: the other targets
   * of this process get it at once, the other processes through Redis. While Redis is
   * unreachable the message reaches this process only (reported once per outage).
   */
  publish(topic: string, payload: Buffer, isBinary: boolean, origin: PubSubTarget): void {
    const set = this.targets.get(topic);
    if (set) {
      for (const target of set) if (target !== origin) this.deliver(target, topic, payload, isBinary);
    }
    if (this.closed) return;
    if (this.publisher.status !== 'ready') {
      if (!this.droppingSinceOutage) {
        this.droppingSinceOutage = true;
        this.report(new RedisPubSubError('WSUITE_REDIS_PUBLISH_DROPPED', `Redis is unreachable (publisher connection ${this.publisher.status}): messages are delivered in this process only until it is back.`, { connection: 'publisher' }));
      }
      return;
    }
    this.command('PUBLISH', this.publisher.publish(this.channelOf(topic), this.encoder.encode(payload, isBinary)));
  }

  /**
   * Close both Redis connections (after the commands already sent are answered, when Redis is
   * up). The driver does nothing afterwards; call `server.setPubSub(null)` first if the server
   * lives on. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.isReady = false;
    this.targets.clear();
    this.closing = Promise.all([shutDown(this.subscriber), shutDown(this.publisher)]).then(() => undefined);
    return this.closing;
  }

  private watch(redis: Redis, role: Role): void {
    redis.on('error', (error: Error) => {
      if (!this.closed) this.report(new RedisPubSubError('WSUITE_REDIS_CONNECTION', `Redis ${role} connection: ${error.message}`, { cause: error, connection: role }));
    });
    redis.on('close', () => {
      if (role === 'subscriber') this.subscriberSynced = false;
      this.isReady = false;
    });
  }

  /** The subscriber connection is (re)established: subscribe every topic with local subscribers. */
  private resubscribe(): void {
    const channels = [...this.targets.keys()].map((topic) => this.channelOf(topic));
    if (channels.length === 0) {
      this.subscriberSynced = true;
      this.checkReady();
      return;
    }
    this.subscriber.subscribe(...channels).then(
      () => {
        this.subscriberSynced = true;
        this.checkReady();
      },
      (error: unknown) => this.report(new RedisPubSubError('WSUITE_REDIS_COMMAND', `Redis SUBSCRIBE of ${channels.length} channel(s) after connecting failed: ${String((error as Error)?.message ?? error)}`, { cause: error, connection: 'subscriber' })),
    );
  }

  private checkReady(): void {
    if (this.closed || this.isReady || !this.subscriberSynced || this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return;
    this.isReady = true;
    this.droppingSinceOutage = false;
    this.emit('ready');
  }

  private handleMessage(channel: Buffer, message: Buffer): void {
    const name = channel.toString('utf8');
    if (!name.startsWith(this.prefix)) return;
    const envelope = decodeEnvelope(message);
    if (!envelope) {
      this.report(new RedisPubSubError('WSUITE_REDIS_BAD_MESSAGE', `A message on Redis channel "${name}" is not a @wsuite/redis envelope (${message.length} bytes); skipped.`, { connection: 'subscriber' }));
      return;
    }
    // Our own message, echoed back: this process delivered it when it was published.
    if (envelope.instanceId === this.instanceId) return;
    const topic = name.slice(this.prefix.length);
    const set = this.targets.get(topic);
    if (!set) return;
    for (const target of set) this.deliver(target, topic, envelope.payload, envelope.isBinary);
  }

  private deliver(target: PubSubTarget, topic: string, payload: Buffer, isBinary: boolean): void {
    try {
      target.deliverRemote(topic, payload, isBinary);
    } catch (error) {
      this.report(new RedisPubSubError('WSUITE_REDIS_DELIVERY', `Delivering a message of topic "${topic}" failed: ${String((error as Error)?.message ?? error)}`, { cause: error }));
    }
  }

  private command(name: string, result: Promise<unknown>): void {
    result.catch((error: unknown) => {
      if (!this.closed) this.report(new RedisPubSubError('WSUITE_REDIS_COMMAND', `Redis ${name} failed: ${String((error as Error)?.message ?? error)}`, { cause: error }));
    });
  }

  /** To the `error` listeners; with none, a process warning (an unhandled `error` event would crash the process). */
  private report(error: RedisPubSubError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error.message, { code: error.code });
  }
}

function connect(redis: string | RedisOptions, role: Role): Redis {
  // disconnectTimeout: `close()` while Redis is down ends a dead socket; ioredis's 2 s default timer would keep the process alive that long.
  // enableAutoPipelining: the PUBLISHes of one event-loop turn leave in one write (in order).
  const defaults: RedisOptions = { connectionName: `wsuite-${role}`, disconnectTimeout: 100, enableAutoPipelining: role === 'publisher' };
  return typeof redis === 'string' ? new Redis(redis, { ...defaults, ...FORCED_OPTIONS }) : new Redis({ ...defaults, ...redis, ...FORCED_OPTIONS });
}

/** QUIT when connected (pending replies arrive first), otherwise drop the connection and stop reconnecting. */
async function shutDown(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through: the connection went away meanwhile.
    }
  }
  redis.disconnect();
}
