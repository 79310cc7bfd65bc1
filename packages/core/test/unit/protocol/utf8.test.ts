/**
 * Utf8Validator: valid text split anywhere passes; invalid input fails at the first fragment
 * that makes it impossible (Autobahn 6.4.x fail-fast), checked against an independent oracle
 * and against Node's `buffer.isUtf8` on thousands of random inputs.
 */
import { isUtf8 } from 'node:buffer';
import { isValidUtf8, Utf8Validator } from '../../../src/protocol/utf8';
import { prng } from '../../helpers/prng';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** Feed `pieces`, the last one final; the index of the first push returning false, or -1. */
function firstFailure(pieces: Uint8Array[]): number {
  const v = new Utf8Validator();
  for (let i = 0; i < pieces.length; i++) if (!v.push(pieces[i], i === pieces.length - 1)) return i;
  return -1;
}

/** Bytes that can complete any viable prefix: the edges of every continuation-byte range. */
const CONTINUATIONS = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf];

/**
 * An independent oracle: `prefix` is viable when some completion of at most 3 continuation
 * bytes makes it valid UTF-8 (as judged by Node's isUtf8).
 */
function viable(prefix: Uint8Array): boolean {
  if (isUtf8(prefix)) return true;
  // Only the last (at most 3) bytes can be an unfinished sequence; check the rest is valid first.
  const search = (bytes: number[], depth: number): boolean => {
    if (isUtf8(Uint8Array.from(bytes))) return true;
    if (depth === 0) return false;
    return CONTINUATIONS.some((c) => search([...bytes, c], depth - 1));
  };
  const start = Math.max(0, prefix.length - 3);
  // Find the split point: everything before the last lead byte must be valid on its own.
  for (let cut = prefix.length - 1; cut >= start; cut--) {
    if ((prefix[cut] & 0xc0) !== 0x80) {
      return isUtf8(prefix.subarray(0, cut)) && search(Array.from(prefix.subarray(cut)), 3);
    }
  }
  return false;
}

/** Smallest n such that the first n bytes are not viable, or -1 when every prefix is viable. */
function firstImpossibleLength(bytes: Uint8Array): number {
  for (let n = 1; n <= bytes.length; n++) if (!viable(bytes.subarray(0, n))) return n;
  return -1;
}

describe('valid UTF-8 split anywhere', () => {
  const samples = [
    '',
    'plain ascii',
    'é',
    '€',
    '😀',
    'aé€😀z',
    'κόσμε',
    '\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}',
    'Hello-µ@ßöäüàá-UTF-8!!',
    '😀😀😀€€€ééé',
    '\u0000\u007f',
    '\ud7ff\ue000', // around the surrogate block
  ];

  it.each(samples.map((s) => [JSON.stringify(s), Buffer.from(s, 'utf8')] as const))('%s: every one-, two- and three-way split passes', (_n, bytes) => {
    expect(isUtf8(bytes)).toBe(true);
    const failures: string[] = [];
    expect(firstFailure([bytes])).toBe(-1);
    for (let a = 0; a <= bytes.length; a++) {
      if (firstFailure([bytes.subarray(0, a), bytes.subarray(a)]) !== -1) failures.push(`split ${a}`);
      for (let b = a; b <= bytes.length; b++) {
        if (firstFailure([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) !== -1) failures.push(`split ${a}/${b}`);
      }
    }
    // One byte at a time, then an empty final piece.
    const single = Array.from(bytes, (b) => Uint8Array.of(b));
    if (firstFailure([...single, new Uint8Array(0)]) !== -1) failures.push('byte by byte');
    expect(failures).toEqual([]);
  });

  it('a long valid text in random pieces passes', () => {
    const text = 'aé€😀'.repeat(5000);
    const bytes = Buffer.from(text, 'utf8');
    const rand = prng(42);
    for (let trial = 0; trial < 50; trial++) {
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const n = Math.floor(rand() * 50);
        pieces.push(bytes.subarray(at, at + n));
        at += n;
      }
      expect(firstFailure(pieces)).toBe(-1);
    }
  });
});

