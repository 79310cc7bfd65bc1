/**
 * The frame encoder: known byte vectors, header sizes, zero-copy and no-mutation guarantees,
 * text frames, fragmentation, close payloads, UTF-8 truncation, and a round trip through
 * FrameParser with random payloads and mask keys.
 */
import {
  COPY_PAYLOAD_THRESHOLD,
  encodeClosePayload,
  encodeFragmentedMessage,
  encodeFrame,
  encodeTextFrame,
  frameHeaderLength,
  truncateUtf8,
  writeFrameHeader,
} from '../../../src/protocol/frame-encoder';
import { FrameParser } from '../../../src/protocol/frame-parser';
import { prng } from '../../helpers/prng';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const ZERO_MASK = new Uint8Array(4);

function bytes(length: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

const join = (parts: Buffer[]) => Buffer.concat(parts);

interface Parsed {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  masked: boolean;
  payload: Buffer;
}

/** Parse a byte stream with FrameParser, failing the test on any protocol error. */
function parse(stream: Buffer | Buffer[], checkFragmentation = true): Parsed[] {
  const frames: Parsed[] = [];
  const parser = new FrameParser(
    { maxFrameSize: 0, expectMasked: null, allowedRsv: 0x40, checkFragmentation },
    {
      onFrame: (opcode, fin, rsv1, payload, masked) => frames.push({ opcode, fin, rsv1, masked, payload: Buffer.from(payload) }),
      onError: (e) => {
        throw e;
      },
    },
  );
  for (const chunk of Array.isArray(stream) ? stream : [stream]) parser.push(Buffer.from(chunk));
  expect(parser.bufferedBytes).toBe(0);
  return frames;
}

describe('known vectors (API doc §6)', () => {
  it('a masked empty ping with the zero mask is 89 80 00 00 00 00', () => {
    expect(join(encodeFrame(0x9, Buffer.alloc(0), { maskKey: ZERO_MASK }))).toEqual(hex('89 80 00 00 00 00'));
  });

  it('a 200-byte binary payload has the header 82 FE 00 C8 (masked) / 82 7E 00 C8 (unmasked)', () => {
    const payload = bytes(200, 1);
    const masked = join(encodeFrame(0x2, payload, { maskKey: ZERO_MASK }));
    expect(masked.subarray(0, 8)).toEqual(hex('82 FE 00 C8 00 00 00 00'));
    expect(masked.subarray(8)).toEqual(payload);
    expect(masked).toHaveLength(208);
    const unmasked = join(encodeFrame(0x2, payload));
    expect(unmasked.subarray(0, 4)).toEqual(hex('82 7E 00 C8'));
    expect(unmasked.subarray(4)).toEqual(payload);
  });

  it('a 66000-byte payload has the header 82 FF 00000000 000101D0', () => {
    const payload = bytes(66000, 2);
    const masked = join(encodeFrame(0x2, payload, { maskKey: ZERO_MASK }));
    expect(masked.subarray(0, 14)).toEqual(hex('82 FF 00000000 000101D0 00000000'));
    expect(masked.subarray(14)).toEqual(payload);
    const unmasked = join(encodeFrame(0x2, payload));
    expect(unmasked.subarray(0, 10)).toEqual(hex('82 7F 00000000 000101D0'));
    expect(unmasked.subarray(10)).toEqual(payload);
  });

  it('RFC 6455 §5.7 examples', () => {
    expect(join(encodeFrame(0x1, Buffer.from('Hello')))).toEqual(hex('81 05 48 65 6c 6c 6f'));
    const key = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);
    expect(join(encodeFrame(0x1, Buffer.from('Hello'), { maskKey: key }))).toEqual(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
    expect(join(encodeFrame(0x1, Buffer.from('Hel'), { fin: false }))).toEqual(hex('01 03 48 65 6c'));
    expect(join(encodeFrame(0x0, Buffer.from('lo')))).toEqual(hex('80 02 6c 6f'));
    expect(join(encodeFrame(0xa, Buffer.from('Hello'), { maskKey: key }))).toEqual(hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'));
    expect(join(encodeFrame(0x2, Buffer.alloc(256)))).toEqual(Buffer.concat([hex('82 7E 01 00'), Buffer.alloc(256)]));
    expect(join(encodeFrame(0x2, Buffer.alloc(65536)))).toEqual(Buffer.concat([hex('82 7F 0000000000010000'), Buffer.alloc(65536)]));
  });

  it('sets RSV1 and clears FIN when asked', () => {
    expect(join(encodeFrame(0x1, Buffer.from('a'), { rsv1: true }))).toEqual(hex('c1 01 61'));
    expect(join(encodeFrame(0x2, Buffer.from('a'), { rsv1: true, fin: false }))).toEqual(hex('42 01 61'));
    expect(join(encodeFrame(0x1, Buffer.from('a'), { fin: true }))).toEqual(hex('81 01 61'));
  });
});

describe('header sizes', () => {
  it.each([
    [0, 2],
    [1, 2],
    [125, 2],
    [126, 4],
    [65535, 4],
    [65536, 10],
    [2 ** 32, 10],
  ])('payload %d: %d header bytes unmasked, +4 masked', (length, size) => {
    expect(frameHeaderLength(length, false)).toBe(size);
    expect(frameHeaderLength(length, true)).toBe(size + 4);
  });

  it.each([0, 1, 125, 126, 65535, 65536])('encodeFrame of %d unmasked bytes has the matching header', (length) => {
    const frame = join(encodeFrame(0x2, Buffer.alloc(length)));
    expect(frame.length - length).toBe(frameHeaderLength(length, false));
    const masked = join(encodeFrame(0x2, Buffer.alloc(length), { maskKey: Uint8Array.from([1, 2, 3, 4]) }));
    expect(masked.length - length).toBe(frameHeaderLength(length, true));
  });

  it('writeFrameHeader writes at an offset, returns the header size and leaves other bytes alone', () => {
    const target = Buffer.alloc(20, 0xee);
    expect(writeFrameHeader(target, 3, 0x2, 300, { maskKey: Uint8Array.from([9, 8, 7, 6]) })).toBe(8);
    expect(target).toEqual(Buffer.concat([Buffer.alloc(3, 0xee), hex('82 FE 01 2C 09 08 07 06'), Buffer.alloc(9, 0xee)]));
    const big = Buffer.alloc(10);
    expect(writeFrameHeader(big, 0, 0x1, 2 ** 32 + 5, { fin: false })).toBe(10);
    expect(big).toEqual(hex('01 7F 00000001 00000005'));
  });
});

describe('encodeFrame buffers', () => {
  it('returns one buffer for small unmasked payloads (up to the copy threshold)', () => {
    for (const length of [0, 1, 125, 126, COPY_PAYLOAD_THRESHOLD]) {
      const payload = bytes(length, length);
      const out = encodeFrame(0x2, payload);
      expect(out).toHaveLength(1);
      expect(out[0].subarray(frameHeaderLength(length, false))).toEqual(payload);
    }
  });

  it('returns [header, payload] without copying large unmasked payloads', () => {
    for (const length of [COPY_PAYLOAD_THRESHOLD + 1, 65535, 65536, 100000]) {
      const payload = bytes(length, length);
      const out = encodeFrame(0x2, payload);
      expect(out).toHaveLength(2);
      expect(out[0]).toHaveLength(frameHeaderLength(length, false));
      expect(out[1]).toBe(payload);
    }
  });

  it('wraps a large plain Uint8Array payload as a Buffer view of the same memory', () => {
    const backing = new Uint8Array(5000);
    backing.fill(7);
    const payload = backing.subarray(100, 3100);
    const out = encodeFrame(0x2, payload);
    expect(out).toHaveLength(2);
    expect(Buffer.isBuffer(out[1])).toBe(true);
    expect(out[1].buffer).toBe(backing.buffer);
    expect(out[1].byteOffset).toBe(100);
    expect(out[1]).toHaveLength(3000);
  });

  it('returns a single buffer for masked payloads of any size', () => {
    for (const length of [0, 10, 2000, 70000]) {
      expect(encodeFrame(0x2, Buffer.alloc(length), { maskKey: Uint8Array.from([1, 2, 3, 4]) })).toHaveLength(1);
    }
  });

  it('never mutates the caller payload when masking', () => {
    const key = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
    for (const length of [1, 5, 31, 32, 33, 1024, 1025, 70000]) {
      const payload = bytes(length, length + 3);
      const before = Buffer.from(payload);
      const frame = join(encodeFrame(0x2, payload, { maskKey: key }));
      expect(payload).toEqual(before);
      const header = frameHeaderLength(length, true);
      for (let i = 0; i < length; i += 97) expect(frame[header + i]).toBe(payload[i] ^ key[i & 3]);
    }
  });

  it('accepts a plain Uint8Array (not a Buffer) for small and masked payloads', () => {
    const payload = Uint8Array.from([1, 2, 3]);
    expect(join(encodeFrame(0x2, payload))).toEqual(hex('82 03 01 02 03'));
    expect(join(encodeFrame(0x2, payload, { maskKey: Uint8Array.from([1, 1, 1, 1]) }))).toEqual(hex('82 83 01 01 01 01 00 03 02'));
  });
});

describe('encodeTextFrame', () => {
  const samples = ['', 'a', 'Hello', 'héllo wörld', '€'.repeat(41), '😀'.repeat(40), 'x'.repeat(125), 'y'.repeat(126), 'ü'.repeat(33000), 'z'.repeat(65536)];
  const options = [{}, { maskKey: Uint8Array.from([0x12, 0x34, 0x56, 0x78]) }, { fin: false }, { rsv1: true, maskKey: ZERO_MASK }];

  it.each(samples.map((s) => [s.length, s] as const))('equals encodeFrame of the UTF-8 bytes (string of %d chars)', (_n, text) => {
    const utf8 = Buffer.from(text, 'utf8');
    for (const opts of options) {
      for (const opcode of [0x1, 0x0]) {
        expect(encodeTextFrame(text, utf8.length, opcode, opts).equals(join(encodeFrame(opcode, utf8, opts)))).toBe(true);
      }
    }
  });
});

describe('encodeFragmentedMessage', () => {
  const keyFn = () => null;

  it('splits at the threshold: first frame opcode, then continuations, FIN only on the last', () => {
    const payload = Buffer.from('0123456789');
    const out = encodeFragmentedMessage(0x1, payload, 4, keyFn);
    expect(out).toEqual([hex('01 04 30 31 32 33'), hex('00 04 34 35 36 37'), hex('80 02 38 39')]);
    expect(parse(out).map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [1, false, '0123'],
      [0, false, '4567'],
      [0, true, '89'],
    ]);
  });

  it('does not add an empty frame when the payload divides evenly', () => {
    const out = encodeFragmentedMessage(0x2, Buffer.from('abcdefgh'), 4, keyFn);
    expect(parse(out).map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [2, false, 'abcd'],
      [0, true, 'efgh'],
    ]);
  });

  it('sends one FIN frame when the payload fits in one fragment', () => {
    expect(encodeFragmentedMessage(0x2, Buffer.from('abcd'), 4, keyFn)).toEqual([hex('82 04 61 62 63 64')]);
    expect(encodeFragmentedMessage(0x1, Buffer.from('ab'), 100, keyFn)).toEqual([hex('81 02 61 62')]);
  });

  it('sends one empty FIN frame for an empty payload', () => {
    const maskKey = jest.fn(() => null);
    expect(encodeFragmentedMessage(0x1, Buffer.alloc(0), 4, maskKey)).toEqual([hex('81 00')]);
    expect(maskKey).toHaveBeenCalledTimes(1);
  });

  it('asks for one mask key per frame and masks each frame with its own key', () => {
    let n = 0;
    const maskKey = jest.fn(() => Uint8Array.from([++n, n, n, n]));
    const payload = bytes(10, 5);
    const out = encodeFragmentedMessage(0x2, payload, 3, maskKey);
    expect(maskKey).toHaveBeenCalledTimes(4);
    expect(out.map((f) => f.subarray(2, 6))).toEqual([hex('01010101'), hex('02020202'), hex('03030303'), hex('04040404')]);
    const frames = parse(out);
    expect(frames.every((f) => f.masked)).toBe(true);
    expect(Buffer.concat(frames.map((f) => f.payload))).toEqual(payload);
    expect(frames.map((f) => f.payload.length)).toEqual([3, 3, 3, 1]);
  });

  it('handles large unmasked fragments (header + payload view per frame)', () => {
    const payload = bytes(40000, 6);
    const out = encodeFragmentedMessage(0x2, payload, 16384, keyFn);
    expect(out).toHaveLength(6);
    expect(out[1].buffer).toBe(payload.buffer);
    const frames = parse(out);
    expect(frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([
      [2, false, 16384],
      [0, false, 16384],
      [0, true, 40000 - 2 * 16384],
    ]);
    expect(Buffer.concat(frames.map((f) => f.payload))).toEqual(payload);
  });

  it('never mutates the payload when masking fragments', () => {
    const payload = bytes(5000, 8);
    const before = Buffer.from(payload);
    encodeFragmentedMessage(0x2, payload, 1000, () => Uint8Array.from([0xff, 0x0f, 0xf0, 0x55]));
    expect(payload).toEqual(before);
  });
});

describe('round trip through FrameParser', () => {
  it('decodes 300 random frames (random lengths, opcodes, flags and mask keys) fed in random chunks', () => {
    const rand = prng(12345);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
    const lengths = [0, 1, 2, 3, 4, 5, 31, 32, 33, 125, 126, 127, 1023, 1024, 1025, 65535, 65536, 70001];
    const wanted: Parsed[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const length = rand() < 0.5 ? pick(lengths) : Math.floor(rand() * 3000);
      const payload = bytes(length, i + 1000);
      const maskKey = rand() < 0.6 ? Uint8Array.from([0, 1, 2, 3].map(() => Math.floor(rand() * 256))) : null;
      const opcode = pick([0x0, 0x1, 0x2]);
      const fin = rand() < 0.7;
      const rsv1 = opcode !== 0x0 && rand() < 0.2; // RSV1 is illegal on continuations
      const before = Buffer.from(payload);
      parts.push(...encodeFrame(opcode, payload, { fin, rsv1, maskKey }));
      expect(payload.equals(before)).toBe(true);
      wanted.push({ opcode, fin, rsv1, masked: maskKey !== null, payload });
    }
    // Control frames too (at most 125 bytes).
    for (let i = 0; i < 50; i++) {
      const payload = bytes(Math.floor(rand() * 126), i + 5000);
      const maskKey = rand() < 0.5 ? Uint8Array.from([0, 1, 2, 3].map(() => Math.floor(rand() * 256))) : null;
      const opcode = pick([0x8, 0x9, 0xa]);
      parts.push(...encodeFrame(opcode, payload, { maskKey }));
      wanted.push({ opcode, fin: true, rsv1: false, masked: maskKey !== null, payload });
    }
    const stream = Buffer.concat(parts);
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 20 : 20000));
      chunks.push(stream.subarray(at, at + n));
      at += n;
    }
    const got = parse(chunks, false);
    expect(got).toHaveLength(wanted.length);
    got.forEach((f, i) => {
      expect({ i, opcode: f.opcode, fin: f.fin, rsv1: f.rsv1, masked: f.masked }).toEqual({ i, opcode: wanted[i].opcode, fin: wanted[i].fin, rsv1: wanted[i].rsv1, masked: wanted[i].masked });
      expect(f.payload.equals(wanted[i].payload)).toBe(true);
    });
  });

  it('decodes random text frames from encodeTextFrame', () => {
    const rand = prng(777);
    const alphabet = ['a', 'Z', ' ', 'é', 'ß', '€', '中', '😀', '\u0000', '\u07ff', '\uffff'];
    for (let i = 0; i < 200; i++) {
      let text = '';
      const n = Math.floor(rand() * 200);
      for (let k = 0; k < n; k++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const maskKey = rand() < 0.5 ? Uint8Array.from([0, 1, 2, 3].map(() => Math.floor(rand() * 256))) : null;
      const [frame] = parse(encodeTextFrame(text, Buffer.byteLength(text), 0x1, { maskKey }));
      expect(frame.payload.toString('utf8')).toBe(text);
      expect(frame.masked).toBe(maskKey !== null);
    }
  });
});

