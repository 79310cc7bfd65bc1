/**
 * MessageAssembler: single-frame and fragmented messages, the message size limit on every
 * frame, fail-fast UTF-8 validation, and reuse across messages.
 */
import { MessageAssembler } from '../../../src/protocol/message-assembler';
import { WebSocketProtocolError } from '../../../src/protocol/errors';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;

function setup(maxMessageSize = 1000) {
  const messages: { isText: boolean; data: Buffer }[] = [];
  const errors: WebSocketProtocolError[] = [];
  const assembler = new MessageAssembler(
    { maxMessageSize },
    {
      onMessage: (isText, data) => messages.push({ isText, data }),
      onError: (error) => errors.push(error),
    },
  );
  return { assembler, messages, errors };
}

function expectError(errors: WebSocketProtocolError[], code: string, closeCode: number, message: string) {
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(WebSocketProtocolError);
  expect(errors[0].code).toBe(code);
  expect(errors[0].closeCode).toBe(closeCode);
  expect(errors[0].message).toBe(message);
}

describe('MessageAssembler: messages', () => {
  it('delivers a single-frame text message as the payload itself (no copy)', () => {
    const { assembler, messages, errors } = setup();
    const payload = Buffer.from('héllo');
    expect(assembler.push(TEXT, true, payload)).toBe(true);
    expect(messages).toHaveLength(1);
    expect(messages[0].isText).toBe(true);
    expect(messages[0].data).toBe(payload);
    expect(errors).toEqual([]);
  });

  it('delivers a single-frame binary message without UTF-8 checks', () => {
    const { assembler, messages } = setup();
    const payload = hex('ff fe c0 80');
    expect(assembler.push(BINARY, true, payload)).toBe(true);
    expect(messages).toEqual([{ isText: false, data: payload }]);
  });

  it('delivers empty messages', () => {
    const { assembler, messages } = setup();
    assembler.push(TEXT, true, Buffer.alloc(0));
    assembler.push(BINARY, false, Buffer.alloc(0));
    assembler.push(CONT, true, Buffer.alloc(0));
    expect(messages.map((m) => [m.isText, m.data.length])).toEqual([
      [true, 0],
      [false, 0],
    ]);
  });

  it('joins a fragmented text message (text + continuation + continuation FIN), characters cut across fragments', () => {
    const { assembler, messages, errors } = setup();
    const whole = Buffer.from('a€b😀c', 'utf8'); // 61 e2 82 ac 62 f0 9f 98 80 63
    expect(assembler.push(TEXT, false, whole.subarray(0, 2))).toBe(true);
    expect(assembler.pendingBytes).toBe(2);
    expect(assembler.push(CONT, false, whole.subarray(2, 7))).toBe(true);
    expect(assembler.pendingBytes).toBe(7);
    expect(messages).toEqual([]);
    expect(assembler.push(CONT, true, whole.subarray(7))).toBe(true);
    expect(errors).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(messages[0].isText).toBe(true);
    expect(messages[0].data).toEqual(whole);
    expect(messages[0].data.toString()).toBe('a€b😀c');
    expect(assembler.pendingBytes).toBe(0);
  });

  it('joins a fragmented binary message', () => {
    const { assembler, messages } = setup();
    assembler.push(BINARY, false, hex('01 02'));
    assembler.push(CONT, false, hex('03'));
    assembler.push(CONT, false, Buffer.alloc(0));
    assembler.push(CONT, true, hex('04 05'));
    expect(messages).toEqual([{ isText: false, data: hex('01 02 03 04 05') }]);
  });

  it('is reusable: one message after another, of either type and shape', () => {
    const { assembler, messages, errors } = setup();
    assembler.push(TEXT, false, Buffer.from('one-'));
    assembler.push(CONT, true, Buffer.from('a'));
    assembler.push(BINARY, true, hex('ff'));
    assembler.push(TEXT, true, Buffer.from('two'));
    assembler.push(BINARY, false, hex('00'));
    assembler.push(CONT, true, hex('01'));
    assembler.push(TEXT, false, Buffer.from('thr'));
    assembler.push(CONT, true, Buffer.from('ee'));
    expect(errors).toEqual([]);
    expect(messages.map((m) => [m.isText, m.data.toString('hex')])).toEqual([
      [true, Buffer.from('one-a').toString('hex')],
      [false, 'ff'],
      [true, Buffer.from('two').toString('hex')],
      [false, '0001'],
      [true, Buffer.from('three').toString('hex')],
    ]);
  });

  it('a binary message after a text message is not UTF-8 checked', () => {
    const { assembler, messages, errors } = setup();
    assembler.push(TEXT, true, Buffer.from('ok'));
    assembler.push(BINARY, false, hex('c0'));
    assembler.push(CONT, true, hex('80'));
    expect(errors).toEqual([]);
    expect(messages).toHaveLength(2);
  });

  it('a new message forgets an unfinished UTF-8 sequence of an abandoned one', () => {
    const { assembler, messages, errors } = setup();
    assembler.push(TEXT, false, hex('e2 82'));
    assembler.push(TEXT, false, Buffer.from('x'));
    assembler.push(CONT, true, Buffer.from('y'));
    expect(errors).toEqual([]);
    expect(messages.map((m) => m.data.toString())).toEqual(['xy']);
  });
});

