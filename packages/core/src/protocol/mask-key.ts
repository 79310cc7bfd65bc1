/**
 * Masking keys from a pool of cryptographically random bytes, refilled in bulk, so masking a
 * frame never costs a call into the random source.
 */
import { randomFillSync } from 'node:crypto';
import { MASK_KEY_BYTES } from './constants';

const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** A fresh 4-byte masking key. The view is valid until the next {@link nextMaskKey} refill. */
export function nextMaskKey(): Uint8Array {
  if (poolOffset + MASK_KEY_BYTES > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const key = pool.subarray(poolOffset, poolOffset + MASK_KEY_BYTES);
  poolOffset += MASK_KEY_BYTES;
  return key;
}

