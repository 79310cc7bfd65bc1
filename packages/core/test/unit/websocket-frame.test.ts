/**
 * The legacy WebSocketFrame (`require('websocket').frame`): the incremental addData() parser
 * fed byte by byte from a BufferList, close-frame handling, error flags and messages,
 * toBuffer() vectors (API doc §6) and toString().
 */
import { FrameParseState, WebSocketFrame } from '../../src/websocket-frame';
import { BufferList, type BufferListLike } from '../../src/buffer-list';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

interface Spec {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  rsv?: number;
  mask?: number[];
}

/** A frame built by hand, masked byte by byte. */
function build(spec: Spec): Buffer {
  const length = spec.payload.length;
  const head = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv ?? 0) | spec.opcode];
  const m = spec.mask ? 0x80 : 0;
  if (length <= 125) head.push(m | length);
  else if (length <= 0xffff) head.push(m | 126, length >> 8, length & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  let body = spec.payload;
  if (spec.mask) {
    head.push(...spec.mask);
    body = Buffer.from(spec.payload.map((b, i) => b ^ (spec.mask as number[])[i & 3]));
  }
  return Buffer.concat([Buffer.from(head), body]);
}

function newFrame(config: { maxReceivedFrameSize?: number } = { maxReceivedFrameSize: 0x100000 }): WebSocketFrame {
  return new WebSocketFrame(Buffer.alloc(4), Buffer.alloc(10), config);
}

/** Feed `bytes` one byte at a time; returns the frame, the parse state after each byte and addData's results. */
function feedByteByByte(bytes: Buffer, frame = newFrame()) {
  const list = new BufferList();
  const states: number[] = [];
  const results: boolean[] = [];
  for (let i = 0; i < bytes.length; i++) {
    list.write(Buffer.from([bytes[i]]));
    results.push(frame.addData(list));
    states.push(frame.parseState);
    if (results[i]) break;
  }
  return { frame, states, results, list };
}

const MASK = [0x37, 0xfa, 0x21, 0x3d];

describe('WebSocketFrame construction', () => {
  it('sets the documented fields', () => {
    const maskBytes = Buffer.alloc(4);
    const frameHeader = Buffer.alloc(10);
    const config = { maxReceivedFrameSize: 1234 };
    const frame = new WebSocketFrame(maskBytes, frameHeader, config);
    expect(frame.maskBytes).toBe(maskBytes);
    expect(frame.frameHeader).toBe(frameHeader);
    expect(frame.config).toBe(config);
    expect(frame.maxReceivedFrameSize).toBe(1234);
    expect(frame.protocolError).toBe(false);
    expect(frame.frameTooLarge).toBe(false);
    expect(frame.invalidCloseFrameLength).toBe(false);
    expect(frame.parseState).toBe(1);
    expect(frame.closeStatus).toBe(-1);
  });

  it('numbers the parse states like WebSocket-Node', () => {
    expect(FrameParseState).toEqual({
      DECODE_HEADER: 1,
      WAITING_FOR_16_BIT_LENGTH: 2,
      WAITING_FOR_64_BIT_LENGTH: 3,
      WAITING_FOR_MASK_KEY: 4,
      WAITING_FOR_PAYLOAD: 5,
      COMPLETE: 6,
    });
  });

  it('works without arguments (no frame size limit)', () => {
    const frame = new WebSocketFrame();
    expect(frame.maskBytes).toHaveLength(4);
    expect(frame.frameHeader).toHaveLength(10);
    expect(frame.maxReceivedFrameSize).toBe(Infinity);
  });
});

