/**
 * `@wsuite/redis`: fan `server.publish()` out to every server process through Redis pub/sub.
 * Re-exports only.
 */
export { RedisPubSub, RedisPubSubError } from './redis-pubsub';
export type { RedisPubSubErrorCode, RedisPubSubEvents } from './redis-pubsub';
export type { RedisPubSubOptions } from './options';
export { EnvelopeEncoder, decodeEnvelope, ENVELOPE_VERSION, MAX_INSTANCE_ID_BYTES } from './envelope';
export type { Envelope } from './envelope';
