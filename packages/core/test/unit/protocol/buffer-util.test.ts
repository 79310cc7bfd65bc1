/**
 * Masking helpers against a naive per-byte XOR reference, for every length 0..100 and some
 * large ones, every source/target byte alignment and every mask phase, once through the
 * WebAssembly SIMD kernel and once through the JavaScript word loop; plus concatBuffers.
 */
import { applyMask, concatBuffers, EMPTY_BUFFER, unmaskInPlace } from '../../../src/protocol/buffer-util';
import { SIMD_MASK_BLOCK, setSimdMaskEnabled, simdMaskKernel } from '../../../src/protocol/simd-mask';
import { prng } from '../../helpers/prng';

function randomBytes(length: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** The obvious definition: byte i of the payload is XORed with mask[(phase + i) % 4]. */
function naiveMask(source: Uint8Array, mask: Uint8Array, phase: number): Uint8Array {
  const out = new Uint8Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = source[i] ^ mask[(phase + i) % 4];
  return out;
}

const LENGTHS = [...Array.from({ length: 101 }, (_, i) => i), 127, 128, 129, 255, 256, 257, 259, 1000, 1021, 4096, 4099, 65535, 65536, 65537, 2 * SIMD_MASK_BLOCK + 7];
const MASKS = [Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]), Uint8Array.from([0xff, 0x00, 0x80, 0x01])];
const GUARD = 0xa5;

/** A view of `length` bytes at `offset` in a fresh ArrayBuffer, filled with guard bytes around it. */
function region(length: number, offset: number): { whole: Uint8Array; view: Uint8Array } {
  const whole = new Uint8Array(offset + length + 8).fill(GUARD);
  return { whole, view: whole.subarray(offset, offset + length) };
}