describe('WebSocketFrame.addData byte by byte', () => {
  it.each([
    ['unmasked text, 7-bit length', { opcode: 1, payload: Buffer.from('Hello') }],
    ['masked text, 7-bit length', { opcode: 1, payload: Buffer.from('Hello'), mask: MASK }],
    ['masked binary, 125 bytes', { opcode: 2, payload: Buffer.alloc(125, 7), mask: MASK }],
    ['unmasked binary, 16-bit length (126)', { opcode: 2, payload: Buffer.alloc(126, 1) }],
    ['masked binary, 16-bit length (65535)', { opcode: 2, payload: Buffer.alloc(65535, 2), mask: MASK }],
    ['unmasked binary, 64-bit length (65536)', { opcode: 2, payload: Buffer.alloc(65536, 3) }],
    ['masked binary, 64-bit length (66000)', { opcode: 2, payload: Buffer.alloc(66000, 4), mask: MASK }],
    ['non-final continuation', { opcode: 0, payload: Buffer.from('abc'), fin: false }],
    ['ping with 125 bytes', { opcode: 9, payload: Buffer.alloc(125, 9), mask: MASK }],
    ['pong', { opcode: 10, payload: Buffer.from('p') }],
    ['RSV bits and an unknown opcode are not rejected here', { opcode: 3, payload: Buffer.from('r'), rsv: 0x70 }],
  ] as [string, Spec][])('%s', (_name, spec) => {
    const bytes = build(spec);
    const { frame, states, results, list } = feedByteByByte(bytes);
    // false until the very last byte, then true.
    expect(results.slice(0, -1).every((r) => r === false)).toBe(true);
    expect(results).toHaveLength(bytes.length);
    expect(results[results.length - 1]).toBe(true);
    expect(frame.parseState).toBe(FrameParseState.COMPLETE);
    expect(list.length).toBe(0);

    const length = spec.payload.length;
    const lengthState = length > 0xffff ? 3 : length > 125 ? 2 : null;
    // The states visited, in order, with no step backwards.
    const visited = states.filter((s, i) => i === 0 || s !== states[i - 1]);
    const want = [1, ...(lengthState ? [lengthState] : []), ...(spec.mask ? [4] : []), ...(length > 0 ? [5] : []), 6];
    expect(visited).toEqual(want);

    expect(frame.fin).toBe(spec.fin ?? true);
    expect(frame.rsv1).toBe(((spec.rsv ?? 0) & 0x40) !== 0);
    expect(frame.rsv2).toBe(((spec.rsv ?? 0) & 0x20) !== 0);
    expect(frame.rsv3).toBe(((spec.rsv ?? 0) & 0x10) !== 0);
    expect(frame.mask).toBe(spec.mask !== undefined);
    expect(frame.opcode).toBe(spec.opcode);
    expect(frame.length).toBe(length);
    expect(frame.binaryPayload?.equals(spec.payload)).toBe(true);
    expect(frame.protocolError).toBe(false);
    expect(frame.frameTooLarge).toBe(false);
    expect(frame.closeStatus).toBe(-1);
    if (spec.mask) expect([...frame.maskBytes]).toEqual(spec.mask);
  });

  it('reaches each parse state at the right byte (masked 16-bit frame)', () => {
    const bytes = build({ opcode: 2, payload: Buffer.alloc(200, 5), mask: MASK });
    const { states } = feedByteByByte(bytes);
    expect(states.slice(0, 9)).toEqual([1, 2, 2, 4, 4, 4, 4, 5, 5]);
    expect(states[206]).toBe(5);
    expect(states[207]).toBe(6);
  });

  it('reaches each parse state at the right byte (unmasked 64-bit frame)', () => {
    const bytes = build({ opcode: 2, payload: Buffer.alloc(65536) });
    const { states } = feedByteByByte(bytes);
    expect(states.slice(0, 11)).toEqual([1, 3, 3, 3, 3, 3, 3, 3, 3, 5, 5]);
  });

  it('completes an empty frame right after the header', () => {
    const { frame, results } = feedByteByByte(hex('82 00'));
    expect(results).toEqual([false, true]);
    expect(frame.binaryPayload).toHaveLength(0);
    const masked = feedByteByByte(hex('89 80 01 02 03 04'));
    expect(masked.results).toEqual([false, false, false, false, false, true]);
    expect(masked.frame.binaryPayload).toHaveLength(0);
  });

  it('parses consecutive frames from one BufferList, leaving the rest for the next frame', () => {
    const list = new BufferList();
    const maskBytes = Buffer.alloc(4);
    const frameHeader = Buffer.alloc(10);
    list.write(Buffer.concat([build({ opcode: 1, payload: Buffer.from('one'), mask: MASK }), build({ opcode: 2, payload: Buffer.alloc(300, 6) })]));
    list.write(build({ opcode: 9, payload: Buffer.from('ping'), mask: [1, 2, 3, 4] }).subarray(0, 3));
    const f1 = new WebSocketFrame(maskBytes, frameHeader, {});
    expect(f1.addData(list)).toBe(true);
    expect(f1.binaryPayload?.toString()).toBe('one');
    const f2 = new WebSocketFrame(maskBytes, frameHeader, {});
    expect(f2.addData(list)).toBe(true);
    expect(f2.binaryPayload?.equals(Buffer.alloc(300, 6))).toBe(true);
    // Shared scratch buffers, like a connection uses.
    const f3 = new WebSocketFrame(maskBytes, frameHeader, {});
    expect(f3.addData(list)).toBe(false);
    expect(f3.parseState).toBe(FrameParseState.WAITING_FOR_MASK_KEY);
    list.write(build({ opcode: 9, payload: Buffer.from('ping'), mask: [1, 2, 3, 4] }).subarray(3));
    expect(f3.addData(list)).toBe(true);
    expect(f3.binaryPayload?.toString()).toBe('ping');
    expect(list.length).toBe(0);
    // f1's payload is its own copy, not overwritten by later frames.
    expect(f1.binaryPayload?.toString()).toBe('one');
  });

  it('works with any object offering length/joinInto/advance/take, always reading from sourceStart 0', () => {
    const bytes = build({ opcode: 1, payload: Buffer.from('custom list'), mask: MASK });
    let data = Buffer.alloc(0);
    const sourceStarts: number[] = [];
    const list: BufferListLike = {
      get length() {
        return data.length;
      },
      joinInto(target, targetStart, sourceStart, sourceEnd) {
        sourceStarts.push(sourceStart);
        data.copy(target, targetStart, sourceStart, sourceEnd);
        return target;
      },
      advance(n) {
        data = data.subarray(n);
        return this;
      },
      take(n) {
        return Buffer.from(data.subarray(0, n));
      },
    };
    const frame = newFrame();
    for (const b of bytes) {
      data = Buffer.concat([data, Buffer.from([b])]);
      frame.addData(list);
    }
    expect(frame.parseState).toBe(6);
    expect(frame.binaryPayload?.toString()).toBe('custom list');
    expect(sourceStarts.length).toBeGreaterThan(0);
    expect(sourceStarts.every((s) => s === 0)).toBe(true);
  });
});

