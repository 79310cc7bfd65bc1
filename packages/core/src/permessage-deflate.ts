/**
 * permessage-deflate compression (RFC 7692 §7.2) on Node's zlib: one lazily created deflate and
 * inflate context per connection, a process-wide cap on concurrent zlib jobs, and inflation that
 * stops as soon as a message grows past the size limit (a decompression bomb costs no memory).
 */
import { constants as zlibConstants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import type { DeflateParams } from './protocol/deflate-negotiation';

/** The 4 bytes a sync flush ends with; removed when sending, added back when receiving (§7.2.1, §7.2.2). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** zlib's deflate cannot use an 8-bit window (it silently uses 9); see {@link PerMessageDeflate.canCompress}. */
const ZLIB_MIN_DEFLATE_BITS = 9;

/**
 * Output buffer of an inflate context. Node runs one thread-pool job per filled output buffer,
 * so zlib's 16 KiB default turns a 16 MiB message into a thousand round trips.
 */
const INFLATE_CHUNK_SIZE = 64 * 1024;

/** Compression settings of one side (the `perMessageDeflate` option, normalised). */
export interface DeflateOptions {
  /** zlib level, 0-9. @default 1 (fast) */
  level: number;
  /** zlib memLevel, 1-9. @default 8 */
  memLevel: number;
  /** Messages smaller than this many bytes are sent uncompressed. @default 1024 */
  threshold: number;
  /**
   * Cap on zlib jobs running at once, shared by every connection in the process configured with
   * the same value (so one server's setting never changes another's). @default 10
   */
  concurrencyLimit: number;
}

/** Defaults of {@link DeflateOptions}. */
export const DEFLATE_DEFAULTS: Readonly<DeflateOptions> = Object.freeze({ level: 1, memLevel: 8, threshold: 1024, concurrencyLimit: 10 });

/** A decompressed message grew past the limit. */
export class InflatedTooLargeError extends Error {
  readonly code = 'WS_ERR_MESSAGE_TOO_BIG';
  constructor() {
    super('Maximum message size exceeded.');
    this.name = 'InflatedTooLargeError';
  }
}

type Job = () => void;
const noop = (): void => undefined;

/** Runs at most `limit` zlib jobs at once, in arrival order. */
export class ZlibLimiter {
  private running = 0;
  private readonly waiting: Job[] = [];

  constructor(readonly limit: number) {}

  run(job: (done: () => void) => void): void {
    const start = (): void => {
      this.running++;
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        this.running--;
        const next = this.waiting.shift();
        if (next) next();
      });
    };
    if (this.running < this.limit) start();
    else this.waiting.push(start);
  }

  get pending(): number {
    return this.waiting.length;
  }
}

const limiters = new Map<number, ZlibLimiter>();

/** The limiter shared by every connection of the process whose `concurrencyLimit` is `limit`. */
export function zlibLimiterFor(limit: number): ZlibLimiter {
  let limiter = limiters.get(limit);
  if (limiter === undefined) {
    limiter = new ZlibLimiter(limit);
    limiters.set(limit, limiter);
  }
  return limiter;
}

/** Compression state of one connection. */
export class PerMessageDeflate {
  /** The negotiated parameters. */
  readonly params: DeflateParams;
  private readonly isServer: boolean;
  private readonly options: DeflateOptions;
  private readonly limiter: ZlibLimiter;
  private deflate: DeflateRaw | null = null;
  private inflate: InflateRaw | null = null;
  private closed = false;
  /** The jobs in progress, so close() can end them: zlib may call back late, with partial output, or never. */
  private readonly inProgress = new Set<(error: Error | null) => void>();

  constructor(params: DeflateParams, isServer: boolean, options: DeflateOptions) {
    this.params = params;
    this.isServer = isServer;
    this.options = options;
    this.limiter = zlibLimiterFor(options.concurrencyLimit);
  }

  /** Whether a message of `length` bytes should be compressed before sending. */
  canCompress(length: number): boolean {
    if (length < this.options.threshold) return false;
    // zlib cannot honour an 8-bit window for its own output; sending uncompressed is always allowed.
    return this.ownWindowBits() >= ZLIB_MIN_DEFLATE_BITS;
  }

  private ownWindowBits(): number {
    return this.isServer ? this.params.serverMaxWindowBits : this.params.clientMaxWindowBits;
  }

  private peerWindowBits(): number {
    return this.isServer ? this.params.clientMaxWindowBits : this.params.serverMaxWindowBits;
  }

  private ownNoContextTakeover(): boolean {
    return this.isServer ? this.params.serverNoContextTakeover : this.params.clientNoContextTakeover;
  }

  private peerNoContextTakeover(): boolean {
    return this.isServer ? this.params.clientNoContextTakeover : this.params.serverNoContextTakeover;
  }

