/**
 * Property tests of the receive pipeline (frame parser, message assembler, close parsing) on
 * random and mutated byte streams: valid streams survive any chunking intact; damaged ones fail
 * with the close code their damage earns, the same way whatever the chunking, and never throw.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { InputCounter, params, runsFor, timeoutFor } from './budget';
import { chunk, cuts, encodeSpec, hostileFrame, mutate, mutation, validStream, type FrameSpec, type ValidStream } from './wire';
import { describeOutcome, receive, type ModelLimits, type ReceiveEvent } from './receive-model';

const ROOMY: ModelLimits = { maxFrameSize: 1 << 20, maxMessageSize: 1 << 20 };
const TIGHT: ModelLimits = { maxFrameSize: 600, maxMessageSize: 400 };
const CLOSE_CODE_OF: Record<string, number> = {
  WS_ERR_FRAME_TOO_BIG: 1009,
  WS_ERR_MESSAGE_TOO_BIG: 1009,
  WS_ERR_INVALID_UTF8: 1007,
};
const counters: InputCounter[] = [];
afterAll(() => counters.forEach((counter) => counter.report()));

function counter(name: string): InputCounter {
  const c = new InputCounter(name);
  counters.push(c);
  return c;
}

/** The events a valid stream must produce, in wire order. */
function expectedEvents(stream: ValidStream): ReceiveEvent[] {
  const events: ReceiveEvent[] = [];
  let parts: Buffer[] = [];
  let isText = false;
  for (const frame of stream.frames) {
    if (frame.opcode === 0x9 || frame.opcode === 0xa) {
      events.push({ kind: frame.opcode === 0x9 ? 'ping' : 'pong', payload: Buffer.from(frame.payload) });
      continue;
    }
    if (frame.opcode === 0x8) continue;
    if (frame.opcode !== 0x0) {
      isText = frame.opcode === 0x1;
      parts = [];
    }
    parts.push(Buffer.from(frame.payload));
    if (frame.fin) events.push({ kind: 'message', isText, data: Buffer.concat(parts) });
  }
  return events;
}