describe('WebSocketFrame.addData close frames', () => {
  it('reads the status code and strips it from binaryPayload', () => {
    const payload = Buffer.concat([hex('03 e8'), Buffer.from('bye')]);
    for (const mask of [undefined, MASK]) {
      const { frame } = feedByteByByte(build({ opcode: 8, payload, mask }));
      expect(frame.parseState).toBe(6);
      expect(frame.closeStatus).toBe(1000);
      expect(frame.binaryPayload?.toString()).toBe('bye');
      expect(frame.length).toBe(5);
      expect(frame.invalidCloseFrameLength).toBe(false);
    }
  });

  it('reads a status code with no reason', () => {
    const { frame } = feedByteByByte(build({ opcode: 8, payload: hex('0f a0'), mask: MASK }));
    expect(frame.closeStatus).toBe(4000);
    expect(frame.binaryPayload).toHaveLength(0);
  });

  it('keeps closeStatus -1 for an empty close frame', () => {
    const { frame } = feedByteByByte(hex('88 00'));
    expect(frame.closeStatus).toBe(-1);
    expect(frame.binaryPayload).toHaveLength(0);
    expect(frame.invalidCloseFrameLength).toBe(false);
  });

  it('flags a 1-byte close payload with invalidCloseFrameLength and empties it', () => {
    for (const mask of [undefined, MASK]) {
      const { frame, results } = feedByteByByte(build({ opcode: 8, payload: hex('03'), mask }));
      expect(results[results.length - 1]).toBe(true);
      expect(frame.invalidCloseFrameLength).toBe(true);
      expect(frame.binaryPayload).toHaveLength(0);
      expect(frame.closeStatus).toBe(-1);
      expect(frame.protocolError).toBe(false);
    }
  });

  it('fromParsed splits a close payload the same way', () => {
    const frame = WebSocketFrame.fromParsed(8, true, false, hex('03 e9 61'), true, {});
    expect(frame.closeStatus).toBe(1001);
    expect(frame.binaryPayload?.toString()).toBe('a');
    expect(frame.parseState).toBe(6);
    expect(frame.mask).toBe(true);
    expect(frame.length).toBe(3);
    const short = WebSocketFrame.fromParsed(8, true, false, hex('03'), false, {});
    expect(short.invalidCloseFrameLength).toBe(true);
    const text = WebSocketFrame.fromParsed(1, false, true, Buffer.from('hi'), false, {});
    expect([text.opcode, text.fin, text.rsv1, text.binaryPayload?.toString(), text.closeStatus]).toEqual([1, false, true, 'hi', -1]);
  });
});

