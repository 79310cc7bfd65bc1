/**
 * UTF-8 validation that works on a message delivered in pieces and fails at the first piece
 * that cannot be the start of valid UTF-8 (Autobahn 6.4.x "fail fast").
 */
import { isUtf8 } from 'node:buffer';

/** Length of the sequence a lead byte starts, or 0 when it cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Whether `bytes[0..length)` is a correct prefix of one UTF-8 sequence (RFC 3629 table 3-7:
 * the second byte's range depends on the lead to exclude overlongs, surrogates and > U+10FFFF).
 */
function isSequencePrefix(bytes: Uint8Array, length: number): boolean {
  const lead = bytes[0];
  if (length > 1) {
    const second = bytes[1];
    let low = 0x80;
    let high = 0xbf;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f;
    else if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
    if (second < low || second > high) return false;
  }
  for (let i = 2; i < length; i++) if ((bytes[i] & 0xc0) !== 0x80) return false;
  return true;
}

/**
 * An incremental UTF-8 validator for one message. Feed each fragment with `push`; it returns
 * false as soon as the bytes seen so far cannot be the prefix of valid UTF-8.
 */
export class Utf8Validator {
  // The lead bytes of a sequence cut by a fragment boundary (at most 3).
  // Allocated on first use: most text never has a sequence cut by a fragment boundary.
  private pendingBytes: Uint8Array | null = null;
  private pendingLength = 0;

  /** Validate the next piece; `final` says the message ends with it. */
  push(chunk: Uint8Array, final: boolean): boolean {
    let start = 0;
    if (this.pendingLength > 0) {
      const pending = this.pendingBytes as Uint8Array;
      const need = sequenceLength(pending[0]);
      while (this.pendingLength < need && start < chunk.length) pending[this.pendingLength++] = chunk[start++];
      if (!isSequencePrefix(pending, this.pendingLength)) return this.fail();
      if (this.pendingLength < need) return final ? this.fail() : true;
      this.pendingLength = 0;
    }
    // Find where a trailing, cut-off sequence begins: scan back over at most 3 continuation bytes.
    let tail = chunk.length;
    for (let i = chunk.length - 1; i >= start && i >= chunk.length - 3; i--) {
      const b = chunk[i];
      if ((b & 0xc0) === 0x80) continue;
      const need = sequenceLength(b);
      if (need > 1 && i + need > chunk.length) tail = i;
      break;
    }
    if (tail > start && !isUtf8(chunk.subarray(start, tail))) return this.fail();
    if (tail < chunk.length) {
      if (final) return this.fail();
      const rest = chunk.subarray(tail);
      if (!isSequencePrefix(rest, rest.length)) return this.fail();
      if (!this.pendingBytes) this.pendingBytes = new Uint8Array(4);
      this.pendingBytes.set(rest);
      this.pendingLength = rest.length;
    }
    return true;
  }

  /** Forget any partial sequence so the validator can serve the next message. */
  reset(): void {
    this.pendingLength = 0;
  }

  private fail(): false {
    this.pendingLength = 0;
    return false;
  }
}

/** Whether a whole buffer is valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes);
}
