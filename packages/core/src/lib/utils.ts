/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/utils')`, its small helpers. */
import type { EventEmitter } from 'node:events';
import { createBufferingLogger, type DebugLogger } from '../debug';

const utils = {
  /** Does nothing. */
  noop(): void {},
  /** Shallow-copy `src`'s enumerable keys onto `dest`. */
  extend<T extends object>(dest: T, src: object): T {
    for (const key in src) (dest as Record<string, unknown>)[key] = (src as Record<string, unknown>)[key];
    return dest;
  },
  /** Number of listeners for `type`. */
  eventEmitterListenerCount(emitter: EventEmitter, type: string): number {
    return emitter.listenerCount(type);
  },
  /** `Buffer.allocUnsafe(size)`. */
  bufferAllocUnsafe(size: number): Buffer {
    return Buffer.allocUnsafe(size);
  },
  /** `Buffer.from(string, encoding)`. */
  bufferFromString(string: string, encoding?: BufferEncoding): Buffer {
    return Buffer.from(string, encoding);
  },
  /** A debug function for `identifier` that buffers its output until `printOutput()`. */
  BufferingLogger(identifier: string, uniqueID: string | number): DebugLogger {
    return createBufferingLogger(identifier, uniqueID);
  },
};

export = utils;
