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

  constructor(options: MessageAssemblerOptions, sink: MessageSink) {
    this.sink = sink;
    this.maxMessageSize = options.maxMessageSize;
  }

  /** Bytes of the message being assembled so far. */
  get pendingBytes(): number {
    return this.size;
  }

  /** Add one data frame (text, binary or continuation). Returns false after a violation. */
  push(opcode: number, fin: boolean, payload: Buffer): boolean {
    if (opcode !== Opcode.Continuation) {
      this.isText = opcode === Opcode.Text;
      this.size = 0;
      this.fragments = [];
      this.utf8.reset();
    }
    this.size += payload.length;
    if (this.size > this.maxMessageSize) return this.fail(new WebSocketProtocolError('WS_ERR_MESSAGE_TOO_BIG'));
    if (this.isText) {
      const valid = fin && this.fragments.length === 0 ? isValidUtf8(payload) : this.utf8.push(payload, fin);
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

  /** Change the message size limit. */
  setMaxMessageSize(bytes: number): void {
    this.maxMessageSize = bytes;
  }

  private fail(error: WebSocketProtocolError): false {
    this.fragments = [];
    this.size = 0;
    this.sink.onError(error);
    return false;
  }
}
