/**
 * The error vocabulary: every WS_ERR_* code with its close code and message, and HandshakeError.
 */
import { HandshakeError, WebSocketProtocolError, type ProtocolErrorCode } from '../../../src/protocol/errors';

describe('WebSocketProtocolError', () => {
  it.each<[ProtocolErrorCode, string, number, string]>([
    ['WS_ERR_CONTROL_FRAME_TOO_LONG', '', 1002, 'Illegal control frame longer than 125 bytes.'],
    ['WS_ERR_FRAGMENTED_CONTROL_FRAME', '', 1002, 'Control frames must not be fragmented.'],
    ['WS_ERR_UNSUPPORTED_64BIT_LENGTH', '', 1002, 'Unsupported 64-bit length frame received'],
    ['WS_ERR_FRAME_TOO_BIG', '1001', 1009, 'Frame size of 1001 bytes exceeds maximum accepted frame size'],
    ['WS_ERR_UNEXPECTED_RSV', '', 1002, 'Unsupported usage of rsv bits without negotiated extension.'],
    ['WS_ERR_UNEXPECTED_RSV1_ON_CONTROL', '', 1002, 'RSV1 must be clear on control frames.'],
    ['WS_ERR_UNEXPECTED_RSV1_ON_CONTINUATION', '', 1002, 'RSV1 must be clear on continuation frames.'],
    ['WS_ERR_INVALID_OPCODE', 'b', 1002, 'Unrecognized Opcode: 0xb'],
    ['WS_ERR_OPCODE_IN_FRAGMENTED_MESSAGE', '1', 1002, 'Illegal frame opcode 0x1 received in middle of fragmented message.'],
    ['WS_ERR_UNEXPECTED_CONTINUATION', '', 1002, 'Unexpected Continuation Frame'],
    ['WS_ERR_UNMASKED_FRAME', '', 1002, 'Received an unmasked frame from the client.'],
    ['WS_ERR_MASKED_FRAME', '', 1002, 'Received a masked frame from the server.'],
    ['WS_ERR_MESSAGE_TOO_BIG', '', 1009, 'Maximum message size exceeded.'],
    ['WS_ERR_INVALID_UTF8', '', 1007, 'Invalid UTF-8 Data Received'],
    ['WS_ERR_INVALID_CLOSE_LENGTH', '', 1002, 'Close frame payload must be empty or at least 2 bytes.'],
    ['WS_ERR_INVALID_CLOSE_CODE', '999', 1002, 'Invalid close code 999 received.'],
    ['WS_ERR_INVALID_COMPRESSED_DATA', 'bad block', 1007, 'Invalid compressed data: bad block'],
  ])('%s', (code, detail, closeCode, message) => {
    const error = new WebSocketProtocolError(code, detail);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('WebSocketProtocolError');
    expect(error.code).toBe(code);
    expect(error.closeCode).toBe(closeCode);
    expect(error.message).toBe(message);
    expect(String(error)).toBe(`WebSocketProtocolError: ${message}`);
  });

  it('ignores the detail for fixed messages', () => {
    expect(new WebSocketProtocolError('WS_ERR_INVALID_UTF8', 'ignored').message).toBe('Invalid UTF-8 Data Received');
  });
});

describe('HandshakeError', () => {
  it('carries the status, code, message and headers', () => {
    const error = new HandshakeError('WS_ERR_X', 426, 'nope', { 'Sec-WebSocket-Version': '13' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('HandshakeError');
    expect(error.code).toBe('WS_ERR_X');
    expect(error.httpCode).toBe(426);
    expect(error.statusCode).toBe(426);
    expect(error.message).toBe('nope');
    expect(error.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
  });

  it('has undefined headers when none are given', () => {
    expect(new HandshakeError('WS_ERR_Y', 400, 'bad').headers).toBeUndefined();
  });
});
