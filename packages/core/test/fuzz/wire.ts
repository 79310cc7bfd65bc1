/**
 * Byte streams for the fuzzers: frames encoded by hand (so any header is possible: reserved
 * bits and opcodes, unmasked frames, non-minimal or huge lengths), valid message streams with
 * their expected outcome, the mutations applied to them, and random chunkings.
 */
import fc from 'fast-check';

/** One frame as the fuzzers describe it. */
export interface FrameSpec {
  opcode: number;
  fin: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4). */
  rsv: number;
  /** A masking key, or null for an unmasked frame. */
  mask: Uint8Array | null;
  payload: Uint8Array;
  /** The length the header claims (default: the payload's). */
  declaredLength?: bigint;
  /** Length field form: the shortest (default), or forced 16- or 64-bit. */
  lengthForm?: 'min' | '16' | '64';
}

/** Encode `frame` exactly as described. */
export function encodeSpec(frame: FrameSpec): Buffer {
  const length = frame.declaredLength ?? BigInt(frame.payload.length);
  const form = frame.lengthForm ?? 'min';
  const use64 = form === '64' || length > 0xffffn;
  const use16 = !use64 && (form === '16' || length > 125n);
  const extra = use64 ? 8 : use16 ? 2 : 0;
  const head = Buffer.alloc(2 + extra + (frame.mask ? 4 : 0));
  head[0] = (frame.fin ? 0x80 : 0) | ((frame.rsv & 7) << 4) | (frame.opcode & 0x0f);
  head[1] = (frame.mask ? 0x80 : 0) | (use64 ? 127 : use16 ? 126 : Number(length));
  if (use16) head.writeUInt16BE(Number(length), 2);
  if (use64) head.writeBigUInt64BE(length & 0xffffffffffffffffn, 2);
  const payload = Buffer.from(frame.payload);
  if (frame.mask) {
    head.set(frame.mask, 2 + extra);
    for (let i = 0; i < payload.length; i++) payload[i] ^= frame.mask[i & 3];
  }
  return Buffer.concat([head, payload]);
}

/** A message a well-behaved client sends. */
export interface SentMessage {
  isText: boolean;
  data: Buffer;
}

/** A control frame a well-behaved client sends between or inside messages. */
export interface SentControl {
  opcode: 0x9 | 0xa;
  payload: Buffer;
}

/** A valid client stream and what the receiving side must make of it. */
export interface ValidStream {
  frames: FrameSpec[];
  /** Frame index at which each frame starts in `bytes`. */
  offsets: number[];
  bytes: Buffer;
  messages: SentMessage[];
  controls: SentControl[];
  /** The close frame sent last, if any (code, reason). */
  close: { code: number; reason: string } | null;
}

const maskKey = fc.uint8Array({ minLength: 4, maxLength: 4 });

/** Close codes a client may send. */
export const validCloseCode = fc.oneof(
  fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014),
  fc.integer({ min: 3000, max: 4999 }),
);

/** Text: any code points (no lone surrogates, so the UTF-8 round trip is exact). */
const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength, size: 'max' });

/** A data message: text or binary, up to `maxBytes` bytes. */
export function sentMessage(maxBytes: number): fc.Arbitrary<SentMessage> {
  return fc.oneof(
    text(Math.floor(maxBytes / 4)).map((s) => ({ isText: true, data: Buffer.from(s, 'utf8') })),
    fc.uint8Array({ maxLength: maxBytes, size: 'max' }).map((b) => ({ isText: false, data: Buffer.from(b) })),
  );
}

const control: fc.Arbitrary<SentControl> = fc.record({
  opcode: fc.constantFrom(0x9 as const, 0xa as const),
  payload: fc.uint8Array({ maxLength: 125 }).map((b) => Buffer.from(b)),
});

/**
 * A valid stream: messages split into fragments at random points, control frames between
 * and inside them, every frame masked, optionally ending with a close frame.
 */
