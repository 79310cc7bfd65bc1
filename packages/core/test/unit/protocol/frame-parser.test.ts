/**
 * FrameParser: every fixture stream is fed whole, split at every byte offset and one byte at a
 * time, and must always yield the same frames; plus zero-copy views, unmasking, every protocol
 * error the parser can raise, error latching, and pause/resume.
 */
import { FrameParser, type FrameParserOptions, type FrameSink } from '../../../src/protocol/frame-parser';
import { WebSocketProtocolError } from '../../../src/protocol/errors';
import { encodeFrame } from '../../../src/protocol/frame-encoder';
import { prng } from '../../helpers/prng';

interface Frame {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  masked: boolean;
  payload: Buffer;
}

interface FrameSpec {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  rsv1?: boolean;
  mask?: number[];
}

/** Build a frame by hand (independent of the encoder under test elsewhere), masking per byte. */
function frame(spec: FrameSpec): Buffer {
  const { opcode, payload } = spec;
  const fin = spec.fin ?? true;
  const length = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | (spec.rsv1 ? 0x40 : 0) | opcode];
  const maskBit = spec.mask ? 0x80 : 0;
  if (length <= 125) head.push(maskBit | length);
  else if (length <= 0xffff) head.push(maskBit | 126, length >> 8, length & 0xff);
  else head.push(maskBit | 127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  let body = payload;
  if (spec.mask) {
    const key = spec.mask;
    head.push(...key);
    body = Buffer.alloc(length);
    for (let i = 0; i < length; i++) body[i] = payload[i] ^ key[i & 3];
  }
  return Buffer.concat([Buffer.from(head), body]);
}

function expected(spec: FrameSpec): Frame {
  return { opcode: spec.opcode, fin: spec.fin ?? true, rsv1: spec.rsv1 ?? false, masked: spec.mask !== undefined, payload: spec.payload };
}

function bytes(length: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

const MASK = [0x37, 0xfa, 0x21, 0x3d];
const MASK2 = [0x01, 0x80, 0xff, 0x00];

interface Fixture {
  name: string;
  stream: Buffer;
  frames: Frame[];
}

function fixture(name: string, specs: FrameSpec[]): Fixture {
  return { name, stream: Buffer.concat(specs.map(frame)), frames: specs.map(expected) };
}

const text = (s: string) => Buffer.from(s, 'utf8');

const FIXTURES: Fixture[] = [];
for (const length of [0, 1, 125, 126, 65535, 65536]) {
  const payload = bytes(length, length + 1);
  FIXTURES.push(fixture(`binary ${length} bytes unmasked`, [{ opcode: 2, payload }]));
  FIXTURES.push(fixture(`binary ${length} bytes masked`, [{ opcode: 2, payload, mask: MASK }]));
}
FIXTURES.push(
  // RFC 6455 §5.7 examples, as hex.
  {
    name: 'RFC 5.7 single-frame unmasked "Hello"',
    stream: Buffer.from('810548656c6c6f', 'hex'),
    frames: [{ opcode: 1, fin: true, rsv1: false, masked: false, payload: text('Hello') }],
  },
  {
    name: 'RFC 5.7 single-frame masked "Hello"',
    stream: Buffer.from('818537fa213d7f9f4d5158', 'hex'),
    frames: [{ opcode: 1, fin: true, rsv1: false, masked: true, payload: text('Hello') }],
  },
  {
    name: 'RFC 5.7 fragmented unmasked "Hel" + "lo"',
    stream: Buffer.from('010348656c80026c6f', 'hex'),
    frames: [
      { opcode: 1, fin: false, rsv1: false, masked: false, payload: text('Hel') },
      { opcode: 0, fin: true, rsv1: false, masked: false, payload: text('lo') },
    ],
  },
  {
    name: 'RFC 5.7 unmasked ping "Hello" and masked pong "Hello"',
    stream: Buffer.from('890548656c6c6f' + '8a8537fa213d7f9f4d5158', 'hex'),
    frames: [
      { opcode: 9, fin: true, rsv1: false, masked: false, payload: text('Hello') },
      { opcode: 10, fin: true, rsv1: false, masked: true, payload: text('Hello') },
    ],
  },
  fixture('fragmented text: text + continuation + continuation FIN (masked)', [
    { opcode: 1, fin: false, payload: text('frag-one '), mask: MASK },
    { opcode: 0, fin: false, payload: text('fräg-twö '), mask: MASK2 },
    { opcode: 0, fin: true, payload: text('frag-€-three 😀'), mask: MASK },
  ]),
  fixture('fragmented text with empty fragments (unmasked)', [
    { opcode: 1, fin: false, payload: Buffer.alloc(0) },
    { opcode: 0, fin: false, payload: text('x') },
    { opcode: 0, fin: true, payload: Buffer.alloc(0) },
  ]),
  fixture('control frames interleaved between fragments', [
    { opcode: 1, fin: false, payload: text('a'), mask: MASK },
    { opcode: 9, payload: text('ping-1'), mask: MASK2 },
    { opcode: 0, fin: false, payload: bytes(300, 7), mask: MASK },
    { opcode: 10, payload: Buffer.alloc(0), mask: MASK },
    { opcode: 9, payload: bytes(125, 8), mask: MASK2 },
    { opcode: 0, fin: true, payload: text('z'), mask: MASK },
    { opcode: 8, payload: Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]), mask: MASK },
  ]),
  fixture('several frames of every length form in one stream (unmasked)', [
    { opcode: 1, payload: text('first') },
    { opcode: 2, payload: bytes(126, 9) },
    { opcode: 9, payload: Buffer.alloc(0) },
    { opcode: 2, payload: bytes(70000, 10) },
    { opcode: 2, fin: false, payload: bytes(3, 11) },
    { opcode: 0, fin: true, payload: bytes(200, 12) },
    { opcode: 10, payload: bytes(125, 13) },
    { opcode: 8, payload: Buffer.alloc(0) },
  ]),
  fixture('several masked frames of 7- and 16-bit lengths in one stream', [
    { opcode: 2, payload: bytes(1, 14), mask: MASK },
    { opcode: 1, payload: text('€'.repeat(50)), mask: MASK2 },
    { opcode: 2, payload: bytes(5000, 15), mask: MASK },
    { opcode: 9, payload: bytes(3, 16), mask: [0, 0, 0, 0] },
    { opcode: 2, payload: bytes(0, 17), mask: MASK2 },
  ]),
);