describe('MessageAssembler: size limit', () => {
  const TOO_BIG: [string, number, string] = ['WS_ERR_MESSAGE_TOO_BIG', 1009, 'Maximum message size exceeded.'];

  it('refuses a single frame over the limit', () => {
    const { assembler, messages, errors } = setup(10);
    expect(assembler.push(BINARY, true, Buffer.alloc(11))).toBe(false);
    expectError(errors, ...TOO_BIG);
    expect(messages).toEqual([]);
  });

  it('refuses a first fragment over the limit', () => {
    const { assembler, errors } = setup(10);
    expect(assembler.push(TEXT, false, Buffer.alloc(11, 0x61))).toBe(false);
    expectError(errors, ...TOO_BIG);
  });

  it('refuses on the continuation that takes the total over the limit', () => {
    const { assembler, messages, errors } = setup(10);
    expect(assembler.push(BINARY, false, Buffer.alloc(4))).toBe(true);
    expect(assembler.push(CONT, false, Buffer.alloc(4))).toBe(true);
    expect(errors).toEqual([]);
    expect(assembler.push(CONT, false, Buffer.alloc(3))).toBe(false);
    expectError(errors, ...TOO_BIG);
    expect(messages).toEqual([]);
    expect(assembler.pendingBytes).toBe(0);
  });

  it('accepts a message exactly at the limit, single or fragmented', () => {
    const { assembler, messages, errors } = setup(10);
    expect(assembler.push(BINARY, true, Buffer.alloc(10))).toBe(true);
    expect(assembler.push(TEXT, false, Buffer.alloc(6, 0x61))).toBe(true);
    expect(assembler.push(CONT, true, Buffer.alloc(4, 0x62))).toBe(true);
    expect(errors).toEqual([]);
    expect(messages.map((m) => m.data.length)).toEqual([10, 10]);
  });

  it('counts each message on its own', () => {
    const { assembler, messages, errors } = setup(10);
    for (let i = 0; i < 5; i++) {
      assembler.push(BINARY, false, Buffer.alloc(5));
      assembler.push(CONT, true, Buffer.alloc(5));
    }
    expect(errors).toEqual([]);
    expect(messages).toHaveLength(5);
  });

  it('setMaxMessageSize changes the limit', () => {
    const { assembler, errors } = setup(10);
    assembler.setMaxMessageSize(20);
    expect(assembler.push(BINARY, true, Buffer.alloc(20))).toBe(true);
    assembler.setMaxMessageSize(5);
    expect(assembler.push(BINARY, true, Buffer.alloc(6))).toBe(false);
    expectError(errors, ...TOO_BIG);
  });
});