describe('encodeClosePayload', () => {
  it('is empty without a code', () => {
    expect(encodeClosePayload(undefined, undefined)).toEqual(Buffer.alloc(0));
    expect(encodeClosePayload(undefined, 'ignored')).toEqual(Buffer.alloc(0));
  });

  it('is the big-endian code followed by the UTF-8 reason', () => {
    expect(encodeClosePayload(1000, undefined)).toEqual(hex('03 e8'));
    expect(encodeClosePayload(1000, '')).toEqual(hex('03 e8'));
    expect(encodeClosePayload(1001, 'bye')).toEqual(hex('03 e9 62 79 65'));
    expect(encodeClosePayload(4999, 'ü€😀')).toEqual(Buffer.concat([hex('13 87'), Buffer.from('ü€😀', 'utf8')]));
    expect(encodeClosePayload(0xffff, 'x')).toEqual(hex('ff ff 78'));
  });
});

describe('truncateUtf8', () => {
  it('returns the text unchanged when it fits', () => {
    expect(truncateUtf8('hello', 5)).toBe('hello');
    expect(truncateUtf8('héllo', 6)).toBe('héllo');
    expect(truncateUtf8('', 0)).toBe('');
  });

  it('cuts ASCII at the byte limit', () => {
    expect(truncateUtf8('hello', 3)).toBe('hel');
    expect(truncateUtf8('hello', 0)).toBe('');
    expect(truncateUtf8('x'.repeat(200), 123)).toBe('x'.repeat(123));
  });

  it('never cuts a 2-, 3- or 4-byte character', () => {
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('a€', 2)).toBe('a');
    expect(truncateUtf8('a€', 3)).toBe('a');
    expect(truncateUtf8('a€', 4)).toBe('a€');
    expect(truncateUtf8('a😀', 4)).toBe('a');
    expect(truncateUtf8('a😀', 5)).toBe('a😀');
    expect(truncateUtf8('😀😀', 7)).toBe('😀');
  });

  it('returns the longest whole-character prefix for every limit', () => {
    const texts = ['aé€😀b', '😀é😀€x', '€€€', 'ééé', '中文字符😀', 'ÿ\u0800\uffff\u{10000}\u{10ffff}'];
    for (const text of texts) {
      const chars = Array.from(text);
      const total = Buffer.byteLength(text);
      for (let max = 0; max <= total + 1; max++) {
        const out = truncateUtf8(text, max);
        // The longest prefix made of whole characters that fits.
        let want = '';
        for (const c of chars) {
          if (Buffer.byteLength(want + c) > max) break;
          want += c;
        }
        expect({ text, max, out }).toEqual({ text, max, out: want });
        expect(out.includes('\ufffd')).toBe(false);
      }
    }
  });
});