/** A copy of `source` placed `pad` bytes into a fresh ArrayBuffer. */
function copyAt(source: Buffer, pad: number): Buffer {
  const backing = Buffer.alloc(source.length + pad);
  source.copy(backing, pad);
  return backing.subarray(pad);
}

const ANY: FrameParserOptions = { maxFrameSize: 0, expectMasked: null };

interface Run {
  frames: Frame[];
  errors: WebSocketProtocolError[];
  parser: FrameParser;
}

/**
 * A parser whose sink records frames. Payloads are copied (so later mutation cannot hide bugs)
 * unless `keepViews` is set, for runs that own their input bytes and check them right away.
 */
function collect(options: FrameParserOptions = ANY, onFrame?: (parser: FrameParser, f: Frame) => void, keepViews = false): Run {
  const run: Run = { frames: [], errors: [], parser: undefined as unknown as FrameParser };
  const sink: FrameSink = {
    onFrame(opcode, fin, rsv1, payload, masked) {
      const f = { opcode, fin, rsv1, masked, payload: keepViews ? payload : Buffer.from(payload) };
      run.frames.push(f);
      onFrame?.(run.parser, f);
    },
    onError(error) {
      run.errors.push(error);
    },
  };
  run.parser = new FrameParser(options, sink);
  return run;
}

/** Compare without Jest's deep-equality cost (this runs hundreds of thousands of times). */
function describeMismatch(actual: Frame[], wanted: Frame[]): string | null {
  if (actual.length !== wanted.length) return `got ${actual.length} frames, expected ${wanted.length}`;
  for (let i = 0; i < wanted.length; i++) {
    const a = actual[i];
    const w = wanted[i];
    if (a.opcode !== w.opcode || a.fin !== w.fin || a.rsv1 !== w.rsv1 || a.masked !== w.masked) {
      return `frame ${i}: got ${JSON.stringify({ ...a, payload: a.payload.length })}`;
    }
    if (!a.payload.equals(w.payload)) return `frame ${i}: payload differs (length ${a.payload.length} vs ${w.payload.length})`;
  }
  return null;
}

