/**
 * The per-connection writer. Frames sent during one turn of the event loop are encoded into a
 * slab shared by every connection of the process and leave in one socket write on the next
 * tick: N small messages cost one syscall and no per-message allocation, and a connection that
 * is not sending holds no buffer at all. Large payloads are written as they are, never copied,
 * except a message split into many fragments, which is copied once into reused staging buffers.
 */
import { frameHeaderLength, writeFrameHeader } from './protocol/frame-encoder';
import { applyMask } from './protocol/buffer-util';
import { MAX_7BIT_LENGTH, Opcode } from './protocol/constants';

const CONTINUATION = Opcode.Continuation;

/** The socket side a Sender needs. */
export interface SenderSocket {
  write(chunk: Buffer, cb?: (error?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
  readonly writableHighWaterMark: number;
  readonly destroyed: boolean;
}

/** Callback of a send: called once the bytes are written, or with the error that prevented it. */
export type WriteCallback = (error?: Error | null) => void;

/** Payloads up to this size are copied into the slab; larger ones are written by reference. */
const COPY_LIMIT = 4096;
/** Size of a slab; a new one is taken when the current one cannot fit the next frame. */
const SLAB_SIZE = 64 * 1024;

// The process-wide slab. Written regions are never reused: each is handed to a socket as a view,
// and the slab is garbage once the last view is written. One sender at a time (the owner) has
// an unsealed region at its end, so the frames it encodes in a row stay one contiguous chunk.
let slab: Buffer = Buffer.allocUnsafe(0);
let slabUsed = 0;
let slabOwner: Sender | null = null;

/**
 * Staging buffers for messages sent as many fragments. Writing a message as hundreds of pieces
 * (a small header, then a view of the payload, per fragment) costs far more in Node's stream
 * code, libuv and the kernel than copying it once: measured on 1 MiB in 16 KiB fragments, about
 * 0.5 ms more CPU than 2 pieces, against about 0.05 ms for the copy. The copies go to buffers
 * that are reused once written, so they are already in memory (a fresh buffer would cost a page
 * fault per 4 KiB).
 */
const STAGING_SIZE = 256 * 1024;
/** Staging buffers kept for reuse, process-wide (what is kept costs this many times 256 KiB). */
const STAGING_POOL_MAX = 8;
/** From this many fragments on, a message is staged rather than written as views. */
const STAGED_MIN_FRAGMENTS = 4;
const stagingPool: Buffer[] = [];
const stagingBuffers = new WeakSet<ArrayBuffer>();

function takeStaging(): Buffer {
  const reused = stagingPool.pop();
  if (reused !== undefined) return reused;
  // Its own ArrayBuffer (never Node's shared pool), which is how a queued view is recognised.
  const fresh = Buffer.allocUnsafeSlow(STAGING_SIZE);
  stagingBuffers.add(fresh.buffer as ArrayBuffer);
  return fresh;
}

function releaseStaging(buffer: ArrayBufferLike): void {
  if (stagingPool.length < STAGING_POOL_MAX) stagingPool.push(Buffer.from(buffer as ArrayBuffer, 0, STAGING_SIZE));
}

const isStaged = (chunk: Buffer): boolean => stagingBuffers.has(chunk.buffer as ArrayBuffer);

/** Shared empty lists: a sender allocates its own only when it queues something. */
const NO_CHUNKS: Buffer[] = [];
const NO_CALLBACKS: WriteCallback[] = [];
/** Longest string whose UTF-8 form surely fits a 7-bit length (3 bytes per UTF-16 unit at most). */
const SHORT_TEXT_UNITS = Math.floor(MAX_7BIT_LENGTH / 3);

/**
 * Options of a {@link Sender}, called as methods of this object (so a connection can pass one
 * object it already has instead of allocating closures).
 */
export interface SenderOptions {
  /** A fresh masking key per frame (clients), or null (servers). */
  maskKey(): Uint8Array | null;
  /** Called when the socket can take more data after a send reported it could not. */
  onDrain?(): void;
}

/** Gathers the frames of one tick and writes them together. */
export class Sender {
  private readonly socket: SenderSocket;
  private readonly options: SenderOptions;

  /** Where this sender's unsealed region of the shared slab starts (while it is the owner). */
  private slabStart = 0;
  private queue: Buffer[] = NO_CHUNKS;
  private queuedBytes = 0;
  private callbacks: WriteCallback[] = NO_CALLBACKS;
  /** How many queued chunks are views of staging buffers (to hand back once written). */
  private stagedChunks = 0;
  private scheduled = false;
  private reportedFull = false;

  constructor(socket: SenderSocket, options: SenderOptions) {
    this.socket = socket;
    this.options = options;
  }

  /** Bytes accepted but not yet handed to the socket, plus the socket's own buffer. */
  get bufferedAmount(): number {
    return this.queuedBytes + (slabOwner === this ? slabUsed - this.slabStart : 0) + this.socket.writableLength;
  }

  /** Queue one frame with a text payload, encoded straight into the slab. */
  text(opcode: number, text: string, fin: boolean, rsv1: boolean, cb?: WriteCallback): boolean {
    const maskKey = this.options.maskKey();
    if (text.length <= SHORT_TEXT_UNITS) {
      // Short text: write the bytes first and fill in the 7-bit length after, so the string is
      // scanned once.
      const headerLength = maskKey ? 6 : 2;
      const at = this.reserve(headerLength + text.length * 3);
      const written = slab.write(text, at + headerLength, 'utf8');
      writeFrameHeader(slab, at, opcode, written, { fin, rsv1, maskKey });
      if (maskKey) applyMask(slab, at + headerLength, slab, at + headerLength, written, maskKey);
      slabUsed = at + headerLength + written;
      return this.queued(cb);
    }
    const byteLength = Buffer.byteLength(text);
    if (byteLength > COPY_LIMIT) return this.frame(opcode, Buffer.from(text, 'utf8'), fin, rsv1, cb, maskKey);
    const headerLength = frameHeaderLength(byteLength, maskKey !== null);
    const at = this.reserve(headerLength + byteLength);
    writeFrameHeader(slab, at, opcode, byteLength, { fin, rsv1, maskKey });
    slab.write(text, at + headerLength, 'utf8');
    if (maskKey) applyMask(slab, at + headerLength, slab, at + headerLength, byteLength, maskKey);
    slabUsed = at + headerLength + byteLength;
    return this.queued(cb);
  }

  /** Queue one frame. The payload is copied only when small, or when it must be masked. */
  frame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean, cb?: WriteCallback, key?: Uint8Array | null): boolean {
    const maskKey = key === undefined ? this.options.maskKey() : key;
    const length = payload.length;
    const headerLength = frameHeaderLength(length, maskKey !== null);
    if (length <= COPY_LIMIT) {
      const at = this.reserve(headerLength + length);
      writeFrameHeader(slab, at, opcode, length, { fin, rsv1, maskKey });
      if (maskKey) applyMask(payload, 0, slab, at + headerLength, length, maskKey);
      else slab.set(payload, at + headerLength);
      slabUsed = at + headerLength + length;
      return this.queued(cb);
    }
    if (maskKey) {
      // Masking must not change the caller's bytes: mask into a copy.
      const frame = Buffer.allocUnsafe(headerLength + length);
      writeFrameHeader(frame, 0, opcode, length, { fin, rsv1, maskKey });
      applyMask(payload, 0, frame, headerLength, length, maskKey);
      this.push(frame);
      return this.queued(cb);
    }
    const at = this.reserve(headerLength);
    writeFrameHeader(slab, at, opcode, length, { fin, rsv1, maskKey: null });
    slabUsed = at + headerLength;
    this.push(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, length));
    return this.queued(cb);
  }