  /** Compress one whole message; `callback` gets the payload to send with RSV1 set. */
  compress(data: Buffer, callback: (error: Error | null, result?: Buffer) => void): void {
    this.limiter.run((done) => {
      if (this.closed) {
        done();
        callback(new Error('The connection closed before the message was compressed.'));
        return;
      }
      if (!this.deflate) {
        this.deflate = createDeflateRaw({
          level: this.options.level,
          memLevel: this.options.memLevel,
          windowBits: this.ownWindowBits(),
          // Every write ends in a sync flush, so one write is one thread-pool job (no flush() job).
          flush: zlibConstants.Z_SYNC_FLUSH,
        });
        // Errors are handled per job; this keeps a late one from becoming an uncaught exception.
        this.deflate.on('error', noop);
      }
      const deflate = this.deflate;
      const chunks: Buffer[] = [];
      let length = 0;
      let settled = false;
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        length += chunk.length;
      };
      const onError = (error: Error): void => finish(error);
      const finish = (error: Error | null): void => {
        if (settled) return;
        settled = true;
        this.inProgress.delete(finish);
        deflate.removeListener('data', onData);
        deflate.removeListener('error', onError);
        done();
        // close() freed the context mid-job: what came out is a fragment, and the context is gone.
        if (!error && this.deflate !== deflate) error = new Error('The connection closed before the message was compressed.');
        if (error) {
          this.dropDeflate();
          callback(error);
          return;
        }
        let result = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
        // A sync flush ends with an empty stored block; the RFC has us strip its 4 bytes.
        if (result.length >= 4 && result.subarray(result.length - 4).equals(TRAILER)) result = result.subarray(0, result.length - 4);
        if (this.ownNoContextTakeover()) deflate.reset();
        callback(null, result.length === 0 ? Buffer.from([0x00]) : result);
      };
      this.inProgress.add(finish);
      deflate.on('data', onData);
      deflate.once('error', onError);
      // The write callback runs once zlib has pushed all of this write's output.
      deflate.write(data, (error) => finish(error ?? null));
    });
  }

  /**
   * Decompress one whole message (its compressed fragments joined). Fails with
   * {@link InflatedTooLargeError} as soon as the output passes `maxSize` bytes.
   */
  decompress(data: Buffer, maxSize: number, callback: (error: Error | null, result?: Buffer) => void): void {
    this.limiter.run((done) => {
      if (this.closed) {
        done();
        callback(new Error('The connection closed before the message was decompressed.'));
        return;
      }
      if (!this.inflate) {
        // A larger inflate window than the peer's is always safe, and zlib's raw inflate wants at least 9.
        this.inflate = createInflateRaw({
          windowBits: Math.max(this.peerWindowBits(), ZLIB_MIN_DEFLATE_BITS),
          chunkSize: INFLATE_CHUNK_SIZE,
          // As for deflate: one write, one job, all of its output before the write callback.
          flush: zlibConstants.Z_SYNC_FLUSH,
        });
        this.inflate.on('error', noop);
      }
      const inflate = this.inflate;
      const chunks: Buffer[] = [];
      let length = 0;
      let settled = false;
      const finish = (error: Error | null): void => {
        if (settled) return;
        settled = true;
        this.inProgress.delete(finish);
        inflate.removeListener('data', onData);
        inflate.removeListener('error', onError);
        done();
        // close() freed the context mid-job: the output so far is not the message.
        if (!error && this.inflate !== inflate) error = new Error('The connection closed before the message was decompressed.');
        if (error) {
          // The context is unusable after an error or an aborted message: drop it.
          this.dropInflate();
          callback(error);
          return;
        }
        if (this.peerNoContextTakeover()) inflate.reset();
        callback(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length));
      };
      const onData = (chunk: Buffer): void => {
        length += chunk.length;
        if (length > maxSize) {
          finish(new InflatedTooLargeError());
          return;
        }
        chunks.push(chunk);
      };
      const onError = (error: Error): void => finish(error);
      this.inProgress.add(finish);
      inflate.on('data', onData);
      inflate.once('error', onError);
      // Message and trailer in one write: copying a compressed message costs less than a job.
      inflate.write(Buffer.concat([data, TRAILER], data.length + TRAILER.length), (error) => finish(error ?? null));
    });
  }

  /** Free both zlib contexts; later calls fail, and so do the jobs in progress (on the next tick). */
  close(): void {
    this.closed = true;
    this.dropDeflate();
    this.dropInflate();
    // Their limiter slots are released even if zlib never calls back after the close.
    const error = new Error('The connection closed before the message was processed.');
    for (const finish of this.inProgress) process.nextTick(finish, error);
  }

  private dropDeflate(): void {
    if (this.deflate) {
      this.deflate.close();
      this.deflate = null;
    }
  }

  private dropInflate(): void {
    if (this.inflate) {
      this.inflate.removeAllListeners('data');
      this.inflate.close();
      this.inflate = null;
    }
  }
}