describe('FrameParser: fixture streams at every split', () => {
  it.each(FIXTURES.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    const failures: string[] = [];
    const isMasked = fx.frames.every((f) => f.masked);
    const isUnmasked = fx.frames.every((f) => !f.masked);
    const optionSets: FrameParserOptions[] = [ANY, { maxFrameSize: fx.stream.length, expectMasked: null }];
    if (isMasked) optionSets.push({ maxFrameSize: 0, expectMasked: true });
    if (isUnmasked) optionSets.push({ maxFrameSize: 0, expectMasked: false });

    for (const options of optionSets) {
      const label = JSON.stringify(options);
      // Whole.
      const whole = collect(options);
      whole.parser.push(Buffer.from(fx.stream));
      const m0 = describeMismatch(whole.frames, fx.frames);
      if (m0 || whole.errors.length) failures.push(`${label} whole: ${m0 ?? whole.errors[0].message}`);
      expect(whole.parser.bufferedBytes).toBe(0);

      // One byte at a time.
      const copy = Buffer.from(fx.stream);
      const run = collect(options);
      for (let i = 0; i < copy.length; i++) run.parser.push(copy.subarray(i, i + 1));
      const m1 = describeMismatch(run.frames, fx.frames);
      if (m1 || run.errors.length) failures.push(`${label} byte by byte: ${m1 ?? run.errors[0].message}`);
    }

    // Two pushes, at every offset (the options do not change how bytes are joined, so one set
    // suffices here). Masked payloads are unmasked in place, so each run gets its own copy.
    // Each copy starts at a varying offset of its ArrayBuffer, so chunks and the payload copy
    // meet every relative 4-byte alignment. For a big single frame the layout where the payload
    // is not 4-byte aligned (per-byte unmasking) is slow, so it gets one split in four.
    const big = fx.stream.length > 4096 && fx.frames.length === 1;
    const alignedPad = -(fx.stream.length - fx.frames[0].payload.length) & 3;
    for (let at = 0; at <= fx.stream.length; at++) {
      const pad = big ? ((at & 3) === 0 ? (alignedPad + 1) & 3 : alignedPad) : (at >> 2) & 3;
      const copy = isUnmasked ? fx.stream : copyAt(fx.stream, pad);
      const run = collect(ANY, undefined, true);
      run.parser.push(copy.subarray(0, at));
      run.parser.push(copy.subarray(at));
      const m = describeMismatch(run.frames, fx.frames);
      if (m || run.errors.length || run.parser.bufferedBytes !== 0) {
        failures.push(`split at ${at}: ${m ?? run.errors[0]?.message ?? `buffered ${run.parser.bufferedBytes}`}`);
        if (failures.length > 5) break;
      }
    }
    expect(failures).toEqual([]);
  });

  it('delivers each frame as soon as its last byte arrives, never earlier', () => {
    const fx = FIXTURES.find((f) => f.name.startsWith('control frames interleaved')) as Fixture;
    const ends: number[] = [];
    let pos = 0;
    for (const f of fx.frames) {
      const len = f.payload.length;
      pos += 2 + (len > 125 ? (len > 0xffff ? 8 : 2) : 0) + (f.masked ? 4 : 0) + len;
      ends.push(pos);
    }
    const run = collect();
    const seenAfterByte: number[] = [];
    for (let i = 0; i < fx.stream.length; i++) {
      run.parser.push(Buffer.from(fx.stream.subarray(i, i + 1)));
      seenAfterByte.push(run.frames.length);
    }
    ends.forEach((end, k) => {
      expect(seenAfterByte[end - 2] ?? 0).toBe(k);
      expect(seenAfterByte[end - 1]).toBe(k + 1);
    });
  });

  it('tracks bufferedBytes for a partial frame', () => {
    const stream = frame({ opcode: 2, payload: bytes(300, 1), mask: MASK });
    const run = collect();
    run.parser.push(stream.subarray(0, 5));
    expect(run.parser.bufferedBytes).toBe(5);
    run.parser.push(stream.subarray(5, 100));
    // The 8-byte header has been consumed; 92 payload bytes wait.
    expect(run.parser.bufferedBytes).toBe(92);
    expect(run.frames).toHaveLength(0);
    run.parser.push(stream.subarray(100));
    expect(run.parser.bufferedBytes).toBe(0);
    expect(run.frames).toHaveLength(1);
  });

  it('ignores empty pushes', () => {
    const run = collect();
    run.parser.push(Buffer.alloc(0));
    run.parser.push(Buffer.from([0x81]));
    run.parser.push(Buffer.alloc(0));
    run.parser.push(Buffer.from([0x00]));
    expect(run.frames).toEqual([{ opcode: 1, fin: true, rsv1: false, masked: false, payload: Buffer.alloc(0) }]);
  });

  it('parses frames built by encodeFrame', () => {
    const payload = bytes(1500, 3);
    const stream = Buffer.concat([
      ...encodeFrame(2, payload),
      ...encodeFrame(1, text('hi'), { fin: false, maskKey: Uint8Array.from(MASK) }),
      ...encodeFrame(0, text('!'), { maskKey: Uint8Array.from(MASK2) }),
    ]);
    const run = collect();
    run.parser.push(stream);
    expect(run.frames).toEqual([
      { opcode: 2, fin: true, rsv1: false, masked: false, payload },
      { opcode: 1, fin: false, rsv1: false, masked: true, payload: text('hi') },
      { opcode: 0, fin: true, rsv1: false, masked: true, payload: text('!') },
    ]);
  });
});

