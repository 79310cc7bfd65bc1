/**
 * The streaming frame parser: bytes in, frames out. It resumes at any byte boundary, returns
 * views into the received chunks when a payload lies in one of them, unmasks in place, and
 * checks every frame-level rule of RFC 6455 §5 before the payload is read.
 */
import {
  CONTROL_OPCODE_MIN,
  FIN_BIT,
  LENGTH_16BIT_MARKER,
  LENGTH_64BIT_MARKER,
  LENGTH_MASK,
  MASK_BIT,
  MASK_KEY_BYTES,
  MAX_CONTROL_PAYLOAD,
  MAX_HEADER_BYTES,
  OPCODE_MASK,
  Opcode,
  RSV1_BIT,
  RSV2_BIT,
  RSV3_BIT,
} from './constants';
import { WebSocketProtocolError } from './errors';
import { applyMask, EMPTY_BUFFER } from './buffer-util';

/** Where parsed frames and the first protocol error go. */
export interface FrameSink {
  /** A complete, valid, unmasked frame. `payload` may be a view into received bytes. */
  onFrame(opcode: number, fin: boolean, rsv1: boolean, payload: Buffer, masked: boolean): void;
  /** The first violation; the parser ignores all later input. */
  onError(error: WebSocketProtocolError): void;
  /**
   * Optional: the unmasked bytes of a data frame that arrived so far, when the frame is still
   * incomplete after a read (so text can be checked as it streams in). The whole payload still
   * follows through `onFrame`; `bytes` is only valid during the call.
   */
  onPartialPayload?(opcode: number, rsv1: boolean, bytes: Buffer): void;
}

/** Options of a {@link FrameParser}. */
export interface FrameParserOptions {
  /** Largest accepted payload of one frame, in bytes (0 means no limit). */
  maxFrameSize: number;
  /**
   * `true`: every frame must be masked (a server reading a client). `false`: no frame may be
   * masked (a client reading a server). `null`: accept both.
   */
  expectMasked: boolean | null;
  /** RSV bits an extension has negotiated; any other RSV bit is a protocol error. */
  allowedRsv?: number;
  /** Check the order of fragments (continuations only inside a message, no data frame inside one). */
  checkFragmentation?: boolean;
}

// Parsing is synchronous, and a header is read and used within one call, so every parser can
// share these scratch buffers (two fewer allocations per connection).
const HEADER_SCRATCH = Buffer.alloc(MAX_HEADER_BYTES);
const MASK_SCRATCH = Buffer.alloc(MASK_KEY_BYTES);

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_FAILED = 2;

/** A streaming RFC 6455 frame parser. Feed it with {@link FrameParser.push}. */
export class FrameParser {
  private readonly sink: FrameSink;
  private maxFrameSize: number;
  private readonly expectMasked: boolean | null;
  private allowedRsv: number;
  private readonly checkFragmentation: boolean;

  private chunks: Buffer[] = [];
  private offset = 0;
  private buffered = 0;

  private state = STATE_HEADER;
  private inMessage = false;
  private parsing = false;
  private paused = false;

  // The frame whose payload is awaited.
  private opcode = 0;
  private fin = false;
  private rsv1 = false;
  private masked = false;
  private payloadLength = 0;
  // The masking key as one number; its bytes go to a shared scratch array when used.
  private maskKeyValue = 0;
  // A payload spread over several reads is gathered here as it arrives.
  private payloadTarget: Buffer | null = null;
  private payloadFilled = 0;

  constructor(options: FrameParserOptions, sink: FrameSink) {
    this.sink = sink;
    this.maxFrameSize = options.maxFrameSize;
    this.expectMasked = options.expectMasked;
    this.allowedRsv = options.allowedRsv ?? 0;
    this.checkFragmentation = options.checkFragmentation ?? true;
  }

  /** Bytes received but not yet turned into frames. */
  get bufferedBytes(): number {
    return this.buffered + this.payloadFilled;
  }

  /** Whether the parser stopped at a protocol error. */
  get failed(): boolean {
    return this.state === STATE_FAILED;
  }

  /** Allow RSV bits (an extension was negotiated). */
  setAllowedRsv(bits: number): void {
    this.allowedRsv = bits;
  }

  /** Change the frame size limit. */
  setMaxFrameSize(bytes: number): void {
    this.maxFrameSize = bytes;
  }