describe('frame parser fuzzing', () => {
  it('a valid stream cut anywhere yields exactly its messages, control frames and close', () => {
    const inputs = counter('parser: valid streams, random chunking');
    fc.assert(
      fc.property(validStream(), cuts, (stream, at) => {
        inputs.tick();
        const outcome = receive(chunk(stream.bytes, at), ROOMY);
        expect(outcome.error).toBeNull();
        expect(describeOutcome(outcome)).toEqual(describeOutcome({ events: expectedEvents(stream), close: stream.close, error: null }));
      }),
      params(runsFor(300, 150_000)),
    );
  }, timeoutFor(60_000));

  it('any bytes (mutated streams, hostile headers, garbage) give one outcome whatever the chunking, never an exception', () => {
    const inputs = counter('parser: mutated streams, chunking invariance');
    const anyBytes = fc.oneof(
      { weight: 5, arbitrary: fc.tuple(validStream({ maxBytes: 800 }), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([s, ms]) => ms.reduce((b, m) => mutate(b, m), s.bytes)) },
      { weight: 2, arbitrary: fc.array(hostileFrame, { minLength: 1, maxLength: 4 }).map((frames) => Buffer.concat(frames.map(encodeSpec))) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
    );
    fc.assert(
      fc.property(anyBytes, cuts, fc.constantFrom(ROOMY, TIGHT), (bytes, at, limits) => {
        inputs.tick();
        const whole = receive([bytes], limits);
        expect(describeOutcome(receive(chunk(bytes, at), limits))).toEqual(describeOutcome(whole));
        if (bytes.length <= 64) expect(describeOutcome(receive(chunk(bytes, [...bytes.keys()]), limits))).toEqual(describeOutcome(whole));
        if (whole.error) {
          expect(whole.error.code).toMatch(/^WS_ERR_[A-Z0-9_]+$/);
          expect(whole.error.closeCode).toBe(CLOSE_CODE_OF[whole.error.code] ?? 1002);
          // Nothing is delivered after the violation: a close frame cannot follow it either.
          expect(whole.close).toBeNull();
        }
      }),
      params(runsFor(400, 250_000)),
    );
  }, timeoutFor(60_000));

  it('text fails with 1007 exactly when its bytes (joined across fragments) are not UTF-8', () => {
    const inputs = counter('parser: text payloads vs isUtf8');
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.string({ unit: 'binary', maxLength: 40 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, at, byte]) => {
        const bytes = Buffer.from(s, 'utf8');
        if (bytes.length > 0) bytes[at % bytes.length] = byte;
        return bytes;
      }),
    );
    fc.assert(
      fc.property(payload, fc.array(fc.nat(), { maxLength: 4 }), cuts, fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes, fragmentCuts, at, mask) => {
        inputs.tick();
        const pieces = chunk(bytes, fragmentCuts);
        const frames = (pieces.length > 0 ? pieces : [Buffer.alloc(0)]).map((piece, i, all) =>
          encodeSpec({ opcode: i === 0 ? 0x1 : 0x0, fin: i === all.length - 1, rsv: 0, mask, payload: piece }),
        );
        const outcome = receive(chunk(Buffer.concat(frames), at), ROOMY);
        if (isUtf8(bytes)) {
          expect(outcome.error).toBeNull();
          expect(outcome.events).toEqual([{ kind: 'message', isText: true, data: bytes }]);
        } else {
          expect(outcome.error).toEqual({ code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 });
          expect(outcome.events).toEqual([]);
        }
      }),
      params(runsFor(300, 150_000)),
    );
  }, timeoutFor(60_000));

  it('a hostile header fails with one of the rules it breaks, before any of its payload is read', () => {
    const inputs = counter('parser: hostile frame headers');
    const openFragment = fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null });
    fc.assert(
      fc.property(openFragment, hostileFrame, (fragment, frame) => {
        inputs.tick();
        const prefix = fragment === null ? Buffer.alloc(0) : encodeSpec({ opcode: 0x2, fin: false, rsv: 0, mask: Buffer.from([1, 2, 3, 4]), payload: fragment });
        const bytes = encodeSpec(frame);
        const headerLength = bytes.length - frame.payload.length;
        const broken = brokenRules(frame, fragment !== null, TIGHT);
        // The header alone decides: a broken rule fails before any payload byte.
        const headerOnly = receive([prefix, bytes.subarray(0, headerLength)], TIGHT);
        if (broken.length > 0) {
          expect(broken).toContain(headerOnly.error?.code);
          expect(headerOnly.error?.closeCode).toBe(CLOSE_CODE_OF[headerOnly.error?.code ?? ''] ?? 1002);
        } else {
          expect(headerOnly.error).toBeNull();
        }
      }),
      params(runsFor(500, 250_000)),
    );
  }, timeoutFor(60_000));

  it('a valid stream cut short delivers a prefix of its messages and no error', () => {
    const inputs = counter('parser: truncated valid streams');
    fc.assert(
      fc.property(validStream(), fc.nat(), cuts, (stream, end, at) => {
        inputs.tick();
        const length = stream.bytes.length === 0 ? 0 : end % stream.bytes.length;
        const outcome = receive(chunk(stream.bytes.subarray(0, length), at), ROOMY);
        expect(outcome.error).toBeNull();
        const expected = describeOutcome({ events: expectedEvents(stream), close: null, error: null }) as { events: unknown[] };
        const got = describeOutcome(outcome) as { events: unknown[] };
        expect(got.events).toEqual(expected.events.slice(0, got.events.length));
        // The close frame is last: it can only be seen when the whole stream was.
        expect(outcome.close).toBeNull();
      }),
      params(runsFor(200, 100_000)),
    );
  }, timeoutFor(60_000));
});

/**
 * The header rules of RFC 6455 §5 that `frame` breaks (as WS_ERR codes), read from the spec
 * and independent of the order the parser checks them in.
 */
function brokenRules(frame: FrameSpec, inMessage: boolean, limits: ModelLimits): string[] {
  const broken: string[] = [];
  const length = frame.declaredLength ?? BigInt(frame.payload.length);
  const form = frame.lengthForm ?? 'min';
  const length7 = form === '64' || length > 0xffffn ? 127 : form === '16' || length > 125n ? 126 : Number(length);
  const isControl = frame.opcode >= 0x8;
  const known = [0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(frame.opcode);
  if (isControl && length7 > 125) broken.push('WS_ERR_CONTROL_FRAME_TOO_LONG');
  if (isControl && !frame.fin) broken.push('WS_ERR_FRAGMENTED_CONTROL_FRAME');
  if (frame.rsv !== 0) broken.push('WS_ERR_UNEXPECTED_RSV');
  if (!known) broken.push('WS_ERR_INVALID_OPCODE');
  if (frame.opcode === 0x0 && !inMessage) broken.push('WS_ERR_UNEXPECTED_CONTINUATION');
  if ((frame.opcode === 0x1 || frame.opcode === 0x2) && inMessage) broken.push('WS_ERR_OPCODE_IN_FRAGMENTED_MESSAGE');
  if (frame.mask === null) broken.push('WS_ERR_UNMASKED_FRAME');
  if (length7 === 127 && length > 0xffffffffn) broken.push('WS_ERR_UNSUPPORTED_64BIT_LENGTH');
  if (length > BigInt(limits.maxFrameSize)) broken.push('WS_ERR_FRAME_TOO_BIG');
  return broken;
}