describe('FrameParser: payload views and unmasking', () => {
  function capture(options: FrameParserOptions = ANY) {
    const payloads: Buffer[] = [];
    const parser = new FrameParser(options, {
      onFrame: (_o, _f, _r, payload) => payloads.push(payload),
      onError: (e) => {
        throw e;
      },
    });
    return { parser, payloads };
  }

  it('delivers an unmasked payload lying in one chunk as a view of that chunk (no copy)', () => {
    const payload = bytes(1000, 4);
    const chunk = frame({ opcode: 2, payload });
    const { parser, payloads } = capture();
    parser.push(chunk);
    expect(payloads).toHaveLength(1);
    expect(payloads[0].buffer).toBe(chunk.buffer);
    expect(payloads[0].byteOffset).toBe(chunk.byteOffset + 4);
    expect(payloads[0].length).toBe(1000);
    expect(payloads[0].equals(payload)).toBe(true);
  });

  it('delivers a masked payload lying in one chunk as a view, unmasked in place', () => {
    const payload = bytes(70000, 5);
    const chunk = frame({ opcode: 2, payload, mask: MASK });
    const { parser, payloads } = capture();
    parser.push(chunk);
    expect(payloads[0].buffer).toBe(chunk.buffer);
    expect(payloads[0].byteOffset).toBe(chunk.byteOffset + 14);
    expect(payloads[0].equals(payload)).toBe(true);
    // In place: the chunk itself now holds the clear bytes.
    expect(chunk.subarray(14).equals(payload)).toBe(true);
  });

  it('returns views for frames after the first in the same chunk and for a payload whose header came earlier', () => {
    const a = frame({ opcode: 1, payload: text('one'), mask: MASK });
    const b = frame({ opcode: 2, payload: bytes(200, 6), mask: MASK2 });
    const chunk1 = Buffer.concat([a, b.subarray(0, 8)]); // b's header only
    const chunk2 = Buffer.from(b.subarray(8)); // b's whole payload
    const { parser, payloads } = capture();
    parser.push(chunk1);
    parser.push(chunk2);
    expect(payloads[0].buffer).toBe(chunk1.buffer);
    expect(payloads[0].toString()).toBe('one');
    expect(payloads[1].buffer).toBe(chunk2.buffer);
    expect(payloads[1].byteOffset).toBe(chunk2.byteOffset);
    expect(payloads[1].equals(bytes(200, 6))).toBe(true);
  });

  it('copies a payload spread over several chunks into a fresh buffer, unmasked (the received chunks are unmasked in place first)', () => {
    const payload = bytes(257, 7);
    const stream = frame({ opcode: 2, payload, mask: MASK });
    for (const cuts of [
      [7, 100],
      [8, 9, 10, 11, 200],
      [50, 51, 52, 53, 54, 55],
    ]) {
      const pieces: Buffer[] = [];
      let prev = 0;
      for (const c of [...cuts, stream.length]) {
        pieces.push(Buffer.from(stream.subarray(prev, c)));
        prev = c;
      }
      const { parser, payloads } = capture();
      for (const p of pieces) parser.push(p);
      expect(payloads).toHaveLength(1);
      expect(payloads[0].equals(payload)).toBe(true);
      // Not a view of any chunk: its bytes do not overlap any chunk's memory.
      const out = payloads[0];
      for (const p of pieces) {
        const overlaps = out.buffer === p.buffer && out.byteOffset < p.byteOffset + p.length && p.byteOffset < out.byteOffset + out.length;
        expect(overlaps).toBe(false);
      }
    }
  });

  it('unmasks with every rotation of the key (payload split at every phase)', () => {
    const rand = prng(99);
    for (let trial = 0; trial < 200; trial++) {
      const key = [0, 1, 2, 3].map(() => Math.floor(rand() * 256));
      const payload = bytes(1 + Math.floor(rand() * 300), trial);
      const stream = frame({ opcode: 2, payload, mask: key });
      const pieces: Buffer[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(rand() * 40);
        pieces.push(Buffer.from(stream.subarray(at, at + n)));
        at += n;
      }
      const { parser, payloads } = capture({ maxFrameSize: 0, expectMasked: true });
      for (const p of pieces) parser.push(p);
      expect(payloads).toHaveLength(1);
      expect(payloads[0].equals(payload)).toBe(true);
    }
  });

  it('leaves a payload masked with the all-zero key as it was', () => {
    const payload = bytes(64, 8);
    const { parser, payloads } = capture();
    parser.push(frame({ opcode: 2, payload, mask: [0, 0, 0, 0] }));
    expect(payloads[0].equals(payload)).toBe(true);
  });
});

interface ErrorCase {
  name: string;
  stream: Buffer;
  options?: Partial<FrameParserOptions>;
  code: string;
  closeCode: number;
  message: string;
  /** Frames delivered before the failing one. */
  before?: number;
}

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