describe('fail fast (Autobahn 6.4.x)', () => {
  const kosme = 'ce ba e1 bd b9 cf 83 ce bc ce b5';

  it('6.4.1: fails on the first fragment, which ends in an impossible f4 90 80 80, before the message ends', () => {
    const v = new Utf8Validator();
    expect(v.push(hex(`${kosme} f4 90 80 80`), false)).toBe(false);
  });

  it('6.4.2: fails on the fragment holding the 90 after a trailing f4', () => {
    const v = new Utf8Validator();
    expect(v.push(hex(`${kosme} f4`), false)).toBe(true);
    expect(v.push(hex('90'), false)).toBe(false);
  });

  it('6.4.3: fails on the second fragment f4 90 80 80', () => {
    const v = new Utf8Validator();
    expect(v.push(hex(kosme), false)).toBe(true);
    expect(v.push(hex('f4 90 80 80'), false)).toBe(false);
  });

  it('6.4.4: fails on the third fragment 90 after f4', () => {
    const v = new Utf8Validator();
    expect(v.push(hex(kosme), false)).toBe(true);
    expect(v.push(hex('f4'), false)).toBe(true);
    expect(v.push(hex('90'), false)).toBe(false);
  });

  // Each sequence with the index of the byte that makes it impossible.
  const INVALID: [string, string, number][] = [
    ['overlong 2-byte NUL', 'c0 80', 0],
    ['overlong 2-byte c1', 'c1 bf', 0],
    ['overlong 3-byte NUL', 'e0 80 80', 1],
    ['overlong 3-byte U+07FF', 'e0 9f bf', 1],
    ['overlong 4-byte NUL', 'f0 80 80 80', 1],
    ['overlong 4-byte U+FFFF', 'f0 8f bf bf', 1],
    ['high surrogate', 'ed a0 80', 1],
    ['low surrogate', 'ed bf bf', 1],
    ['surrogate pair', 'ed a0 80 ed b0 80', 1],
    ['U+110000', 'f4 90 80 80', 1],
    ['f4 bf', 'f4 bf bf bf', 1],
    ...Array.from({ length: 11 }, (_, i): [string, string, number] => [`lead 0x${(0xf5 + i).toString(16)}`, `${(0xf5 + i).toString(16)} 80 80 80`, 0]),
    ['lone continuation', '80', 0],
    ['continuation after ASCII', '61 bf', 1],
    ['2-byte lead then ASCII', 'c3 41', 1],
    ['3-byte lead, one continuation, then ASCII', 'e2 82 41', 2],
    ['4-byte lead, two continuations, then a lead', 'f0 9f 98 c3 a9', 3],
    ['extra continuation after a whole char', 'c3 a9 a9', 2],
  ];

  it.each(INVALID)('%s (%s) fails at the byte that makes it impossible, however it is split', (_name, h, badIndex) => {
    const prefix = Buffer.from('ok €😀 ', 'utf8');
    const bad = Buffer.concat([prefix, hex(h)]);
    const failAt = prefix.length + badIndex; // index of the offending byte
    expect(firstImpossibleLength(bad)).toBe(failAt + 1); // the oracle agrees
    expect(isValidUtf8(bad)).toBe(false);
    expect(new Utf8Validator().push(bad, true)).toBe(false);
    expect(new Utf8Validator().push(bad, false)).toBe(false);
    // Byte by byte, never final: the push of the offending byte is the first to fail.
    expect(firstFailure([...Array.from(bad, (b) => Uint8Array.of(b)), new Uint8Array(0)])).toBe(failAt);
    // Two pieces: fails in the piece containing the offending byte.
    for (let at = 0; at <= bad.length; at++) {
      const pieces = [bad.subarray(0, at), bad.subarray(at), new Uint8Array(0)];
      expect({ at, fail: firstFailure(pieces) }).toEqual({ at, fail: failAt < at ? 0 : 1 });
    }
  });

  it.each([
    ['2-byte', 'c3'],
    ['3-byte after one byte', 'e2'],
    ['3-byte after two bytes', 'e2 82'],
    ['4-byte after one byte', 'f0'],
    ['4-byte after two bytes', 'f0 9f'],
    ['4-byte after three bytes', 'f0 9f 98'],
  ])('a %s sequence truncated at the final fragment fails only there', (_name, h) => {
    const v = new Utf8Validator();
    expect(v.push(Buffer.from('abc'), false)).toBe(true);
    expect(v.push(hex(h), false)).toBe(true);
    expect(v.push(new Uint8Array(0), true)).toBe(false);
    expect(new Utf8Validator().push(Buffer.concat([Buffer.from('abc'), hex(h)]), true)).toBe(false);
    const split = new Utf8Validator();
    expect(split.push(hex(h).subarray(0, 1), false)).toBe(true);
    expect(split.push(hex(h).subarray(1), true)).toBe(false);
  });

  it('a sequence completed across three fragments passes', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('61 f0'), false)).toBe(true);
    expect(v.push(hex('9f'), false)).toBe(true);
    expect(v.push(hex('98'), false)).toBe(true);
    expect(v.push(hex('80 62'), true)).toBe(true);
  });
});

