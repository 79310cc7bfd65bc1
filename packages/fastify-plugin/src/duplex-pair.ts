/**
 * Two in-memory Duplex streams wired to each other, standing in for the two ends of a TCP
 * connection: what one end writes, the other reads. Used by `injectWS` to talk to the server
 * without a port.
 */
import { Duplex } from 'node:stream';

/** One end of a {@link createDuplexPair} pair: a Duplex with the socket methods core calls. */
export class PairedSocket extends Duplex {
  /** The address the other end reports for this one (`request.socket.remoteAddress`). */
  remoteAddress = '127.0.0.1';
  /** Set by {@link createDuplexPair}. */
  peer!: PairedSocket;
  // A write the peer has not read yet: its callback waits for the peer's _read (backpressure).
  private pendingWrite: (() => void) | null = null;
  // True once this end has pushed end-of-stream to the peer: nothing may follow it.
  private eofSent = false;

  override _read(): void {
    const resume = this.peer.pendingWrite;
    this.peer.pendingWrite = null;
    resume?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Delivered on a later tick, as from a real socket: a synchronous round trip would let the
    // peer's answer arrive while the writer is still in the middle of the call that wrote.
    process.nextTick(() => {
      if (this.eofSent || this.peer.destroyed) callback();
      else if (this.peer.push(chunk)) callback();
      else this.pendingWrite = () => callback();
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    process.nextTick(() => {
      this.sendEof();
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Like a TCP reset seen from the other side: the peer reads end of stream.
    process.nextTick(() => this.sendEof());
    const resume = this.peer.pendingWrite;
    this.peer.pendingWrite = null;
    resume?.();
    callback(error);
  }

  private sendEof(): void {
    if (this.eofSent) return;
    this.eofSent = true;
    if (!this.peer.destroyed) this.peer.push(null);
  }

  /** No-op: there is no Nagle algorithm in memory. */
  setNoDelay(): this {
    return this;
  }

  /** No-op: in-memory streams have no idle timeout. */
  setTimeout(): this {
    return this;
  }

  /** No-op: in-memory streams need no TCP keepalive. */
  setKeepAlive(): this {
    return this;
  }
}

/** A connected pair: `[client, server]`. */
export function createDuplexPair(): [PairedSocket, PairedSocket] {
  const client = new PairedSocket();
  const server = new PairedSocket();
  client.peer = server;
  server.peer = client;
  return [client, server];
}