describe('the SIMD kernel', () => {
  it('compiles on this Node.js (so the suites below test both paths)', () => {
    const kernel = simdMaskKernel();
    expect(kernel).not.toBeNull();
    expect(kernel!.scratch).toHaveLength(SIMD_MASK_BLOCK);
  });

  it('XORs whole 16-byte lanes of its scratch memory and nothing past len & ~15', () => {
    const kernel = simdMaskKernel()!;
    kernel.scratch.fill(0);
    kernel.mask(0, 0, 35, 0x04030201);
    expect([...kernel.scratch.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
    expect([...kernel.scratch.subarray(28, 36)]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
  });

  it('can be turned off and on again', () => {
    setSimdMaskEnabled(false);
    expect(simdMaskKernel()).toBeNull();
    setSimdMaskEnabled(true);
    expect(simdMaskKernel()).not.toBeNull();
  });
});

describe.each([
  ['the SIMD kernel', true],
  ['the JavaScript word loop', false],
])('masking through %s', (_name, simd) => {
  beforeAll(() => setSimdMaskEnabled(simd));
  afterAll(() => setSimdMaskEnabled(true));

  describe('applyMask', () => {
    it('matches the per-byte reference for every length, alignment (views at offsets 0..3) and phase', () => {
      const rand = prng(1);
      const failures: string[] = [];
      for (const length of LENGTHS) {
        const data = randomBytes(length, rand);
        for (const mask of MASKS) {
          for (let phase = 0; phase < 4; phase++) {
            const want = naiveMask(data, mask, phase);
            for (let so = 0; so < 4; so++) {
              for (let to = 0; to < 4; to++) {
                const src = region(length, so);
                src.view.set(data);
                const dst = region(length, to);
                applyMask(src.view, 0, dst.view, 0, length, mask, phase);
                const ok =
                  Buffer.from(dst.view).equals(Buffer.from(want)) &&
                  dst.whole.subarray(0, to).every((b) => b === GUARD) &&
                  dst.whole.subarray(to + length).every((b) => b === GUARD) &&
                  Buffer.from(src.view).equals(Buffer.from(data));
                if (!ok) failures.push(`length ${length} phase ${phase} source offset ${so} target offset ${to}`);
              }
            }
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('honours sourceOffset and targetOffset arguments for every alignment and phase', () => {
      const rand = prng(2);
      const failures: string[] = [];
      for (const length of [0, 1, 3, 4, 5, 31, 32, 33, 34, 35, 36, 64, 99, 100, 513, 8191]) {
        const data = randomBytes(length, rand);
        const mask = MASKS[length & 1];
        for (let phase = 0; phase < 4; phase++) {
          const want = naiveMask(data, mask, phase);
          for (let so = 0; so < 4; so++) {
            for (let to = 0; to < 4; to++) {
              // Source and target are whole Buffers; the offsets are passed as arguments.
              const source = Buffer.alloc(so + length + 3, 0x11);
              source.set(data, so);
              const target = Buffer.alloc(to + length + 3, GUARD);
              applyMask(source, so, target, to, length, mask, phase);
              const ok =
                target.subarray(to, to + length).equals(Buffer.from(want)) &&
                target.subarray(0, to).every((b) => b === GUARD) &&
                target.subarray(to + length).every((b) => b === GUARD);
              if (!ok) failures.push(`length ${length} phase ${phase} sourceOffset ${so} targetOffset ${to}`);
            }
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('works in place (source and target the same memory) at every alignment and phase', () => {
      const rand = prng(3);
      const failures: string[] = [];
      for (const length of LENGTHS) {
        const data = randomBytes(length, rand);
        for (let phase = 0; phase < 4; phase++) {
          const want = naiveMask(data, MASKS[0], phase);
          for (let offset = 0; offset < 4; offset++) {
            const { whole, view } = region(length, offset);
            view.set(data);
            applyMask(view, 0, view, 0, length, MASKS[0], phase);
            if (!Buffer.from(view).equals(Buffer.from(want)) || !whole.subarray(offset + length).every((b) => b === GUARD)) {
              failures.push(`length ${length} phase ${phase} offset ${offset}`);
            }
            // Same buffer, offsets passed as arguments.
            const buf = Buffer.alloc(length + 4);
            buf.set(data, offset);
            applyMask(buf, offset, buf, offset, length, MASKS[0], phase);
            if (!buf.subarray(offset, offset + length).equals(Buffer.from(want))) failures.push(`args: length ${length} phase ${phase} offset ${offset}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('masking twice with the same key and phase gives back the input', () => {
      const rand = prng(4);
      const data = randomBytes(1000, rand);
      const once = new Uint8Array(1000);
      const twice = new Uint8Array(1000);
      applyMask(data, 0, once, 0, 1000, MASKS[1], 2);
      applyMask(once, 0, twice, 0, 1000, MASKS[1], 2);
      expect(Buffer.from(twice)).toEqual(Buffer.from(data));
      expect(Buffer.from(once)).not.toEqual(Buffer.from(data));
    });

    it('masks a payload in pieces when each piece passes its starting phase', () => {
      const rand = prng(5);
      const data = randomBytes(777, rand);
      const want = naiveMask(data, MASKS[0], 0);
      const out = new Uint8Array(777);
      const cuts = [0, 1, 2, 40, 41, 100, 333, 334, 700, 777];
      for (let k = 0; k + 1 < cuts.length; k++) {
        const from = cuts[k];
        applyMask(data, from, out, from, cuts[k + 1] - from, MASKS[0], from & 3);
      }
      expect(Buffer.from(out)).toEqual(Buffer.from(want));
    });
  });

  describe('unmaskInPlace', () => {
    it('matches the reference for every length and alignment', () => {
      const rand = prng(6);
      const failures: string[] = [];
      for (const length of LENGTHS) {
        const data = randomBytes(length, rand);
        for (const mask of MASKS) {
          const want = naiveMask(data, mask, 0);
          for (let offset = 0; offset < 4; offset++) {
            const { whole, view } = region(length, offset);
            view.set(data);
            unmaskInPlace(view, mask);
            if (!Buffer.from(view).equals(Buffer.from(want)) || !whole.subarray(offset + length).every((b) => b === GUARD)) {
              failures.push(`length ${length} offset ${offset}`);
            }
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('leaves bytes unchanged with the all-zero key', () => {
      const data = Buffer.from('unchanged bytes, all of them, for sure');
      const copy = Buffer.from(data);
      unmaskInPlace(data, new Uint8Array(4));
      expect(data).toEqual(copy);
    });

    it('uses a key with only one non-zero byte', () => {
      const data = Buffer.alloc(9);
      unmaskInPlace(data, Uint8Array.from([0, 0, 0, 1]));
      expect(data).toEqual(Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0]));
    });
  });
});

describe('concatBuffers and EMPTY_BUFFER', () => {
  it('EMPTY_BUFFER is an empty Buffer', () => {
    expect(Buffer.isBuffer(EMPTY_BUFFER)).toBe(true);
    expect(EMPTY_BUFFER).toHaveLength(0);
  });

  it('returns EMPTY_BUFFER for no buffers and the buffer itself for one', () => {
    expect(concatBuffers([], 0)).toBe(EMPTY_BUFFER);
    const one = Buffer.from('one');
    expect(concatBuffers([one], 3)).toBe(one);
  });

  it('joins several buffers in order', () => {
    const out = concatBuffers([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde'), Buffer.from('f')], 6);
    expect(out.toString()).toBe('abcdef');
    expect(out).toHaveLength(6);
  });
});