  /** Append received bytes and deliver every frame they complete. */
  push(chunk: Buffer): void {
    if (this.state === STATE_FAILED || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.run();
  }

  /** Stop delivering frames (bytes still accumulate) until {@link FrameParser.resume}. */
  pause(): void {
    this.paused = true;
  }

  /** Deliver the frames buffered while paused, then continue. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.run();
  }

  /** Drop buffered bytes and stop parsing for good. */
  halt(): void {
    this.state = STATE_FAILED;
    this.payloadTarget = null;
    this.payloadFilled = 0;
    this.chunks = [];
    this.buffered = 0;
    this.offset = 0;
  }

  private run(): void {
    // A frame handler may pause and resume synchronously; the outer loop carries on then.
    if (this.parsing) return;
    this.parsing = true;
    try {
      while (!this.paused) {
        if (this.state === STATE_HEADER) {
          if (!this.readHeader()) break;
        } else if (this.state === STATE_PAYLOAD) {
          if (!this.readPayload()) break;
        } else break;
      }
    } finally {
      this.parsing = false;
    }
  }

  private fail(error: WebSocketProtocolError): false {
    this.halt();
    this.sink.onError(error);
    return false;
  }

  /** Parse a whole header when its bytes are here; false when more bytes are needed or on error. */
  private readHeader(): boolean {
    if (this.buffered < 2) return false;
    const first = this.chunks[0];
    let b0: number;
    let b1: number;
    if (first.length - this.offset >= 2) {
      b0 = first[this.offset];
      b1 = first[this.offset + 1];
    } else {
      b0 = first[this.offset];
      b1 = this.chunks[1][0];
    }
    const opcode = b0 & OPCODE_MASK;
    const fin = (b0 & FIN_BIT) !== 0;
    const isControl = opcode >= CONTROL_OPCODE_MIN;
    const length7 = b1 & LENGTH_MASK;
    const masked = (b1 & MASK_BIT) !== 0;

    if (isControl && length7 > MAX_CONTROL_PAYLOAD) return this.fail(new WebSocketProtocolError('WS_ERR_CONTROL_FRAME_TOO_LONG'));
    if (isControl && !fin) return this.fail(new WebSocketProtocolError('WS_ERR_FRAGMENTED_CONTROL_FRAME'));
    const rsv = b0 & (RSV1_BIT | RSV2_BIT | RSV3_BIT);
    if (rsv !== 0) {
      if ((rsv & ~this.allowedRsv) !== 0) return this.fail(new WebSocketProtocolError('WS_ERR_UNEXPECTED_RSV'));
      if (isControl) return this.fail(new WebSocketProtocolError('WS_ERR_UNEXPECTED_RSV1_ON_CONTROL'));
      if (opcode === Opcode.Continuation) return this.fail(new WebSocketProtocolError('WS_ERR_UNEXPECTED_RSV1_ON_CONTINUATION'));
    }
    if (!isKnownOpcode(opcode)) return this.fail(new WebSocketProtocolError('WS_ERR_INVALID_OPCODE', opcode.toString(16)));
    if (this.checkFragmentation && !isControl) {
      if (opcode === Opcode.Continuation) {
        if (!this.inMessage) return this.fail(new WebSocketProtocolError('WS_ERR_UNEXPECTED_CONTINUATION'));
      } else if (this.inMessage) {
        return this.fail(new WebSocketProtocolError('WS_ERR_OPCODE_IN_FRAGMENTED_MESSAGE', opcode.toString(16)));
      }
    }
    if (this.expectMasked !== null && masked !== this.expectMasked) {
      return this.fail(new WebSocketProtocolError(masked ? 'WS_ERR_MASKED_FRAME' : 'WS_ERR_UNMASKED_FRAME'));
    }

    const extra = length7 === LENGTH_16BIT_MARKER ? 2 : length7 === LENGTH_64BIT_MARKER ? 8 : 0;
    const headerLength = 2 + extra + (masked ? MASK_KEY_BYTES : 0);
    if (this.buffered < headerLength) return false;
    const [bytes, at] = this.contiguous(headerLength);

    let length = length7;
    if (extra === 2) {
      length = (bytes[at + 2] << 8) | bytes[at + 3];
    } else if (extra === 8) {
      const high = bytes.readUInt32BE(at + 2);
      if (high !== 0) return this.fail(new WebSocketProtocolError('WS_ERR_UNSUPPORTED_64BIT_LENGTH'));
      length = bytes.readUInt32BE(at + 6);
    }
    if (this.maxFrameSize > 0 && length > this.maxFrameSize) {
      return this.fail(new WebSocketProtocolError('WS_ERR_FRAME_TOO_BIG', String(length)));
    }
    if (masked) this.maskKeyValue = bytes.readUInt32BE(at + 2 + extra);
    this.skip(headerLength);

    if (this.checkFragmentation && !isControl) this.inMessage = !fin;
    this.opcode = opcode;
    this.fin = fin;
    this.rsv1 = (rsv & RSV1_BIT) !== 0;
    this.masked = masked;
    this.payloadLength = length;
    this.state = STATE_PAYLOAD;
    return true;
  }

  private readPayload(): boolean {
    const length = this.payloadLength;
    let payload: Buffer;
    if (length === 0) {
      payload = EMPTY_BUFFER;
    } else if (this.payloadTarget === null && this.buffered >= length && this.chunks[0].length - this.offset >= length) {
      // The whole payload is in one received chunk: deliver a view of it, unmasked in place.
      const first = this.chunks[0];
      payload = first.subarray(this.offset, this.offset + length);
      if (this.masked) applyMask(payload, 0, payload, 0, length, this.maskKeyBytes());
      this.skip(length);
    } else {
      if (this.payloadTarget === null) {
        // Nothing of the payload yet: wait, it may still arrive in one chunk (and be viewed).
        if (this.buffered === 0) return false;
        this.payloadTarget = Buffer.allocUnsafe(length);
        this.payloadFilled = 0;
      }
      const target = this.payloadTarget;
      const before = this.payloadFilled;
      const take = Math.min(this.buffered, length - before);
      this.copyOut(target, before, take);
      this.payloadFilled = before + take;
      if (this.payloadFilled < length) {
        if (take > 0 && this.sink.onPartialPayload && this.opcode < CONTROL_OPCODE_MIN) {
          this.sink.onPartialPayload(this.opcode, this.rsv1, target.subarray(before, this.payloadFilled));
        }
        return false;
      }
      payload = target;
      this.payloadTarget = null;
      this.payloadFilled = 0;
    }
    this.state = STATE_HEADER;
    this.sink.onFrame(this.opcode, this.fin, this.rsv1, payload, this.masked);
    return this.state === STATE_HEADER;
  }

  /** The masking key of the current frame, in the shared scratch array (valid until the next call). */
  private maskKeyBytes(): Uint8Array {
    MASK_SCRATCH.writeUInt32BE(this.maskKeyValue >>> 0, 0);
    return MASK_SCRATCH;
  }

  /** `n` buffered bytes as one array: a view of the first chunk, or a copy in the shared scratch buffer. */
  private contiguous(n: number): [Buffer, number] {
    const first = this.chunks[0];
    if (first.length - this.offset >= n) return [first, this.offset];
    let written = 0;
    let index = 0;
    let pos = this.offset;
    while (written < n) {
      const chunk = this.chunks[index];
      const take = Math.min(chunk.length - pos, n - written);
      chunk.copy(HEADER_SCRATCH, written, pos, pos + take);
      written += take;
      index++;
      pos = 0;
    }
    return [HEADER_SCRATCH, 0];
  }

  /** Move `n` buffered bytes into `target` at `at` (the payload offset), unmasking on the way. */
  private copyOut(target: Buffer, at: number, n: number): void {
    let written = 0;
    while (written < n) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length - this.offset, n - written);
      const to = at + written;
      if (this.masked) applyMask(chunk, this.offset, target, to, take, this.maskKeyBytes(), to & 3);
      else chunk.copy(target, to, this.offset, this.offset + take);
      written += take;
      this.skip(take);
    }
  }

  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0];
      const available = first.length - this.offset;
      if (n < available) {
        this.offset += n;
        return;
      }
      n -= available;
      this.chunks.shift();
      this.offset = 0;
    }
  }
}

function isKnownOpcode(opcode: number): boolean {
  return opcode <= Opcode.Binary || (opcode >= Opcode.Close && opcode <= Opcode.Pong);
}