const ERROR_CASES: ErrorCase[] = [
  {
    name: 'ping with 7-bit length 126',
    stream: hex('89 7e 00 7e'),
    code: 'WS_ERR_CONTROL_FRAME_TOO_LONG',
    closeCode: 1002,
    message: 'Illegal control frame longer than 125 bytes.',
  },
  {
    name: 'close with 7-bit length 127',
    stream: hex('88 7f 00 00 00 00 00 00 00 7e'),
    code: 'WS_ERR_CONTROL_FRAME_TOO_LONG',
    closeCode: 1002,
    message: 'Illegal control frame longer than 125 bytes.',
  },
  {
    name: 'masked pong with length 126',
    stream: Buffer.concat([hex('8a fe 00 7e 01 02 03 04'), Buffer.alloc(126)]),
    code: 'WS_ERR_CONTROL_FRAME_TOO_LONG',
    closeCode: 1002,
    message: 'Illegal control frame longer than 125 bytes.',
  },
  {
    name: 'ping without FIN',
    stream: hex('09 00'),
    code: 'WS_ERR_FRAGMENTED_CONTROL_FRAME',
    closeCode: 1002,
    message: 'Control frames must not be fragmented.',
  },
  {
    name: 'close without FIN',
    stream: hex('08 02 03 e8'),
    code: 'WS_ERR_FRAGMENTED_CONTROL_FRAME',
    closeCode: 1002,
    message: 'Control frames must not be fragmented.',
  },
  {
    name: '64-bit length with the high word set',
    stream: hex('82 7f 00 00 00 01 00 00 00 00'),
    code: 'WS_ERR_UNSUPPORTED_64BIT_LENGTH',
    closeCode: 1002,
    message: 'Unsupported 64-bit length frame received',
  },
  {
    name: '64-bit length with only the top bit set',
    stream: hex('82 ff 80 00 00 00 00 00 00 05 01 02 03 04'),
    code: 'WS_ERR_UNSUPPORTED_64BIT_LENGTH',
    closeCode: 1002,
    message: 'Unsupported 64-bit length frame received',
  },
  {
    name: 'frame one byte over maxFrameSize (16-bit length)',
    stream: Buffer.concat([hex('82 7e 03 e9'), Buffer.alloc(1001)]),
    options: { maxFrameSize: 1000 },
    code: 'WS_ERR_FRAME_TOO_BIG',
    closeCode: 1009,
    message: 'Frame size of 1001 bytes exceeds maximum accepted frame size',
  },
  {
    name: 'frame over maxFrameSize (7-bit length, masked)',
    stream: Buffer.concat([hex('81 8b 01 02 03 04'), Buffer.alloc(11)]),
    options: { maxFrameSize: 10 },
    code: 'WS_ERR_FRAME_TOO_BIG',
    closeCode: 1009,
    message: 'Frame size of 11 bytes exceeds maximum accepted frame size',
  },
  {
    name: 'frame over maxFrameSize (64-bit length, payload never sent)',
    stream: hex('82 7f 00 00 00 00 ff ff ff ff'),
    options: { maxFrameSize: 0x10000 },
    code: 'WS_ERR_FRAME_TOO_BIG',
    closeCode: 1009,
    message: 'Frame size of 4294967295 bytes exceeds maximum accepted frame size',
  },
  {
    name: 'RSV1 without a negotiated extension',
    stream: hex('c1 01 61'),
    code: 'WS_ERR_UNEXPECTED_RSV',
    closeCode: 1002,
    message: 'Unsupported usage of rsv bits without negotiated extension.',
  },
  {
    name: 'RSV2',
    stream: hex('a2 00'),
    code: 'WS_ERR_UNEXPECTED_RSV',
    closeCode: 1002,
    message: 'Unsupported usage of rsv bits without negotiated extension.',
  },
  {
    name: 'RSV3',
    stream: hex('92 00'),
    code: 'WS_ERR_UNEXPECTED_RSV',
    closeCode: 1002,
    message: 'Unsupported usage of rsv bits without negotiated extension.',
  },
  {
    name: 'RSV2 when only RSV1 is allowed',
    stream: hex('e1 00'),
    options: { allowedRsv: 0x40 },
    code: 'WS_ERR_UNEXPECTED_RSV',
    closeCode: 1002,
    message: 'Unsupported usage of rsv bits without negotiated extension.',
  },
  {
    name: 'RSV on an unknown opcode (RSV is checked first)',
    stream: hex('d3 00'),
    code: 'WS_ERR_UNEXPECTED_RSV',
    closeCode: 1002,
    message: 'Unsupported usage of rsv bits without negotiated extension.',
  },
  {
    name: 'allowed RSV1 on a ping',
    stream: hex('c9 00'),
    options: { allowedRsv: 0x40 },
    code: 'WS_ERR_UNEXPECTED_RSV1_ON_CONTROL',
    closeCode: 1002,
    message: 'RSV1 must be clear on control frames.',
  },
  {
    name: 'allowed RSV1 on a close',
    stream: hex('c8 02 03 e8'),
    options: { allowedRsv: 0x40 },
    code: 'WS_ERR_UNEXPECTED_RSV1_ON_CONTROL',
    closeCode: 1002,
    message: 'RSV1 must be clear on control frames.',
  },
  {
    name: 'allowed RSV1 on a continuation frame',
    stream: hex('41 01 61 c0 01 62'),
    options: { allowedRsv: 0x40 },
    code: 'WS_ERR_UNEXPECTED_RSV1_ON_CONTINUATION',
    closeCode: 1002,
    message: 'RSV1 must be clear on continuation frames.',
    before: 1,
  },
  ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map(
    (op): ErrorCase => ({
      name: `unknown opcode 0x${op.toString(16)}`,
      stream: Buffer.from([0x80 | op, 0x00]),
      code: 'WS_ERR_INVALID_OPCODE',
      closeCode: 1002,
      message: `Unrecognized Opcode: 0x${op.toString(16)}`,
    }),
  ),
  {
    name: 'unknown opcode 0x3 inside a fragmented message',
    stream: hex('01 01 61 83 00'),
    code: 'WS_ERR_INVALID_OPCODE',
    closeCode: 1002,
    message: 'Unrecognized Opcode: 0x3',
    before: 1,
  },
  {
    name: 'continuation with no message open',
    stream: hex('80 01 61'),
    code: 'WS_ERR_UNEXPECTED_CONTINUATION',
    closeCode: 1002,
    message: 'Unexpected Continuation Frame',
  },
  {
    name: 'continuation after a finished message',
    stream: hex('81 01 61 80 01 62'),
    code: 'WS_ERR_UNEXPECTED_CONTINUATION',
    closeCode: 1002,
    message: 'Unexpected Continuation Frame',
    before: 1,
  },
  {
    name: 'text frame inside a fragmented message',
    stream: hex('01 01 61 81 01 62'),
    code: 'WS_ERR_OPCODE_IN_FRAGMENTED_MESSAGE',
    closeCode: 1002,
    message: 'Illegal frame opcode 0x1 received in middle of fragmented message.',
    before: 1,
  },
  {
    name: 'binary frame inside a fragmented message, after a ping',
    stream: hex('01 01 61 89 00 02 01 62'),
    code: 'WS_ERR_OPCODE_IN_FRAGMENTED_MESSAGE',
    closeCode: 1002,
    message: 'Illegal frame opcode 0x2 received in middle of fragmented message.',
    before: 2,
  },
  {
    name: 'unmasked frame when masking is required',
    stream: hex('81 01 61'),
    options: { expectMasked: true },
    code: 'WS_ERR_UNMASKED_FRAME',
    closeCode: 1002,
    message: 'Received an unmasked frame from the client.',
  },
  {
    name: 'unmasked ping after a masked frame when masking is required',
    stream: hex('81 81 00 00 00 00 61 89 00'),
    options: { expectMasked: true },
    code: 'WS_ERR_UNMASKED_FRAME',
    closeCode: 1002,
    message: 'Received an unmasked frame from the client.',
    before: 1,
  },
  {
    name: 'masked frame when masking is forbidden',
    stream: hex('81 81 01 02 03 04 60'),
    options: { expectMasked: false },
    code: 'WS_ERR_MASKED_FRAME',
    closeCode: 1002,
    message: 'Received a masked frame from the server.',
  },
];

