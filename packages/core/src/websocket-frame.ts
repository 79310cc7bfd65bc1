/**
 * WebSocketFrame: WebSocket-Node's frame object (`require('@wsuite/core').frame`), with its
 * fields, incremental `addData()` parser and `toBuffer()` encoder. Connections parse with the
 * faster FrameParser and only build these objects for `frame` events and `sendFrame()`.
 */
import { CONTROL_OPCODE_MIN, MAX_CONTROL_PAYLOAD, Opcode } from './protocol/constants';
import { applyMask, EMPTY_BUFFER } from './protocol/buffer-util';
import { encodeFrame } from './protocol/frame-encoder';
import { nextMaskKey } from './protocol/mask-key';
import type { BufferListLike } from './buffer-list';

/** `parseState` values, as WebSocket-Node numbers them. */
export const FrameParseState = {
  DECODE_HEADER: 1,
  WAITING_FOR_16_BIT_LENGTH: 2,
  WAITING_FOR_64_BIT_LENGTH: 3,
  WAITING_FOR_MASK_KEY: 4,
  WAITING_FOR_PAYLOAD: 5,
  COMPLETE: 6,
} as const;

/** The config keys a frame reads. */
export interface FrameConfig {
  maxReceivedFrameSize?: number;
}

/** One WebSocket frame. */
export class WebSocketFrame {
  maskBytes: Buffer;
  frameHeader: Buffer;
  config: FrameConfig;
  maxReceivedFrameSize: number;
  protocolError = false;
  frameTooLarge = false;
  invalidCloseFrameLength = false;
  parseState: number = FrameParseState.DECODE_HEADER;
  closeStatus = -1;
  fin = false;
  rsv1 = false;
  rsv2 = false;
  rsv3 = false;
  mask = false;
  opcode = 0;
  length = 0;
  binaryPayload: Buffer | undefined;
  dropReason: string | undefined;

  /**
   * @param maskBytes a 4-byte scratch buffer (the mask key goes there)
   * @param frameHeader a 10-byte scratch buffer
   * @param config reads `maxReceivedFrameSize`
   */
  constructor(maskBytes?: Buffer, frameHeader?: Buffer, config?: FrameConfig) {
    this.maskBytes = maskBytes ?? Buffer.alloc(4);
    this.frameHeader = frameHeader ?? Buffer.alloc(10);
    this.config = config ?? {};
    this.maxReceivedFrameSize = this.config.maxReceivedFrameSize ?? Infinity;
  }

  /** A complete frame built from what FrameParser delivered. */
  static fromParsed(opcode: number, fin: boolean, rsv1: boolean, payload: Buffer, masked: boolean, config: FrameConfig): WebSocketFrame {
    const frame = new WebSocketFrame(undefined, undefined, config);
    frame.opcode = opcode;
    frame.fin = fin;
    frame.rsv1 = rsv1;
    frame.mask = masked;
    frame.length = payload.length;
    frame.binaryPayload = payload;
    frame.parseState = FrameParseState.COMPLETE;
    if (opcode === Opcode.Close) frame.splitClosePayload();
    return frame;
  }

