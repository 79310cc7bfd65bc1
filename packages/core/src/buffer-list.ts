/**
 * A queue of received Buffers with WebSocketNode's FastBufferList interface, for code that
 * drives `WebSocketFrame.addData()` itself. The connection does not use it (it has FrameParser).
 */
import { EventEmitter } from 'node:events';

/** The byte source `WebSocketFrame.addData()` reads from. */
export interface BufferListLike {
  readonly length: number;
  joinInto(target: Buffer, targetStart: number, sourceStart: number, sourceEnd: number): Buffer;
  advance(n: number): this;
  take(n: number): Buffer;
}

/** A linked list of Buffers read from the front. */
export class BufferList extends EventEmitter implements BufferListLike {
  private buffers: Buffer[] = [];
  private offset = 0;
  private total = 0;

  /** Bytes available. */
  get length(): number {
    return this.total;
  }

  /** Append a buffer (emits `write`). */
  write(buffer: Buffer): boolean {
    this.push(buffer);
    this.emit('write', buffer);
    return true;
  }

  /** Append buffers without emitting. */
  push(...buffers: Buffer[]): this {
    for (const buffer of buffers) {
      if (buffer.length === 0) continue;
      this.buffers.push(buffer);
      this.total += buffer.length;
    }
    return this;
  }

  /** Emit `end`. */
  end(buffer?: Buffer): void {
    if (buffer) this.write(buffer);
    this.emit('end');
  }

  /** Copy bytes `[sourceStart, sourceEnd)` of the list into `target` at `targetStart`. */
  joinInto(target: Buffer, targetStart: number, sourceStart: number, sourceEnd: number): Buffer {
    if (sourceEnd - sourceStart > target.length - targetStart || sourceEnd > this.total) {
      throw new Error('Insufficient space available in target Buffer.');
    }
    let skip = this.offset + sourceStart;
    let written = 0;
    const want = sourceEnd - sourceStart;
    for (const buffer of this.buffers) {
      if (written >= want) break;
      if (skip >= buffer.length) {
        skip -= buffer.length;
        continue;
      }
      const n = Math.min(buffer.length - skip, want - written);
      buffer.copy(target, targetStart + written, skip, skip + n);
      written += n;
      skip = 0;
    }
    return target;
  }

  /** Copy `[start, end)` into a new Buffer. */
  join(start = 0, end = this.total): Buffer {
    return this.joinInto(Buffer.allocUnsafe(end - start), 0, start, end);
  }

  /** Drop `n` bytes from the front (emits `advance`). */
  advance(n: number): this {
    let left = Math.min(n, this.total);
    this.total -= left;
    while (left > 0) {
      const available = this.buffers[0].length - this.offset;
      if (left < available) {
        this.offset += left;
        break;
      }
      left -= available;
      this.buffers.shift();
      this.offset = 0;
    }
    this.emit('advance', n);
    return this;
  }

  /** The first `n` bytes (a copy), without consuming them; a string when an encoding is given. */
  take(n?: number): Buffer;
  take(n: number | undefined, encoding: BufferEncoding): string;
  take(encoding: BufferEncoding): string;
  take(n?: number | BufferEncoding, encoding?: BufferEncoding): Buffer | string {
    if (typeof n === 'string') {
      encoding = n;
      n = undefined;
    }
    const bytes = this.join(0, Math.min(n ?? this.total, this.total));
    return encoding ? bytes.toString(encoding) : bytes;
  }

  /** Call `fn` with each buffer (the first one trimmed to the unread part). */
  forEach(fn: (buffer: Buffer) => void): void {
    this.buffers.forEach((buffer, i) => fn(i === 0 ? buffer.subarray(this.offset) : buffer));
  }

  /** The content as a string, decoded as 'binary' (latin1) like WebSocket-Node. */
  override toString(): string {
    return this.take('latin1');
  }
}