describe('state between messages', () => {
  it('reset() forgets a pending partial sequence', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('e2 82'), false)).toBe(true);
    v.reset();
    expect(v.push(Buffer.from('a'), true)).toBe(true);
    // Without reset, the same input is invalid.
    const w = new Utf8Validator();
    expect(w.push(hex('e2 82'), false)).toBe(true);
    expect(w.push(Buffer.from('a'), true)).toBe(false);
  });

  it('is usable again after a failure and after a finished message', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('f0 9f'), false)).toBe(true);
    expect(v.push(hex('41'), false)).toBe(false);
    expect(v.push(Buffer.from('fresh'), true)).toBe(true);
    expect(v.push(hex('c3'), false)).toBe(true);
    expect(v.push(hex('a9'), true)).toBe(true);
    expect(v.push(hex('a9'), true)).toBe(false);
    expect(v.push(hex('c3 a9'), true)).toBe(true);
  });

  it('an empty final push with nothing pending passes', () => {
    expect(new Utf8Validator().push(new Uint8Array(0), true)).toBe(true);
    expect(new Utf8Validator().push(new Uint8Array(0), false)).toBe(true);
  });
});

describe('random inputs against Node isUtf8 and the fail-fast oracle', () => {
  /** Mostly valid text with occasional corruption, so both outcomes are frequent. */
  function sample(rand: () => number): Uint8Array {
    const out: number[] = [];
    const n = Math.floor(rand() * 24);
    const corruptions = [0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x90, 0x8f, 0x9f];
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.08) {
        out.push(corruptions[Math.floor(rand() * corruptions.length)]);
      } else if (r < 0.12) {
        out.push(Math.floor(rand() * 256));
      } else {
        // A random code point of 1 to 4 bytes (surrogates skipped).
        const kind = Math.floor(rand() * 4);
        let cp = kind === 0 ? Math.floor(rand() * 0x80) : kind === 1 ? 0x80 + Math.floor(rand() * 0x780) : kind === 2 ? 0x800 + Math.floor(rand() * 0xf800) : 0x10000 + Math.floor(rand() * 0x100000);
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xe000;
        out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      }
    }
    return Uint8Array.from(out);
  }

  it('agrees with isUtf8 and fails exactly at the first impossible piece, for 4000 random inputs in random pieces', () => {
    const rand = prng(2024);
    let valid = 0;
    let invalid = 0;
    const failures: string[] = [];
    for (let trial = 0; trial < 4000; trial++) {
      const bytes = sample(rand);
      const ok = isUtf8(bytes);
      if (ok) valid++;
      else invalid++;
      // Random cut points (possibly empty pieces).
      const cuts = new Set<number>();
      const count = Math.floor(rand() * 5);
      for (let k = 0; k < count; k++) cuts.add(Math.floor(rand() * (bytes.length + 1)));
      const sorted = [0, ...[...cuts].sort((x, y) => x - y), bytes.length];
      const pieces: Uint8Array[] = [];
      for (let k = 0; k + 1 < sorted.length; k++) pieces.push(bytes.subarray(sorted[k], sorted[k + 1]));

      const fail = firstFailure(pieces);
      if (ok !== (fail === -1)) failures.push(`${Buffer.from(bytes).toString('hex')} isUtf8=${ok} validator failed at piece ${fail}`);
      if (!ok) {
        // Fail fast: the first piece whose end makes the prefix impossible.
        const bad = firstImpossibleLength(bytes);
        let end = 0;
        let want = pieces.length - 1; // only the final piece can reveal a truncated tail
        if (bad !== -1) {
          for (let k = 0; k < pieces.length; k++) {
            end += pieces[k].length;
            if (end >= bad) {
              want = k;
              break;
            }
          }
        }
        if (fail !== want) failures.push(`${Buffer.from(bytes).toString('hex')} cuts ${sorted.join(',')} failed at ${fail}, expected ${want}`);
      }
      if (isValidUtf8(bytes) !== ok) failures.push(`isValidUtf8 ${Buffer.from(bytes).toString('hex')}`);
      if (failures.length > 10) break;
    }
    expect(failures).toEqual([]);
    // The generator really produces both kinds.
    expect(valid).toBeGreaterThan(800);
    expect(invalid).toBeGreaterThan(800);
  });

  it('agrees with isUtf8 on 3000 uniformly random short byte strings', () => {
    const rand = prng(7);
    for (let trial = 0; trial < 3000; trial++) {
      const bytes = Uint8Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * 256));
      const at = Math.floor(rand() * (bytes.length + 1));
      const fail = firstFailure([bytes.subarray(0, at), bytes.subarray(at)]);
      expect({ hex: Buffer.from(bytes).toString('hex'), at, valid: fail === -1 }).toEqual({ hex: Buffer.from(bytes).toString('hex'), at, valid: isUtf8(bytes) });
    }
  });
});
