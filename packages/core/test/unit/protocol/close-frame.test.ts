/**
 * parseClosePayload: empty, 1-byte, every code 0..5000 against the RFC 6455 rule, and the
 * reason's UTF-8 check.
 */
import { parseClosePayload } from '../../../src/protocol/close-frame';
import { WebSocketProtocolError } from '../../../src/protocol/errors';

/** RFC 6455 §7.4: 1000-1003, 1007-1014 and 3000-4999 may be sent; nothing else may. */
function rfcValid(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function payload(code: number, reason: Buffer | string = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason]);
}

describe('parseClosePayload', () => {
  it('an empty payload means 1005 (no status) with an empty reason', () => {
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: 1005, reason: '' });
  });

  it('a 1-byte payload is WS_ERR_INVALID_CLOSE_LENGTH (1002)', () => {
    for (const b of [0x00, 0x03, 0xff]) {
      const result = parseClosePayload(Buffer.from([b]));
      expect(result).toBeInstanceOf(WebSocketProtocolError);
      const error = result as WebSocketProtocolError;
      expect(error.code).toBe('WS_ERR_INVALID_CLOSE_LENGTH');
      expect(error.closeCode).toBe(1002);
      expect(error.message).toBe('Close frame payload must be empty or at least 2 bytes.');
    }
  });

  it('accepts exactly the RFC-valid codes among 0..5000', () => {
    const mismatches: string[] = [];
    for (let code = 0; code <= 5000; code++) {
      const result = parseClosePayload(payload(code));
      if (rfcValid(code)) {
        if (result instanceof WebSocketProtocolError || result.code !== code || result.reason !== '') mismatches.push(`${code} should be accepted`);
      } else if (
        !(result instanceof WebSocketProtocolError) ||
        result.code !== 'WS_ERR_INVALID_CLOSE_CODE' ||
        result.closeCode !== 1002 ||
        result.message !== `Invalid close code ${code} received.`
      ) {
        mismatches.push(`${code} should be refused`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it.each([999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])('refuses %d', (code) => {
    const result = parseClosePayload(payload(code, 'why'));
    expect(result).toBeInstanceOf(WebSocketProtocolError);
    expect((result as WebSocketProtocolError).message).toBe(`Invalid close code ${code} received.`);
  });

  it.each([1000, 1001, 1002, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4000, 4999])('accepts %d', (code) => {
    expect(parseClosePayload(payload(code))).toEqual({ code, reason: '' });
  });

  it('decodes the UTF-8 reason', () => {
    expect(parseClosePayload(payload(1000, 'bye'))).toEqual({ code: 1000, reason: 'bye' });
    expect(parseClosePayload(payload(4001, 'ünïcødé € 😀'))).toEqual({ code: 4001, reason: 'ünïcødé € 😀' });
    expect(parseClosePayload(payload(1001, 'x'))).toEqual({ code: 1001, reason: 'x' });
    expect(parseClosePayload(payload(1000, 'r'.repeat(123)))).toEqual({ code: 1000, reason: 'r'.repeat(123) });
  });

  it.each([
    ['lone continuation', '80'],
    ['truncated 2-byte', 'c3'],
    ['truncated 4-byte', 'f0 9f 98'],
    ['overlong', 'c0 80'],
    ['surrogate', 'ed a0 80'],
    ['above U+10FFFF', 'f4 90 80 80'],
    ['0xff', '61 ff 62'],
  ])('an invalid UTF-8 reason (%s) is WS_ERR_INVALID_UTF8 (1007)', (_name, h) => {
    const result = parseClosePayload(payload(1000, Buffer.from(h.replace(/ /g, ''), 'hex')));
    expect(result).toBeInstanceOf(WebSocketProtocolError);
    const error = result as WebSocketProtocolError;
    expect(error.code).toBe('WS_ERR_INVALID_UTF8');
    expect(error.closeCode).toBe(1007);
    expect(error.message).toBe('Invalid UTF-8 Data Received');
  });

  it('checks the code before the reason', () => {
    const result = parseClosePayload(payload(1005, Buffer.from([0xff])));
    expect((result as WebSocketProtocolError).code).toBe('WS_ERR_INVALID_CLOSE_CODE');
  });

  it('reads a payload that is a view into a larger buffer', () => {
    const backing = Buffer.concat([Buffer.from('junk'), payload(3001, 'ok'), Buffer.from('more junk')]);
    expect(parseClosePayload(backing.subarray(4, 8))).toEqual({ code: 3001, reason: 'ok' });
  });
});
