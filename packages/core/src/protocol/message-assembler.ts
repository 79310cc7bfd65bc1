/**
 * Turns data frames into messages: joins fragments, enforces the message size limit on every
 * frame, and validates text as UTF-8 fragment by fragment, failing at the first bad fragment.
 */
import { Opcode } from './constants';
import { WebSocketProtocolError } from './errors';
import { concatBuffers } from './buffer-util';
import { Utf8Validator, isValidUtf8 } from './utf8';

/** Where finished messages and the first violation go. */
export interface MessageSink {
  onMessage(isText: boolean, data: Buffer): void;
  onError(error: WebSocketProtocolError): void;
}

/** Options of a {@link MessageAssembler}. */
export interface MessageAssemblerOptions {
  /** Largest message accepted, in bytes, across all its fragments. */
  maxMessageSize: number;
}

/** Assembles the data frames of one connection (frames must already be in a valid order). */
export class MessageAssembler {
  private readonly sink: MessageSink;
  private maxMessageSize: number;
  private fragments: Buffer[] = [];
  private size = 0;
  private isText = false;
  private readonly utf8 = new Utf8Validator();
  // Bytes of the current frame already checked through pushPartial().
  private partialBytes = 0;
  private partialActive = false;

  constructor(options: MessageAssemblerOptions, sink: MessageSink) {
    this.sink = sink;
    this.maxMessageSize = options.maxMessageSize;
  }

  /** Bytes of the message being assembled so far. */
  get pendingBytes(): number {
    return this.size;
  }

  /**
   * The first bytes of a data frame still arriving: text is UTF-8 checked at once, so invalid
   * text fails before the rest of a slow frame arrives. The whole frame still comes to `push`.
   */
  pushPartial(opcode: number, bytes: Buffer): boolean {
    if (!this.partialActive) {
      if (opcode !== Opcode.Continuation) this.startMessage(opcode);
      this.partialActive = true;
      this.partialBytes = 0;
    }
    const room = this.maxMessageSize - this.size - this.partialBytes;
    // The first violation in byte order wins, however the bytes were split: text that fits under
    // the limit is checked before the size is.
    if (this.isText && !this.utf8.push(bytes.length > room ? bytes.subarray(0, Math.max(0, room)) : bytes, false)) {
      return this.fail(new WebSocketProtocolError('WS_ERR_INVALID_UTF8'));
    }
    if (bytes.length > room) return this.fail(new WebSocketProtocolError('WS_ERR_MESSAGE_TOO_BIG'));
    this.partialBytes += bytes.length;
    return true;
  }

  /** Add one data frame (text, binary or continuation). Returns false after a violation. */
  push(opcode: number, fin: boolean, payload: Buffer): boolean {
    const checked = this.partialActive ? this.partialBytes : 0;
    if (!this.partialActive && opcode !== Opcode.Continuation) this.startMessage(opcode);
    this.partialActive = false;
    this.partialBytes = 0;
    const room = this.maxMessageSize - this.size;
    this.size += payload.length;
    if (this.size > this.maxMessageSize) {
      // As in pushPartial: invalid text before the limit is the first violation.
      if (this.isText && room > checked && !this.utf8.push(payload.subarray(checked, room), false)) {
        return this.fail(new WebSocketProtocolError('WS_ERR_INVALID_UTF8'));
      }
      return this.fail(new WebSocketProtocolError('WS_ERR_MESSAGE_TOO_BIG'));
    }
    if (this.isText) {
      let valid: boolean;
      if (checked > 0) valid = this.utf8.push(payload.subarray(checked), fin);
      else valid = fin && this.fragments.length === 0 ? isValidUtf8(payload) : this.utf8.push(payload, fin);
      if (!valid) return this.fail(new WebSocketProtocolError('WS_ERR_INVALID_UTF8'));
    }
    if (!fin) {
      this.fragments.push(payload);
      return true;
    }
    let data = payload;
    if (this.fragments.length > 0) {
      this.fragments.push(payload);
      data = concatBuffers(this.fragments, this.size);
      this.fragments = [];
    }
    this.size = 0;
    this.sink.onMessage(this.isText, data);
    return true;
  }

  private startMessage(opcode: number): void {
    this.isText = opcode === Opcode.Text;
    this.size = 0;
    this.fragments = [];
    this.utf8.reset();
  }

  /** Change the message size limit. */
  setMaxMessageSize(bytes: number): void {
    this.maxMessageSize = bytes;
  }

  private fail(error: WebSocketProtocolError): false {
    this.fragments = [];
    this.size = 0;
    this.partialActive = false;
    this.partialBytes = 0;
    this.sink.onError(error);
    return false;
  }
}