  /**
   * Queue one message as frames of at most `fragmentSize` payload bytes (RSV1 on the first
   * only). A message of many fragments is copied with its headers into staging buffers; a few
   * fragments are queued as views of `payload`.
   */
  fragments(opcode: number, payload: Uint8Array, fragmentSize: number, rsv1: boolean, cb?: WriteCallback): boolean {
    const length = payload.length;
    if (length <= fragmentSize * (STAGED_MIN_FRAGMENTS - 1)) {
      let flushed = true;
      let offset = 0;
      do {
        const end = Math.min(offset + fragmentSize, length);
        const last = end === length;
        flushed = this.frame(offset === 0 ? opcode : CONTINUATION, payload.subarray(offset, end), last, rsv1 && offset === 0, last ? cb : undefined);
        offset = end;
      } while (offset < length);
      return flushed;
    }
    this.sealSlab();
    let stage = takeStaging();
    let used = 0;
    const cut = (): void => {
      this.enqueue(stage.subarray(0, used));
      this.stagedChunks++;
      stage = takeStaging();
      used = 0;
    };
    for (let offset = 0; offset < length; ) {
      const end = Math.min(offset + fragmentSize, length);
      const maskKey = this.options.maskKey();
      const headerLength = frameHeaderLength(end - offset, maskKey !== null);
      if (STAGING_SIZE - used < headerLength) cut();
      writeFrameHeader(stage, used, offset === 0 ? opcode : CONTINUATION, end - offset, { fin: end === length, rsv1: rsv1 && offset === 0, maskKey });
      used += headerLength;
      // A fragment's payload continues into the next staging buffer when this one is full.
      for (let from = offset; from < end; ) {
        if (used === STAGING_SIZE) cut();
        const n = Math.min(end - from, STAGING_SIZE - used);
        if (maskKey) applyMask(payload, from, stage, used, n, maskKey, (from - offset) & 3);
        else stage.set(payload.subarray(from, from + n), used);
        used += n;
        from += n;
      }
      offset = end;
    }
    if (used > 0) {
      this.enqueue(stage.subarray(0, used));
      this.stagedChunks++;
    } else {
      releaseStaging(stage.buffer);
    }
    return this.queued(cb);
  }