  /**
   * Parse from `bufferList`. Returns true when the frame is complete or an error flag is set,
   * false when more bytes are needed.
   */
  addData(bufferList: BufferListLike): boolean {
    if (this.parseState === FrameParseState.DECODE_HEADER && bufferList.length >= 2) {
      bufferList.joinInto(this.frameHeader, 0, 0, 2);
      bufferList.advance(2);
      const b0 = this.frameHeader[0];
      const b1 = this.frameHeader[1];
      this.fin = (b0 & 0x80) !== 0;
      this.rsv1 = (b0 & 0x40) !== 0;
      this.rsv2 = (b0 & 0x20) !== 0;
      this.rsv3 = (b0 & 0x10) !== 0;
      this.mask = (b1 & 0x80) !== 0;
      this.opcode = b0 & 0x0f;
      this.length = b1 & 0x7f;
      if (this.opcode >= CONTROL_OPCODE_MIN) {
        if (this.length > MAX_CONTROL_PAYLOAD) return this.error('Illegal control frame longer than 125 bytes.');
        if (!this.fin) return this.error('Control frames must not be fragmented.');
      }
      this.parseState =
        this.length === 126 ? FrameParseState.WAITING_FOR_16_BIT_LENGTH : this.length === 127 ? FrameParseState.WAITING_FOR_64_BIT_LENGTH : FrameParseState.WAITING_FOR_MASK_KEY;
    }
    if (this.parseState === FrameParseState.WAITING_FOR_16_BIT_LENGTH && bufferList.length >= 2) {
      bufferList.joinInto(this.frameHeader, 2, 0, 2);
      bufferList.advance(2);
      this.length = this.frameHeader.readUInt16BE(2);
      this.parseState = FrameParseState.WAITING_FOR_MASK_KEY;
    } else if (this.parseState === FrameParseState.WAITING_FOR_64_BIT_LENGTH && bufferList.length >= 8) {
      bufferList.joinInto(this.frameHeader, 2, 0, 8);
      bufferList.advance(8);
      if (this.frameHeader.readUInt32BE(2) !== 0) return this.error('Unsupported 64-bit length frame received');
      this.length = this.frameHeader.readUInt32BE(6);
      this.parseState = FrameParseState.WAITING_FOR_MASK_KEY;
    }
    if (this.parseState === FrameParseState.WAITING_FOR_MASK_KEY) {
      if (!this.mask) this.parseState = FrameParseState.WAITING_FOR_PAYLOAD;
      else if (bufferList.length >= 4) {
        bufferList.joinInto(this.maskBytes, 0, 0, 4);
        bufferList.advance(4);
        this.parseState = FrameParseState.WAITING_FOR_PAYLOAD;
      }
    }
    if (this.parseState === FrameParseState.WAITING_FOR_PAYLOAD) {
      if (this.length > this.maxReceivedFrameSize) {
        this.frameTooLarge = true;
        this.dropReason = `Frame size of ${this.length} bytes exceeds maximum accepted frame size`;
        return true;
      }
      if (this.length === 0) {
        this.binaryPayload = EMPTY_BUFFER;
        this.parseState = FrameParseState.COMPLETE;
        return true;
      }
      if (bufferList.length >= this.length) {
        this.binaryPayload = bufferList.take(this.length);
        bufferList.advance(this.length);
        if (this.mask) applyMask(this.binaryPayload, 0, this.binaryPayload, 0, this.length, this.maskBytes);
        if (this.opcode === Opcode.Close) this.splitClosePayload();
        this.parseState = FrameParseState.COMPLETE;
        return true;
      }
    }
    return false;
  }

  /** Skip the payload in `bufferList` once it is all there. */
  throwAwayPayload(bufferList: BufferListLike): boolean {
    if (bufferList.length >= this.length) {
      bufferList.advance(this.length);
      this.parseState = FrameParseState.COMPLETE;
      return true;
    }
    return false;
  }

  /** Serialize the frame (masked with a fresh random key when `mask` is set; zero key with `nullMask`). */
  toBuffer(nullMask?: boolean): Buffer {
    let payload = this.binaryPayload ?? EMPTY_BUFFER;
    if (this.opcode === Opcode.Close) {
      if (this.closeStatus < 0 || this.closeStatus > 0xffff) throw new RangeError(`Close frame status ${this.closeStatus} is out of range.`);
      const close = Buffer.allocUnsafe(2 + payload.length);
      close.writeUInt16BE(this.closeStatus, 0);
      payload.copy(close, 2);
      payload = close;
    }
    this.length = payload.length;
    let maskKey: Uint8Array | null = null;
    if (this.mask) {
      maskKey = nullMask ? new Uint8Array(4) : nextMaskKey();
      this.maskBytes.set(maskKey);
    }
    const parts = encodeFrame(this.opcode & 0x0f, payload, { fin: this.fin, rsv1: this.rsv1, maskKey });
    const out = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (this.rsv2) out[0] |= 0x20;
    if (this.rsv3) out[0] |= 0x10;
    return out;
  }

  /** A one-line description for debugging. */
  toString(): string {
    return `Opcode: ${this.opcode}, fin: ${this.fin}, length: ${this.length}, hasPayload: ${Boolean(this.binaryPayload)}, masked: ${this.mask}`;
  }

  private error(reason: string): true {
    this.protocolError = true;
    this.dropReason = reason;
    return true;
  }

  private splitClosePayload(): void {
    const payload = this.binaryPayload ?? EMPTY_BUFFER;
    if (payload.length === 1) {
      this.invalidCloseFrameLength = true;
      this.binaryPayload = EMPTY_BUFFER;
    } else if (payload.length >= 2) {
      this.closeStatus = payload.readUInt16BE(0);
      this.binaryPayload = payload.subarray(2);
    }
  }
}