export function validStream(options: { maxMessages?: number; maxBytes?: number } = {}): fc.Arbitrary<ValidStream> {
  const item = fc.record({
    message: sentMessage(options.maxBytes ?? 600),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    controls: fc.array(fc.tuple(fc.nat(5), control), { maxLength: 2 }),
    masks: fc.array(maskKey, { minLength: 6, maxLength: 6 }),
    lengthForm: fc.constantFrom<'min' | '16' | '64'>('min', 'min', 'min', '16', '64'),
  });
  const close = fc.option(fc.record({ code: validCloseCode, reason: text(20).filter((r) => Buffer.byteLength(r) <= 123), mask: maskKey }), { nil: null });
  return fc.record({ items: fc.array(item, { maxLength: options.maxMessages ?? 5 }), close }).map(({ items, close: closing }) => {
    const frames: FrameSpec[] = [];
    const messages: SentMessage[] = [];
    const controls: SentControl[] = [];
    for (const { message, cuts, controls: interleaved, masks, lengthForm } of items) {
      messages.push(message);
      const points = [...new Set(cuts.map((c) => (message.data.length === 0 ? 0 : c % message.data.length)))].filter((c) => c > 0).sort((a, b) => a - b);
      const bounds = [0, ...points, message.data.length];
      for (let i = 0; i + 1 < bounds.length; i++) {
        for (const [at, ctl] of interleaved) {
          if (at % bounds.length === i) {
            frames.push({ opcode: ctl.opcode, fin: true, rsv: 0, mask: masks[5], payload: ctl.payload });
            controls.push(ctl);
          }
        }
        frames.push({
          opcode: i === 0 ? (message.isText ? 0x1 : 0x2) : 0x0,
          fin: i + 2 === bounds.length,
          rsv: 0,
          mask: masks[i % 5],
          payload: message.data.subarray(bounds[i], bounds[i + 1]),
          lengthForm,
        });
      }
    }
    let closeInfo: ValidStream['close'] = null;
    if (closing) {
      const reason = Buffer.from(closing.reason, 'utf8');
      const payload = Buffer.alloc(2 + reason.length);
      payload.writeUInt16BE(closing.code, 0);
      reason.copy(payload, 2);
      frames.push({ opcode: 0x8, fin: true, rsv: 0, mask: closing.mask, payload });
      closeInfo = { code: closing.code, reason: closing.reason };
    }
    const encoded = frames.map(encodeSpec);
    const offsets: number[] = [];
    let at = 0;
    for (const frame of encoded) {
      offsets.push(at);
      at += frame.length;
    }
    return { frames, offsets, bytes: Buffer.concat(encoded), messages, controls, close: closeInfo };
  });
}

/** Cut `bytes` at the given points (taken modulo its length): the chunks a socket might deliver. */
export function chunk(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [];
  const points = [...new Set(cuts.map((c) => c % bytes.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(Buffer.from(bytes.subarray(start, point)));
    start = point;
  }
  chunks.push(Buffer.from(bytes.subarray(start)));
  return chunks;
}

/** Random chunk boundaries. */
export const cuts = fc.array(fc.nat(), { maxLength: 12 });

/** How a valid stream is damaged. */
export type Mutation =
  | { kind: 'flip'; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array }
  | { kind: 'garbage'; bytes: Uint8Array };

/** A mutation of a stream of unknown length (positions are taken modulo the length). */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map((bit) => ({ kind: 'flip' as const, bit })) },
  { weight: 2, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
  { weight: 2, arbitrary: fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }).map((m) => ({ kind: 'splice' as const, ...m })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256, size: 'max' }).map((bytes) => ({ kind: 'garbage' as const, bytes })) },
);

/** Apply `m` to a copy of `bytes`. */
export function mutate(bytes: Buffer, m: Mutation): Buffer {
  switch (m.kind) {
    case 'flip': {
      if (bytes.length === 0) return Buffer.alloc(0);
      const copy = Buffer.from(bytes);
      const bit = m.bit % (bytes.length * 8);
      copy[bit >> 3] ^= 1 << (bit & 7);
      return copy;
    }
    case 'truncate':
      return Buffer.from(bytes.subarray(0, bytes.length === 0 ? 0 : m.at % bytes.length));
    case 'splice': {
      const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    }
    case 'garbage':
      return Buffer.from(m.bytes);
  }
}

/** A single hostile frame header: reserved opcodes and bits, wrong masking, huge or oversize lengths. */
export const hostileFrame: fc.Arbitrary<FrameSpec> = fc.record({
  opcode: fc.integer({ min: 0, max: 15 }),
  fin: fc.boolean(),
  rsv: fc.integer({ min: 0, max: 7 }),
  mask: fc.option(maskKey, { nil: null }),
  payload: fc.uint8Array({ maxLength: 200, size: 'max' }),
  declaredLength: fc.option(
    fc.oneof(
      fc.bigInt({ min: 0n, max: 0xffffn }),
      fc.bigInt({ min: 0x10000n, max: 0xffffffffn }),
      fc.bigInt({ min: 0x100000000n, max: 0xffffffffffffffffn }),
    ),
    { nil: undefined },
  ),
  lengthForm: fc.constantFrom<'min' | '16' | '64'>('min', '16', '64'),
});