  /** Queue bytes that are already whole frames (encoded once for many connections). */
  raw(frames: readonly Buffer[], cb?: WriteCallback): boolean {
    for (const frame of frames) this.push(frame);
    return this.queued(cb);
  }

  /** Hand everything queued to the socket now (before `end()`, or at the end of a tick). */
  flush(): void {
    this.scheduled = false;
    this.sealSlab();
    const queue = this.queue;
    if (queue.length === 0) return;
    const callbacks = this.callbacks;
    const staged = this.stagedChunks;
    this.queue = NO_CHUNKS;
    this.queuedBytes = 0;
    this.callbacks = NO_CALLBACKS;
    this.stagedChunks = 0;
    const socket = this.socket;
    if (socket.destroyed) {
      const error = new Error('The socket was destroyed before the data could be written.');
      for (const cb of callbacks) process.nextTick(cb, error);
      if (staged > 0) for (const chunk of queue) if (isStaged(chunk)) releaseStaging(chunk.buffer);
      return;
    }
    const done = callbacks.length === 0 ? undefined : callbacks.length === 1 ? callbacks[0] : (error?: Error | null) => {
      for (const cb of callbacks) cb(error);
    };
    let flushed: boolean;
    if (staged > 0) {
      socket.cork();
      const last = queue.length - 1;
      for (let i = 0; i < last; i++) writeChunk(socket, queue[i]);
      flushed = writeChunk(socket, queue[last], done);
      socket.uncork();
    } else if (queue.length === 1) {
      flushed = socket.write(queue[0], done);
    } else {
      socket.cork();
      const last = queue.length - 1;
      for (let i = 0; i < last; i++) socket.write(queue[i]);
      flushed = socket.write(queue[last], done);
      socket.uncork();
    }
    if (flushed && this.reportedFull) {
      // A send said "full" while the bytes were still queued, but the socket took them all
      // without filling up, so the socket itself will never emit 'drain': report it here.
      this.reportedFull = false;
      if (this.options.onDrain) process.nextTick(notifyDrain, this.options);
    } else if (!flushed) {
      this.reportedFull = false;
    }
  }

  /** Forget everything queued (the connection is being destroyed). */
  discard(): void {
    const callbacks = this.callbacks;
    // Never handed to the socket: the staging buffers can be reused at once.
    if (this.stagedChunks > 0) for (const chunk of this.queue) if (isStaged(chunk)) releaseStaging(chunk.buffer);
    this.stagedChunks = 0;
    this.queue = NO_CHUNKS;
    this.queuedBytes = 0;
    this.callbacks = NO_CALLBACKS;
    // Written but unsealed bytes are simply abandoned (the region is never reused).
    if (slabOwner === this) slabOwner = null;
    const error = new Error('The connection closed before the data could be written.');
    for (const cb of callbacks) process.nextTick(cb, error);
  }

  /** Offset in the slab where `bytes` can be written (a fresh slab when they do not fit). */
  private reserve(bytes: number): number {
    if (slabOwner !== this) {
      // Another sender's frames end the slab: close its region so ours starts a new one.
      if (slabOwner !== null) slabOwner.sealSlab();
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the slab records which sender owns its open region
      slabOwner = this;
      this.slabStart = slabUsed;
    }
    if (slab.length - slabUsed < bytes) {
      this.sealSlab();
      slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, bytes));
      slabUsed = 0;
      this.slabStart = 0;
    }
    return slabUsed;
  }

  /** Move the slab bytes this sender wrote since its last seal into its queue. */
  private sealSlab(): void {
    if (slabOwner === this && slabUsed > this.slabStart) {
      this.enqueue(slab.subarray(this.slabStart, slabUsed));
      this.slabStart = slabUsed;
    }
  }

  private push(buffer: Buffer): void {
    this.sealSlab();
    this.enqueue(buffer);
  }

  private enqueue(chunk: Buffer): void {
    if (this.queue === NO_CHUNKS) this.queue = [chunk];
    else this.queue.push(chunk);
    this.queuedBytes += chunk.length;
  }

  private queued(cb?: WriteCallback): boolean {
    if (cb) {
      if (this.callbacks === NO_CALLBACKS) this.callbacks = [cb];
      else this.callbacks.push(cb);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(flushSender, this);
    }
    const full = this.bufferedAmount >= this.socket.writableHighWaterMark;
    if (full) this.reportedFull = true;
    return !full;
  }
}

/** Write one queued chunk; a staging buffer goes back to the pool once the socket is done with it. */
function writeChunk(socket: SenderSocket, chunk: Buffer, cb?: WriteCallback): boolean {
  if (!isStaged(chunk)) return socket.write(chunk, cb);
  const owner = chunk.buffer;
  return socket.write(chunk, (error) => {
    releaseStaging(owner);
    if (cb) cb(error);
  });
}

function notifyDrain(options: SenderOptions): void {
  options.onDrain?.();
}

function flushSender(sender: Sender): void {
  sender.flush();
}
