/**
 * The message envelope: binary-safe round trips, the instance id, and refusal of bytes that are
 * not an envelope.
 */
import fc from 'fast-check';
import { EnvelopeEncoder, ENVELOPE_VERSION, MAX_INSTANCE_ID_BYTES, decodeEnvelope } from '@wsuite/redis';

describe('envelope', () => {
  it('round-trips text and binary payloads with the instance id', () => {
    const encoder = new EnvelopeEncoder('node-ä1');
    const text = encoder.encode(Buffer.from('héllo'), false);
    expect(text[0]).toBe(ENVELOPE_VERSION);
    expect(decodeEnvelope(text)).toEqual({ instanceId: 'node-ä1', isBinary: false, payload: Buffer.from('héllo') });
    const bytes = Buffer.from([0, 0xff, 0x0d, 0x0a, 1, 0]);
    expect(decodeEnvelope(encoder.encode(bytes, true))).toEqual({ instanceId: 'node-ä1', isBinary: true, payload: bytes });
    expect(decodeEnvelope(encoder.encode(Buffer.alloc(0), true))).toEqual({ instanceId: 'node-ä1', isBinary: true, payload: Buffer.alloc(0) });
  });

  it('round-trips any payload and id (property test)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.string({ minLength: 1, maxLength: 60 }), fc.boolean(), (payload, id, isBinary) => {
        const envelope = decodeEnvelope(new EnvelopeEncoder(id).encode(Buffer.from(payload), isBinary));
        expect(envelope).not.toBeNull();
        expect(envelope?.instanceId).toBe(Buffer.from(id, 'utf8').toString('utf8'));
        expect(envelope?.isBinary).toBe(isBinary);
        expect(envelope?.payload.equals(Buffer.from(payload))).toBe(true);
      }),
    );
  });

  it('returns the payload as a view of the received bytes (no copy)', () => {
    const bytes = new EnvelopeEncoder('x').encode(Buffer.from('abc'), false);
    expect(decodeEnvelope(bytes)?.payload.buffer).toBe(bytes.buffer);
  });

  it('copies the payload into the envelope (later changes to the caller’s buffer do not leak in)', () => {
    const payload = Buffer.from('abc');
    const bytes = new EnvelopeEncoder('x').encode(payload, false);
    payload.fill(0);
    expect(decodeEnvelope(bytes)?.payload.toString()).toBe('abc');
  });

  it('refuses bytes that are not an envelope', () => {
    expect(decodeEnvelope(Buffer.from('plain text from someone else'))).toBeNull();
    expect(decodeEnvelope(Buffer.from([ENVELOPE_VERSION, 0]))).toBeNull();
    expect(decodeEnvelope(Buffer.from([ENVELOPE_VERSION, 0, 0]))).toBeNull();
    expect(decodeEnvelope(Buffer.from([ENVELOPE_VERSION, 0, 5, 0x61]))).toBeNull();
    expect(decodeEnvelope(Buffer.from([2, 0, 1, 0x61]))).toBeNull();
    expect(decodeEnvelope(Buffer.alloc(0))).toBeNull();
  });

  it('needs an instance id of 1 to 255 UTF-8 bytes (RangeError)', () => {
    expect(() => new EnvelopeEncoder('')).toThrow(new RangeError(`instanceId must be 1 to ${MAX_INSTANCE_ID_BYTES} bytes of UTF-8, got 0.`));
    expect(() => new EnvelopeEncoder('é'.repeat(128))).toThrow(RangeError);
    expect(() => new EnvelopeEncoder('a'.repeat(255))).not.toThrow();
  });
});
