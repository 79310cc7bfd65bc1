/**
 * A WebAssembly SIMD masking kernel, embedded as bytes (zero runtime dependencies, no build step).
 *
 * WebAssembly cannot see a Buffer's memory, so the kernel works on a 64 KiB scratch area of its
 * own: the caller copies a block in, the kernel XORs it 16 bytes per instruction, the caller copies
 * it out to wherever it belongs. Two memcpy plus a SIMD pass still beat a JavaScript loop over
 * 32-bit words several times over once a block is a few hundred bytes long.
 */

/** Bytes of scratch memory: one WebAssembly page, also the block size the caller works in. */
export const SIMD_MASK_BLOCK = 65536;

/**
 * The module, hand-assembled. It exports `memory` (one page) and
 * `mask(src, dst, len, key)`: XOR the first `len & ~15` bytes at `src` with `key` (the mask as the
 * little-endian 32-bit word its four bytes form), 16 at a time, storing them at `dst`.
 */
const MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, // type 0: (i32 i32 i32 i32) -> ()
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory 0: min 1 page, no max
  0x07, 0x11, 0x02, // two exports:
  0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // "memory" = memory 0
  0x04, 0x6d, 0x61, 0x73, 0x6b, 0x00, 0x00, // "mask" = function 0
  0x0a, 0x45, 0x01, 0x43, // code: one body of 67 bytes
  0x02, 0x01, 0x7f, 0x01, 0x7b, // locals: 4 = end (i32), 5 = key vector (v128)
  0x20, 0x03, 0xfd, 0x11, 0x21, 0x05, // key vector = i32x4.splat(key)
  0x20, 0x00, 0x20, 0x02, 0x41, 0x70, 0x71, 0x6a, 0x21, 0x04, // end = src + (len & -16)
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 0x00, 0x20, 0x04, 0x4f, 0x0d, 0x01, // if src >= end: break
  0x20, 0x01, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, // dst; v128.load(src)
  0x20, 0x05, 0xfd, 0x51, 0xfd, 0x0b, 0x00, 0x00, // v128.xor with the key; v128.store at dst
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // src += 16
  0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01, // dst += 16
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // continue; end loop, block, function
]);

/** The instantiated kernel: `scratch` views its memory, `mask` XORs a region of it in place. */
export interface SimdMaskKernel {
  readonly scratch: Buffer;
  readonly mask: (src: number, dst: number, length: number, key: number) => void;
}

/** The part of the WebAssembly JS API used here (core compiles without the DOM lib). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

let kernel: SimdMaskKernel | null | undefined;
let disabled = false;

function instantiate(): SimdMaskKernel | null {
  // Runtimes without WebAssembly or its SIMD proposal (`--jitless`, some embedders) use the JS path.
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (typeof wasm !== 'object' || !wasm.validate(MODULE_BYTES)) return null;
  try {
    const instance = new wasm.Instance(new wasm.Module(MODULE_BYTES), {});
    const memory = instance.exports.memory as { buffer: ArrayBuffer };
    // The memory never grows, so this view never detaches.
    const scratch = Buffer.from(memory.buffer, 0, SIMD_MASK_BLOCK);
    return { scratch, mask: instance.exports.mask as SimdMaskKernel['mask'] };
  } catch {
    return null;
  }
}

/** The process-wide kernel, compiled on first use; `null` where WebAssembly SIMD is unavailable. */
export function simdMaskKernel(): SimdMaskKernel | null {
  if (disabled) return null;
  if (kernel === undefined) kernel = instantiate();
  return kernel;
}

/**
 * Turn the kernel off (`false`) or back on, process-wide. For tests and benchmarks that compare
 * it with the JavaScript path; the result of masking is the same either way.
 */
export function setSimdMaskEnabled(enabled: boolean): void {
  disabled = !enabled;
}
