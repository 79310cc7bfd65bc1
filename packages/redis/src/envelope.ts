/**
 * The bytes published on a topic's Redis channel: a small binary header (format version, text
 * or binary, the publishing instance's id) followed by the message bytes as they are. Binary-safe,
 * no JSON, no base64.
 *
 * Layout: `[version = 1][flags: bit 0 = binary][id length n][n bytes of instance id, UTF-8][payload]`.
 */

/** The envelope format version this package writes and reads. */
export const ENVELOPE_VERSION = 1;
const FLAG_BINARY = 0x01;
const HEADER_FIXED_BYTES = 3;
/** Longest instance id, in UTF-8 bytes (its length is one byte of the header). */
export const MAX_INSTANCE_ID_BYTES = 255;

/** A decoded envelope. */
export interface Envelope {
  /** The id of the instance (process) that published the message. */
  instanceId: string;
  /** True for a binary message, false for UTF-8 text. */
  isBinary: boolean;
  /** The message bytes (a view into the received buffer, not a copy). */
  payload: Buffer;
}

/**
 * Encodes envelopes for one instance: the two possible headers (text, binary) are built once,
 * so a publish costs one allocation and one copy of the payload.
 */
export class EnvelopeEncoder {
  private readonly textHeader: Buffer;
  private readonly binaryHeader: Buffer;

  /** @param instanceId this instance's id, 1 to 255 UTF-8 bytes */
  constructor(instanceId: string) {
    const id = Buffer.from(instanceId, 'utf8');
    if (id.length === 0 || id.length > MAX_INSTANCE_ID_BYTES) {
      throw new RangeError(`instanceId must be 1 to ${MAX_INSTANCE_ID_BYTES} bytes of UTF-8, got ${id.length}.`);
    }
    this.textHeader = Buffer.concat([Buffer.from([ENVELOPE_VERSION, 0, id.length]), id]);
    this.binaryHeader = Buffer.concat([Buffer.from([ENVELOPE_VERSION, FLAG_BINARY, id.length]), id]);
  }

  /** The envelope of one message. */
  encode(payload: Buffer, isBinary: boolean): Buffer {
    const header = isBinary ? this.binaryHeader : this.textHeader;
    const out = Buffer.allocUnsafe(header.length + payload.length);
    header.copy(out, 0);
    payload.copy(out, header.length);
    return out;
  }
}

/**
 * Decode an envelope. Returns null for bytes that are not one (another format version, a
 * truncated header), which a subscriber should report and skip.
 */
export function decodeEnvelope(bytes: Buffer): Envelope | null {
  if (bytes.length < HEADER_FIXED_BYTES || bytes[0] !== ENVELOPE_VERSION) return null;
  const idLength = bytes[2];
  const payloadStart = HEADER_FIXED_BYTES + idLength;
  if (idLength === 0 || bytes.length < payloadStart) return null;
  return {
    instanceId: bytes.toString('utf8', HEADER_FIXED_BYTES, payloadStart),
    isBinary: (bytes[1] & FLAG_BINARY) !== 0,
    payload: bytes.subarray(payloadStart),
  };
}