describe('FrameParser: protocol errors', () => {
  it.each(ERROR_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const options: FrameParserOptions = { ...ANY, ...c.options };
    const check = (run: Run, how: string) => {
      expect({ how, errors: run.errors.length }).toEqual({ how, errors: 1 });
      const error = run.errors[0];
      expect(error).toBeInstanceOf(WebSocketProtocolError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('WebSocketProtocolError');
      expect(error.code).toBe(c.code);
      expect(error.closeCode).toBe(c.closeCode);
      expect(error.message).toBe(c.message);
      expect(run.frames).toHaveLength(c.before ?? 0);
      expect(run.parser.failed).toBe(true);
      expect(run.parser.bufferedBytes).toBe(0);
    };
    const whole = collect(options);
    whole.parser.push(Buffer.from(c.stream));
    check(whole, 'whole');

    const byByte = collect(options);
    for (let i = 0; i < c.stream.length; i++) byByte.parser.push(Buffer.from(c.stream.subarray(i, i + 1)));
    check(byByte, 'byte by byte');

    // Every error is raised from a header, so splits past the first frames add nothing.
    for (let at = 1; at < Math.min(c.stream.length, 40); at++) {
      const split = collect(options);
      split.parser.push(Buffer.from(c.stream.subarray(0, at)));
      split.parser.push(Buffer.from(c.stream.subarray(at)));
      check(split, `split at ${at}`);
    }
  });

  it('ignores all input after an error, even valid frames', () => {
    const run = collect({ maxFrameSize: 0, expectMasked: null });
    run.parser.push(hex('81 01 61 0a 00 81 01 62'));
    expect(run.frames).toHaveLength(1);
    expect(run.errors).toHaveLength(1);
    expect(run.parser.failed).toBe(true);
    run.parser.push(hex('81 01 63'));
    run.parser.push(hex('89 00'));
    run.parser.push(hex('0a 00'));
    expect(run.frames).toHaveLength(1);
    expect(run.errors).toHaveLength(1);
    expect(run.parser.bufferedBytes).toBe(0);
  });

  it('does not fail a frame exactly at maxFrameSize, and reports the size check only once the header (with mask key) is complete', () => {
    const ok = collect({ maxFrameSize: 1000, expectMasked: null });
    ok.parser.push(frame({ opcode: 2, payload: Buffer.alloc(1000), mask: MASK }));
    expect(ok.errors).toEqual([]);
    expect(ok.frames).toHaveLength(1);

    const big = collect({ maxFrameSize: 1000, expectMasked: null });
    const stream = frame({ opcode: 2, payload: Buffer.alloc(1001), mask: MASK });
    big.parser.push(stream.subarray(0, 7)); // header minus the last mask byte
    expect(big.errors).toHaveLength(0);
    big.parser.push(stream.subarray(7, 8));
    expect(big.errors.map((e) => e.message)).toEqual(['Frame size of 1001 bytes exceeds maximum accepted frame size']);
  });

  it('applies setMaxFrameSize to the next frame, and 0 means no limit', () => {
    const run = collect({ maxFrameSize: 0, expectMasked: null });
    run.parser.push(frame({ opcode: 2, payload: Buffer.alloc(70000) }));
    expect(run.frames).toHaveLength(1);
    run.parser.setMaxFrameSize(10);
    run.parser.push(frame({ opcode: 2, payload: Buffer.alloc(10) }));
    expect(run.frames).toHaveLength(2);
    run.parser.push(frame({ opcode: 2, payload: Buffer.alloc(11) }));
    expect(run.errors.map((e) => e.code)).toEqual(['WS_ERR_FRAME_TOO_BIG']);
  });

  it('accepts RSV1 on data frames once allowed (constructor or setAllowedRsv) and reports it', () => {
    const a = collect({ maxFrameSize: 0, expectMasked: null, allowedRsv: 0x40 });
    a.parser.push(hex('c1 01 61 42 01 62 80 01 63'));
    expect(a.errors).toEqual([]);
    expect(a.frames.map((f) => [f.opcode, f.fin, f.rsv1])).toEqual([
      [1, true, true],
      [2, false, true],
      [0, true, false],
    ]);

    const b = collect();
    b.parser.setAllowedRsv(0x40);
    b.parser.push(hex('c1 01 61'));
    expect(b.frames.map((f) => f.rsv1)).toEqual([true]);
    b.parser.setAllowedRsv(0);
    b.parser.push(hex('c1 01 61'));
    expect(b.errors.map((e) => e.code)).toEqual(['WS_ERR_UNEXPECTED_RSV']);
  });

  it('accepts both masked and unmasked frames when expectMasked is null', () => {
    const run = collect();
    run.parser.push(Buffer.concat([frame({ opcode: 1, payload: text('a') }), frame({ opcode: 1, payload: text('b'), mask: MASK })]));
    expect(run.frames.map((f) => [f.masked, f.payload.toString()])).toEqual([
      [false, 'a'],
      [true, 'b'],
    ]);
    expect(run.errors).toEqual([]);
  });

  it('skips fragment-order checks when checkFragmentation is false', () => {
    const run = collect({ maxFrameSize: 0, expectMasked: null, checkFragmentation: false });
    run.parser.push(hex('80 01 61 01 01 62 81 01 63 02 00'));
    expect(run.errors).toEqual([]);
    expect(run.frames.map((f) => f.opcode)).toEqual([0, 1, 1, 2]);
    // Frame-level rules still apply.
    run.parser.push(hex('83 00'));
    expect(run.errors.map((e) => e.code)).toEqual(['WS_ERR_INVALID_OPCODE']);
  });

  it('halt() drops buffered bytes and stops parsing', () => {
    const run = collect();
    run.parser.push(hex('81 05 61 62'));
    expect(run.parser.bufferedBytes).toBe(2);
    run.parser.halt();
    expect(run.parser.failed).toBe(true);
    expect(run.parser.bufferedBytes).toBe(0);
    run.parser.push(hex('63 64 65 81 00'));
    expect(run.frames).toEqual([]);
    expect(run.errors).toEqual([]);
  });

  it('halt() from inside onFrame stops delivery of the rest of the chunk', () => {
    const run = collect(ANY, (parser) => parser.halt());
    run.parser.push(hex('81 01 61 81 01 62 81 01 63'));
    expect(run.frames).toHaveLength(1);
    expect(run.errors).toEqual([]);
  });
});

