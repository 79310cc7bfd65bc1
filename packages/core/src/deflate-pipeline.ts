/**
 * The two asynchronous paths permessage-deflate adds to a connection: receiving a compressed
 * message (gather, inflate under the size limit, check UTF-8, deliver in order) and sending
 * with compression (an ordered queue, so a message compressed in the background never lets a
 * later frame overtake it).
 */
import { Opcode } from './protocol/constants';
import { WebSocketProtocolError } from './protocol/errors';
import { concatBuffers } from './protocol/buffer-util';
import { isValidUtf8 } from './protocol/utf8';
import { InflatedTooLargeError, type PerMessageDeflate } from './permessage-deflate';

/** What a {@link CompressedReceiver} needs from its connection. */
export interface CompressedReceiverHooks {
  /** Stop reading frames while a message inflates (keeps messages in order). */
  pause(): void;
  /** Continue reading frames. */
  resume(): void;
  /** A complete, decompressed, valid message. */
  onMessage(isText: boolean, data: Buffer): void;
  /** The message broke a rule (1007 corrupt data or bad UTF-8, 1009 too big). */
  onError(error: WebSocketProtocolError): void;
}

/** Receives the compressed messages of one connection. */
export class CompressedReceiver {
  private fragments: Buffer[] | null = null;
  private size = 0;
  private isText = false;
  private inflating = false;

  constructor(
    private readonly deflate: PerMessageDeflate,
    private readonly maxMessageSize: number,
    private readonly hooks: CompressedReceiverHooks,
  ) {}

  /** True between the first frame of a compressed message and its last. */
  get active(): boolean {
    return this.fragments !== null;
  }

  /** True while a message is being decompressed. */
  get busy(): boolean {
    return this.inflating;
  }

  /** Add a data frame of a compressed message (the first one had RSV1). */
  push(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode !== Opcode.Continuation) {
      this.fragments = [];
      this.size = 0;
      this.isText = opcode === Opcode.Text;
    }
    const fragments = this.fragments as Buffer[];
    this.size += payload.length;
    // Compressed bytes count against the limit too: they are held until the message ends.
    if (this.size > this.maxMessageSize) {
      this.fragments = null;
      this.hooks.onError(new WebSocketProtocolError('WS_ERR_MESSAGE_TOO_BIG'));
      return;
    }
    fragments.push(payload);
    if (!fin) return;
    const data = concatBuffers(fragments, this.size);
    this.fragments = null;
    const isText = this.isText;
    this.inflating = true;
    this.hooks.pause();
    this.deflate.decompress(data, this.maxMessageSize, (error, result) => {
      this.inflating = false;
      if (error) {
        this.hooks.onError(
          error instanceof InflatedTooLargeError
            ? new WebSocketProtocolError('WS_ERR_MESSAGE_TOO_BIG')
            : new WebSocketProtocolError('WS_ERR_INVALID_COMPRESSED_DATA', error.message),
        );
        return;
      }
      const message = result as Buffer;
      if (isText && !isValidUtf8(message)) {
        this.hooks.onError(new WebSocketProtocolError('WS_ERR_INVALID_UTF8'));
        return;
      }
      this.hooks.onMessage(isText, message);
      this.hooks.resume();
    });
  }
}

/** One step of a {@link SendQueue}; call `done` when its bytes are handed to the sender. */
export type SendStep = (done: () => void) => void;

/**
 * Runs send steps strictly in order. While a step is in progress (a message compressing in the
 * background), later steps wait; when nothing is pending, a step runs at once.
 */
export class SendQueue {
  private readonly steps: Array<{ step: SendStep; bytes: number; discard?: () => void }> = [];
  private running = false;
  /** Payload bytes waiting in queued steps (counted in `bufferedAmount`). */
  pendingBytes = 0;

  /** True while a step is running or waiting. */
  get busy(): boolean {
    return this.running;
  }

  /**
   * Run `step` after every step added before it. `bytes` were added to `pendingBytes` for it
   * (the step itself takes them off when it runs); `discard` runs instead if it never does.
   */
  add(step: SendStep, bytes = 0, discard?: () => void): void {
    this.steps.push({ step, bytes, discard });
    if (!this.running) this.next();
  }

  /** Forget every waiting step (the connection is gone), telling each one's sender. */
  clear(): void {
    const dropped = this.steps.splice(0);
    for (const { bytes, discard } of dropped) {
      this.pendingBytes -= bytes;
      if (discard) discard();
    }
  }

  private next(): void {
    // A loop, not recursion: thousands of queued synchronous steps must not grow the stack.
    for (;;) {
      const step = this.steps.shift()?.step;
      if (!step) {
        this.running = false;
        return;
      }
      this.running = true;
      let inStep = true;
      let finishedInStep = false;
      let finished = false;
      step(() => {
        if (finished) return;
        finished = true;
        if (inStep) finishedInStep = true;
        else this.next();
      });
      inStep = false;
      if (!finishedInStep) return;
    }
  }
}
