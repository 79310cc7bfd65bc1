/**
 * Byte helpers for the hot path: masking (SIMD kernel for long runs, 32-bit words otherwise), and
 * joining chunk lists.
 */

import { SIMD_MASK_BLOCK, simdMaskKernel, type SimdMaskKernel } from './simd-mask';

/** Below this many bytes the per-byte loop beats setting up a word view. */
const WORD_MASK_THRESHOLD = 32;

/** From this many bytes, copying through the WebAssembly SIMD kernel beats the word loop (bench: 256 B). */
const SIMD_MASK_THRESHOLD = 256;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The four mask bytes starting at `phase`, as the 32-bit word they form in memory on this machine. */
function maskWordAt(mask: Uint8Array, phase: number): number {
  const b0 = mask[phase & 3];
  const b1 = mask[(phase + 1) & 3];
  const b2 = mask[(phase + 2) & 3];
  const b3 = mask[(phase + 3) & 3];
  return LITTLE_ENDIAN ? (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0 : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/**
 * XOR `length` bytes of `source` (from `sourceOffset`) with the 4-byte `mask`, writing to
 * `target` at `targetOffset`. `source` and `target` may be the same buffer (in-place unmask).
 * The mask phase starts at `maskPhase` (the byte index within the payload modulo 4).
 */
export function applyMask(
  source: Uint8Array,
  sourceOffset: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
  mask: Uint8Array,
  maskPhase = 0,
): void {
  if (length >= SIMD_MASK_THRESHOLD) {
    const kernel = simdMaskKernel();
    if (kernel !== null) {
      simdMask(kernel, source.subarray(sourceOffset, sourceOffset + length), target, targetOffset, mask, maskPhase);
      return;
    }
  }
  let i = 0;
  if (length >= WORD_MASK_THRESHOLD && source !== target && ((source.byteOffset + sourceOffset) & 3) !== ((target.byteOffset + targetOffset) & 3)) {
    // Source and target can never both be word-aligned: copy (memcpy), then mask in place.
    target.set(source.subarray(sourceOffset, sourceOffset + length), targetOffset);
    applyMask(target, targetOffset, target, targetOffset, length, mask, maskPhase);
    return;
  }
  if (length >= WORD_MASK_THRESHOLD) {
    // Reach a 4-byte-aligned target address, then XOR whole words with the mask rotated to match.
    const misalign = (target.byteOffset + targetOffset) & 3;
    const lead = misalign === 0 ? 0 : 4 - misalign;
    for (; i < lead; i++) target[targetOffset + i] = source[sourceOffset + i] ^ mask[(maskPhase + i) & 3];
    const sourceAligned = ((source.byteOffset + sourceOffset + i) & 3) === 0;
    if (sourceAligned) {
      const maskWord = maskWordAt(mask, maskPhase + i);
      const words = (length - i) >>> 2;
      const dst = new Uint32Array(target.buffer, target.byteOffset + targetOffset + i, words);
      // Four words per iteration: about 1.5x the plain loop in V8.
      const unrolled = words & ~3;
      let w = 0;
      if (source === target && sourceOffset === targetOffset) {
        for (; w < unrolled; w += 4) {
          dst[w] ^= maskWord;
          dst[w + 1] ^= maskWord;
          dst[w + 2] ^= maskWord;
          dst[w + 3] ^= maskWord;
        }
        for (; w < words; w++) dst[w] ^= maskWord;
      } else {
        const src = new Uint32Array(source.buffer, source.byteOffset + sourceOffset + i, words);
        for (; w < unrolled; w += 4) {
          dst[w] = src[w] ^ maskWord;
          dst[w + 1] = src[w + 1] ^ maskWord;
          dst[w + 2] = src[w + 2] ^ maskWord;
          dst[w + 3] = src[w + 3] ^ maskWord;
        }
        for (; w < words; w++) dst[w] = src[w] ^ maskWord;
      }
      i += words << 2;
    }
  }
  for (; i < length; i++) target[targetOffset + i] = source[sourceOffset + i] ^ mask[(maskPhase + i) & 3];
}

/**
 * `applyMask` through the SIMD kernel, one scratch block at a time: copy in, XOR, copy out.
 * Blocks are a multiple of 4 bytes, so every block starts at the same mask phase; the kernel's
 * 16-byte rounding only touches scratch bytes that are never copied out.
 */
function simdMask(kernel: SimdMaskKernel, source: Uint8Array, target: Uint8Array, targetOffset: number, mask: Uint8Array, maskPhase: number): void {
  const { scratch, mask: kernelMask } = kernel;
  const length = source.length;
  // WebAssembly memory is little-endian whatever the machine is.
  const p = maskPhase;
  const key = mask[p & 3] | (mask[(p + 1) & 3] << 8) | (mask[(p + 2) & 3] << 16) | (mask[(p + 3) & 3] << 24);
  for (let done = 0; done < length; ) {
    const n = Math.min(SIMD_MASK_BLOCK, length - done);
    // One block (the common case) is the caller's view itself: no second view to allocate.
    scratch.set(n === length ? source : source.subarray(done, done + n), 0);
    kernelMask(0, 0, (n + 15) & ~15, key);
    target.set(scratch.subarray(0, n), targetOffset + done);
    done += n;
  }
}

/** Unmask `buffer` in place with a 4-byte key. A key of all zeros leaves the bytes as they are. */
export function unmaskInPlace(buffer: Uint8Array, mask: Uint8Array): void {
  if ((mask[0] | mask[1] | mask[2] | mask[3]) === 0) return;
  applyMask(buffer, 0, buffer, 0, buffer.length, mask);
}

/** Shared empty buffer for empty payloads, so they cost no allocation. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** Join a list of buffers whose total length is known; one buffer is returned as it is. */
export function concatBuffers(list: readonly Buffer[], totalLength: number): Buffer {
  if (list.length === 0) return EMPTY_BUFFER;
  if (list.length === 1) return list[0];
  return Buffer.concat(list, totalLength);
}