describe('MessageAssembler: UTF-8', () => {
  const BAD_UTF8: [string, number, string] = ['WS_ERR_INVALID_UTF8', 1007, 'Invalid UTF-8 Data Received'];

  it('refuses an invalid single-frame text message', () => {
    const { assembler, messages, errors } = setup();
    expect(assembler.push(TEXT, true, hex('61 c0 80'))).toBe(false);
    expectError(errors, ...BAD_UTF8);
    expect(messages).toEqual([]);
  });

  it('refuses a single-frame text message ending in a truncated sequence', () => {
    const { assembler, errors } = setup();
    expect(assembler.push(TEXT, true, hex('61 e2 82'))).toBe(false);
    expectError(errors, ...BAD_UTF8);
  });

  it('fails fast at the bad fragment, before the message ends (Autobahn 6.4.1)', () => {
    const { assembler, messages, errors } = setup();
    expect(assembler.push(TEXT, false, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80'))).toBe(false);
    expectError(errors, ...BAD_UTF8);
    expect(messages).toEqual([]);
  });

  it('fails fast on a continuation (Autobahn 6.4.4: f4 then 90)', () => {
    const { assembler, errors } = setup();
    expect(assembler.push(TEXT, false, hex('ce ba e1 bd b9 cf 83 ce bc ce b5'))).toBe(true);
    expect(assembler.push(CONT, false, hex('f4'))).toBe(true);
    expect(errors).toEqual([]);
    expect(assembler.push(CONT, false, hex('90'))).toBe(false);
    expectError(errors, ...BAD_UTF8);
  });

  it('refuses a fragmented text message whose last fragment leaves a sequence unfinished', () => {
    const { assembler, errors } = setup();
    expect(assembler.push(TEXT, false, hex('61 f0 9f'))).toBe(true);
    expect(assembler.push(CONT, true, hex('98'))).toBe(false);
    expectError(errors, ...BAD_UTF8);
  });

  it('reports the first violation in byte order: bad text within the limit, else the size', () => {
    // The same bytes give the same error whether they arrive whole or piece by piece.
    const cases: Array<[string, string]> = [
      ['c0 80 80', 'WS_ERR_INVALID_UTF8'],
      ['61 61 c0', 'WS_ERR_MESSAGE_TOO_BIG'],
      ['61 e2 82', 'WS_ERR_MESSAGE_TOO_BIG'],
    ];
    for (const [bytes, code] of cases) {
      const whole = setup(2);
      expect(whole.assembler.push(TEXT, true, hex(bytes))).toBe(false);
      expect(whole.errors.map((e) => e.code)).toEqual([code]);
      const streamed = setup(2);
      const payload = hex(bytes);
      const partial = [...payload].every((_, i) => streamed.errors.length > 0 || streamed.assembler.pushPartial(TEXT, payload.subarray(i, i + 1)));
      if (partial) streamed.assembler.push(TEXT, true, payload);
      expect(streamed.errors.map((e) => e.code)).toEqual([code]);
    }
  });

  it('serves the next message after a violation', () => {
    const { assembler, messages, errors } = setup();
    expect(assembler.push(TEXT, false, hex('f0 9f'))).toBe(true);
    expect(assembler.push(CONT, false, hex('41'))).toBe(false);
    expect(errors).toHaveLength(1);
    expect(assembler.pendingBytes).toBe(0);
    expect(assembler.push(TEXT, false, Buffer.from('fi'))).toBe(true);
    expect(assembler.push(CONT, true, Buffer.from('ne'))).toBe(true);
    expect(messages.map((m) => m.data.toString())).toEqual(['fine']);
  });
});

describe('MessageAssembler.pushPartial (text streaming in within one frame)', () => {
  it('fails at the first piece that cannot be UTF-8, before the frame completes', () => {
    const { assembler, errors } = setup();
    expect(assembler.pushPartial(TEXT, Buffer.from('κόσμε'))).toBe(true);
    expect(assembler.pushPartial(TEXT, hex('f4'))).toBe(true);
    expect(errors).toEqual([]);
    expect(assembler.pushPartial(TEXT, hex('90'))).toBe(false);
    expectError(errors, 'WS_ERR_INVALID_UTF8', 1007, 'Invalid UTF-8 Data Received');
  });

  it('checks only the unseen rest when the whole frame arrives', () => {
    const { assembler, messages, errors } = setup();
    const text = Buffer.from('héllo wörld ✓');
    assembler.pushPartial(TEXT, text.subarray(0, 2));
    assembler.pushPartial(TEXT, text.subarray(2, 7));
    expect(assembler.push(TEXT, true, text)).toBe(true);
    expect(errors).toEqual([]);
    expect(messages.map((m) => m.data.toString())).toEqual(['héllo wörld ✓']);
  });

  it('works for a continuation frame streaming in, and ends with a truncated character as invalid', () => {
    const { assembler, messages, errors } = setup();
    assembler.push(TEXT, false, Buffer.from('ab'));
    assembler.pushPartial(CONT, Buffer.from('cd'));
    assembler.push(CONT, true, Buffer.from('cdef'));
    expect(messages.map((m) => m.data.toString())).toEqual(['abcdef']);
    assembler.pushPartial(TEXT, hex('61 e2 82'));
    expect(assembler.push(TEXT, true, hex('61 e2 82'))).toBe(false);
    expectError(errors, 'WS_ERR_INVALID_UTF8', 1007, 'Invalid UTF-8 Data Received');
  });

  it('enforces the message size on pieces and ignores UTF-8 in binary frames', () => {
    const { assembler, errors } = setup(10);
    expect(assembler.pushPartial(BINARY, hex('ff fe fd'))).toBe(true);
    expect(errors).toEqual([]);
    expect(assembler.pushPartial(BINARY, Buffer.alloc(8))).toBe(false);
    expectError(errors, 'WS_ERR_MESSAGE_TOO_BIG', 1009, 'Maximum message size exceeded.');
  });
});