describe('WebSocketFrame.addData errors', () => {
  it.each([
    ['ping with 126 bytes', hex('89 7e 00 7e'), 2, 'Illegal control frame longer than 125 bytes.'],
    ['close with 7-bit length 127', hex('88 ff'), 2, 'Illegal control frame longer than 125 bytes.'],
    ['ping without FIN', hex('09 00'), 2, 'Control frames must not be fragmented.'],
    ['close without FIN', hex('08 02 03 e8'), 2, 'Control frames must not be fragmented.'],
    ['64-bit length with the high word set', hex('82 7f 00 00 00 01 00 00 00 00 ff'), 10, 'Unsupported 64-bit length frame received'],
  ])('%s sets protocolError and dropReason', (_name, bytes, atByte, reason) => {
    const { frame, results } = feedByteByByte(bytes);
    expect(results).toHaveLength(atByte);
    expect(results.slice(0, -1).every((r) => !r)).toBe(true);
    expect(results[atByte - 1]).toBe(true);
    expect(frame.protocolError).toBe(true);
    expect(frame.frameTooLarge).toBe(false);
    expect(frame.dropReason).toBe(reason);
    expect(frame.parseState).not.toBe(FrameParseState.COMPLETE);
  });

  it('sets frameTooLarge once the mask key is read, before the payload arrives', () => {
    const bytes = build({ opcode: 2, payload: Buffer.alloc(1001), mask: MASK });
    const { frame, results } = feedByteByByte(bytes, newFrame({ maxReceivedFrameSize: 1000 }));
    expect(results).toHaveLength(8); // 4 header bytes + 4 mask bytes
    expect(results[7]).toBe(true);
    expect(frame.frameTooLarge).toBe(true);
    expect(frame.protocolError).toBe(false);
    expect(frame.dropReason).toBe('Frame size of 1001 bytes exceeds maximum accepted frame size');
    expect(frame.parseState).not.toBe(FrameParseState.COMPLETE);
  });

  it('reports the size of a too-large 64-bit frame', () => {
    const { frame } = feedByteByByte(hex('82 7f 00 00 00 00 00 10 00 00'), newFrame({ maxReceivedFrameSize: 0x10000 }));
    expect(frame.frameTooLarge).toBe(true);
    expect(frame.dropReason).toBe('Frame size of 1048576 bytes exceeds maximum accepted frame size');
  });

  it('accepts a frame exactly at maxReceivedFrameSize', () => {
    const { frame } = feedByteByByte(build({ opcode: 2, payload: Buffer.alloc(1000, 1) }), newFrame({ maxReceivedFrameSize: 1000 }));
    expect(frame.frameTooLarge).toBe(false);
    expect(frame.parseState).toBe(6);
  });
});

describe('WebSocketFrame.throwAwayPayload', () => {
  it('skips length bytes once they are all there', () => {
    const frame = newFrame();
    frame.length = 3;
    const list = new BufferList();
    list.write(Buffer.from('ab'));
    expect(frame.throwAwayPayload(list)).toBe(false);
    expect(list.length).toBe(2);
    list.write(Buffer.from('cde'));
    expect(frame.throwAwayPayload(list)).toBe(true);
    expect(frame.parseState).toBe(6);
    expect(list.take().toString()).toBe('de');
  });
});

