/**
 * The pure frame encoder: header bytes, masking, close payloads. No sockets, no state.
 */
import {
  FIN_BIT,
  LENGTH_16BIT_MARKER,
  LENGTH_64BIT_MARKER,
  MASK_BIT,
  MASK_KEY_BYTES,
  MAX_16BIT_LENGTH,
  MAX_7BIT_LENGTH,
  RSV1_BIT,
} from './constants';
import { applyMask } from './buffer-util';

/** Payloads up to this size are copied next to their header, so a frame is one buffer. */
export const COPY_PAYLOAD_THRESHOLD = 1024;

/** How a frame is encoded. */
export interface FrameOptions {
  /** Last frame of its message. @default true */
  fin?: boolean;
  /** RSV1 (set by permessage-deflate on a compressed message's first frame). @default false */
  rsv1?: boolean;
  /** Masking key; frames a client sends must have one, frames a server sends must not. */
  maskKey?: Uint8Array | null;
}

/** Number of header bytes a frame with this payload length needs. */
export function frameHeaderLength(payloadLength: number, masked: boolean): number {
  const extended = payloadLength <= MAX_7BIT_LENGTH ? 0 : payloadLength <= MAX_16BIT_LENGTH ? 2 : 8;
  return 2 + extended + (masked ? MASK_KEY_BYTES : 0);
}

/** Write a frame header into `target` at `offset`; returns the number of bytes written. */
export function writeFrameHeader(
  target: Buffer,
  offset: number,
  opcode: number,
  payloadLength: number,
  options: FrameOptions = {},
): number {
  const maskKey = options.maskKey ?? null;
  target[offset] = (options.fin === false ? 0 : FIN_BIT) | (options.rsv1 ? RSV1_BIT : 0) | opcode;
  const maskBit = maskKey ? MASK_BIT : 0;
  let pos = offset + 2;
  if (payloadLength <= MAX_7BIT_LENGTH) {
    target[offset + 1] = maskBit | payloadLength;
  } else if (payloadLength <= MAX_16BIT_LENGTH) {
    target[offset + 1] = maskBit | LENGTH_16BIT_MARKER;
    target.writeUInt16BE(payloadLength, pos);
    pos += 2;
  } else {
    target[offset + 1] = maskBit | LENGTH_64BIT_MARKER;
    target.writeUInt32BE(Math.floor(payloadLength / 0x100000000), pos);
    target.writeUInt32BE(payloadLength >>> 0, pos + 4);
    pos += 8;
  }
  if (maskKey) {
    target[pos] = maskKey[0];
    target[pos + 1] = maskKey[1];
    target[pos + 2] = maskKey[2];
    target[pos + 3] = maskKey[3];
    pos += MASK_KEY_BYTES;
  }
  return pos - offset;
}

/**
 * Encode one frame. Returns one buffer (header and payload together: small or masked payloads,
 * masked into a copy so the caller's bytes never change) or two (header, then the caller's
 * payload itself, not copied).
 */
export function encodeFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Buffer[] {
  const maskKey = options.maskKey ?? null;
  const length = payload.length;
  const headerLength = frameHeaderLength(length, maskKey !== null);
  if (maskKey === null && length > COPY_PAYLOAD_THRESHOLD) {
    const header = Buffer.allocUnsafe(headerLength);
    writeFrameHeader(header, 0, opcode, length, options);
    return [header, Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, length)];
  }
  const frame = Buffer.allocUnsafe(headerLength + length);
  writeFrameHeader(frame, 0, opcode, length, options);
  if (maskKey) applyMask(payload, 0, frame, headerLength, length, maskKey);
  else frame.set(payload, headerLength);
  return [frame];
}

/**
 * Encode a text frame straight from a string whose UTF-8 length is `byteLength`, so the text
 * is encoded once, into the frame, never into an intermediate buffer.
 */
export function encodeTextFrame(text: string, byteLength: number, opcode: number, options: FrameOptions = {}): Buffer {
  const maskKey = options.maskKey ?? null;
  const headerLength = frameHeaderLength(byteLength, maskKey !== null);
  const frame = Buffer.allocUnsafe(headerLength + byteLength);
  writeFrameHeader(frame, 0, opcode, byteLength, options);
  frame.write(text, headerLength, 'utf8');
  if (maskKey) applyMask(frame, headerLength, frame, headerLength, byteLength, maskKey);
  return frame;
}

/** The payload of a close frame: the status code, then the UTF-8 reason (no code, no payload). */
export function encodeClosePayload(code: number | undefined, reason: string | undefined): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const reasonLength = reason ? Buffer.byteLength(reason) : 0;
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  if (reasonLength > 0) payload.write(reason as string, 2, 'utf8');
  return payload;
}

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, never in the middle of a character.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

/**
 * Encode a message as frames of at most `fragmentSize` payload bytes: the first carries
 * `opcode`, the rest are continuations, the last has FIN. `maskKey` is called once per frame
 * (return null for unmasked server frames).
 */
export function encodeFragmentedMessage(
  opcode: number,
  payload: Buffer,
  fragmentSize: number,
  maskKey: () => Uint8Array | null,
): Buffer[] {
  const buffers: Buffer[] = [];
  let offset = 0;
  do {
    const end = Math.min(offset + fragmentSize, payload.length);
    const frames = encodeFrame(offset === 0 ? opcode : 0, payload.subarray(offset, end), { fin: end === payload.length, maskKey: maskKey() });
    for (const frame of frames) buffers.push(frame);
    offset = end;
  } while (offset < payload.length);
  return buffers;
}
