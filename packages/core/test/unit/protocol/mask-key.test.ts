/**
 * nextMaskKey: 4-byte keys from a pool of random bytes.
 */
import { nextMaskKey } from '../../../src/protocol/mask-key';

describe('nextMaskKey', () => {
  it('returns 4-byte keys', () => {
    const key = nextMaskKey();
    expect(key).toBeInstanceOf(Uint8Array);
    expect(key).toHaveLength(4);
  });

  it('returns different keys across several pool refills', () => {
    // 6000 keys span three 8 KiB pools. 32-bit random keys: a handful of collisions at most.
    const seen = new Set<string>();
    for (let i = 0; i < 6000; i++) seen.add(Buffer.from(nextMaskKey()).toString('hex'));
    expect(seen.size).toBeGreaterThan(5990);
  });

  it('hands out consecutive, non-overlapping views that stay unchanged until the pool is refilled', () => {
    // Drain to the first key of a fresh pool: its offset drops below the previous key's.
    let previous = nextMaskKey();
    let first = nextMaskKey();
    for (let i = 0; i < 3000 && first.byteOffset > previous.byteOffset; i++) {
      previous = first;
      first = nextMaskKey();
    }
    expect(first.byteOffset).toBeLessThan(previous.byteOffset);
    const snapshot = Array.from(first);
    let last = first;
    for (let i = 0; i < 100; i++) {
      const key = nextMaskKey();
      expect(key.buffer).toBe(first.buffer);
      expect(key.byteOffset).toBe(last.byteOffset + 4);
      last = key;
    }
    expect(Array.from(first)).toEqual(snapshot);
  });
});