describe('WebSocketFrame.toBuffer', () => {
  function make(fields: Partial<WebSocketFrame>): WebSocketFrame {
    return Object.assign(newFrame(), fields);
  }

  it('a masked ping with no data and nullMask is 89 80 00 00 00 00', () => {
    expect(make({ fin: true, mask: true, opcode: 9 }).toBuffer(true)).toEqual(hex('89 80 00 00 00 00'));
  });

  it('a 200-byte binary payload gives 82 FE 00 C8 plus a zero mask', () => {
    const payload = Buffer.alloc(200, 0x5a);
    const out = make({ fin: true, mask: true, opcode: 2, binaryPayload: payload }).toBuffer(true);
    expect(out.subarray(0, 8)).toEqual(hex('82 FE 00 C8 00 00 00 00'));
    expect(out.subarray(8)).toEqual(payload);
    expect(make({ fin: true, opcode: 2, binaryPayload: payload }).toBuffer()).toEqual(Buffer.concat([hex('82 7E 00 C8'), payload]));
  });

  it('a 66000-byte payload gives 82 FF 00000000 000101D0 plus a zero mask', () => {
    const payload = Buffer.alloc(66000, 0x33);
    const frame = make({ fin: true, mask: true, opcode: 2, binaryPayload: payload });
    const out = frame.toBuffer(true);
    expect(out.subarray(0, 14)).toEqual(hex('82 FF 00000000 000101D0 00000000'));
    expect(out.subarray(14).equals(payload)).toBe(true);
    expect(frame.length).toBe(66000);
    const unmasked = make({ fin: true, opcode: 2, binaryPayload: payload }).toBuffer();
    expect(unmasked.subarray(0, 10)).toEqual(hex('82 7F 00000000 000101D0'));
    expect(unmasked).toHaveLength(66010);
  });

  it('writes FIN, RSV1-3 and the low 4 bits of the opcode', () => {
    expect(make({ fin: false, opcode: 1, binaryPayload: Buffer.from('a') }).toBuffer()).toEqual(hex('01 01 61'));
    expect(make({ fin: true, rsv1: true, rsv2: true, rsv3: true, opcode: 0x12 }).toBuffer()).toEqual(hex('f2 00'));
    expect(make({ fin: true, rsv2: true, opcode: 1 }).toBuffer()).toEqual(hex('a1 00'));
    expect(make({ fin: true, rsv3: true, opcode: 1 }).toBuffer()).toEqual(hex('91 00'));
  });

  it('prepends closeStatus to a close payload and updates length', () => {
    const frame = make({ fin: true, opcode: 8, closeStatus: 1000, binaryPayload: Buffer.from('bye') });
    expect(frame.toBuffer()).toEqual(hex('88 05 03 e8 62 79 65'));
    expect(frame.length).toBe(5);
    expect(make({ fin: true, mask: true, opcode: 8, closeStatus: 1001 }).toBuffer(true)).toEqual(hex('88 82 00 00 00 00 03 e9'));
  });

  it('throws a RangeError for a close frame without a status', () => {
    expect(() => make({ fin: true, opcode: 8 }).toBuffer()).toThrow(RangeError);
  });

  it('masks with a fresh key written to maskBytes, without touching binaryPayload, and parses back', () => {
    const payload = Buffer.from('round trip through addData, masked with a random key');
    const before = Buffer.from(payload);
    const frame = make({ fin: true, mask: true, opcode: 1, binaryPayload: payload });
    const out = frame.toBuffer();
    expect(payload).toEqual(before);
    expect(out[1] & 0x80).toBe(0x80);
    expect(out.subarray(2, 6)).toEqual(frame.maskBytes);
    const { frame: parsed } = feedByteByByte(out);
    expect(parsed.binaryPayload?.equals(payload)).toBe(true);
    expect(parsed.mask).toBe(true);
    expect(frame.length).toBe(payload.length);
  });

  it('parses back every length form, masked and not', () => {
    for (const length of [0, 1, 125, 126, 65535, 65536]) {
      for (const mask of [false, true]) {
        const payload = Buffer.alloc(length, length & 0xff);
        const out = make({ fin: true, mask, opcode: 2, binaryPayload: payload }).toBuffer();
        const list = new BufferList();
        list.write(out);
        const parsed = newFrame();
        expect(parsed.addData(list)).toBe(true);
        expect(parsed.length).toBe(length);
        expect(parsed.binaryPayload?.equals(payload)).toBe(true);
      }
    }
  });
});

describe('WebSocketFrame.toString', () => {
  it('formats opcode, fin, length, hasPayload and masked', () => {
    const { frame } = feedByteByByte(build({ opcode: 1, payload: Buffer.from('Hello'), mask: MASK }));
    expect(frame.toString()).toBe('Opcode: 1, fin: true, length: 5, hasPayload: true, masked: true');
    const bare = newFrame();
    bare.opcode = 9;
    bare.fin = true;
    expect(bare.toString()).toBe('Opcode: 9, fin: true, length: 0, hasPayload: false, masked: false');
  });
});