describe('FrameParser: pause and resume', () => {
  const three = () => Buffer.concat([frame({ opcode: 1, payload: text('1') }), frame({ opcode: 1, payload: text('22') }), frame({ opcode: 1, payload: text('333') })]);
  const texts = (run: Run) => run.frames.map((f) => f.payload.toString());

  it('buffers while paused and delivers everything on resume', () => {
    const run = collect();
    run.parser.pause();
    run.parser.push(three());
    expect(run.frames).toEqual([]);
    expect(run.parser.bufferedBytes).toBe(3 + 4 + 5);
    run.parser.push(frame({ opcode: 2, payload: Buffer.from([9]) }));
    expect(run.frames).toEqual([]);
    run.parser.resume();
    expect(texts(run)).toEqual(['1', '22', '333', '\t']);
    expect(run.parser.bufferedBytes).toBe(0);
  });

  it('stops after the current frame when pause() is called from inside onFrame', () => {
    const run = collect(ANY, (parser, f) => {
      if (f.payload.toString() === '1') parser.pause();
    });
    run.parser.push(three());
    expect(texts(run)).toEqual(['1']);
    expect(run.parser.bufferedBytes).toBe(4 + 5);
    run.parser.resume();
    expect(texts(run)).toEqual(['1', '22', '333']);
  });

  it('pauses after every frame when the handler always pauses, one frame per resume', () => {
    const run = collect(ANY, (parser) => parser.pause());
    run.parser.push(three());
    expect(texts(run)).toEqual(['1']);
    run.parser.resume();
    expect(texts(run)).toEqual(['1', '22']);
    run.parser.resume();
    expect(texts(run)).toEqual(['1', '22', '333']);
    run.parser.resume();
    expect(texts(run)).toEqual(['1', '22', '333']);
  });

  it('continues when onFrame pauses and resumes synchronously, delivering frames in order', () => {
    const run = collect(ANY, (parser) => {
      parser.pause();
      parser.resume();
    });
    run.parser.push(three());
    expect(texts(run)).toEqual(['1', '22', '333']);
  });

  it('does not re-enter onFrame when onFrame pushes more bytes; they are delivered in order afterwards', () => {
    let depth = 0;
    let maxDepth = 0;
    let pushed = false;
    const run = collect(ANY, (parser) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      if (!pushed) {
        pushed = true;
        parser.push(frame({ opcode: 1, payload: text('late') }));
      }
      depth--;
    });
    run.parser.push(three());
    expect(maxDepth).toBe(1);
    expect(texts(run)).toEqual(['1', '22', '333', 'late']);
  });

  it('resume() without pause() is a no-op', () => {
    const run = collect();
    run.parser.resume();
    run.parser.push(hex('81 01'));
    run.parser.resume();
    expect(run.frames).toEqual([]);
    run.parser.push(hex('61'));
    expect(texts(run)).toEqual(['a']);
  });

  it('still detects errors in buffered bytes on resume', () => {
    const run = collect();
    run.parser.pause();
    run.parser.push(hex('81 01 61 83 00'));
    expect(run.errors).toEqual([]);
    run.parser.resume();
    expect(texts(run)).toEqual(['a']);
    expect(run.errors.map((e) => e.code)).toEqual(['WS_ERR_INVALID_OPCODE']);
  });
});

describe('FrameParser: payloads that arrive over several reads', () => {
  function partials(masked: boolean, pieces: number[]) {
    const payload = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789'.repeat(10));
    const wire = Buffer.concat(encodeFrame(0x1, payload, { maskKey: masked ? Buffer.from([9, 8, 7, 6]) : null }));
    const seen: string[] = [];
    const frames: Buffer[] = [];
    const parser = new FrameParser(ANY, {
      onFrame: (_o, _f, _r, p) => frames.push(Buffer.from(p)),
      onError: (e) => {
        throw e;
      },
      onPartialPayload: (opcode, rsv1, bytes) => seen.push(`${opcode}:${rsv1}:${bytes.toString()}`),
    });
    let at = 0;
    for (const size of pieces) {
      parser.push(wire.subarray(at, at + size));
      at += size;
    }
    parser.push(wire.subarray(at));
    return { payload, seen, frames, headerLength: wire.length - payload.length };
  }

  it.each([false, true])('reports each new piece, unmasked, then the whole frame (masked: %s)', (masked) => {
    const headerLength = masked ? 8 : 4;
    const { payload, seen, frames } = partials(masked, [headerLength + 5, 7, 100]);
    expect(seen).toEqual([
      `1:false:${payload.subarray(0, 5)}`,
      `1:false:${payload.subarray(5, 12)}`,
      `1:false:${payload.subarray(12, 112)}`,
    ]);
    expect(frames).toEqual([payload]);
  });

  it('does not report a header without payload bytes, and delivers a later whole payload as one piece', () => {
    const { seen, frames, payload } = partials(false, [4]);
    expect(seen).toEqual([]);
    expect(frames).toEqual([payload]);
  });

  it('counts gathered payload bytes as buffered', () => {
    const parser = new FrameParser(ANY, { onFrame: () => undefined, onError: () => undefined });
    const wire = Buffer.concat(encodeFrame(0x2, Buffer.alloc(300, 1)));
    parser.push(wire.subarray(0, 104));
    expect(parser.bufferedBytes).toBe(104 - 4);
  });

  it('never reports pieces of control frames', () => {
    const seen: number[] = [];
    const parser = new FrameParser(ANY, { onFrame: () => undefined, onError: () => undefined, onPartialPayload: (op) => seen.push(op) });
    const wire = Buffer.concat(encodeFrame(0x9, Buffer.alloc(100, 2)));
    parser.push(wire.subarray(0, 50));
    parser.push(wire.subarray(50));
    expect(seen).toEqual([]);
  });
});
