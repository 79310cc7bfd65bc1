/**
 * The RFC 6455 numbers and WebSocket-Node's close descriptions.
 */
import {
  CLOSE_CODE_APP_MAX,
  CLOSE_CODE_APP_MIN,
  CLOSE_DESCRIPTIONS,
  CloseCode,
  CONTROL_OPCODE_MIN,
  DEFAULT_VERSION,
  FIN_BIT,
  LENGTH_16BIT_MARKER,
  LENGTH_64BIT_MARKER,
  LENGTH_MASK,
  MASK_BIT,
  MASK_KEY_BYTES,
  MAX_16BIT_LENGTH,
  MAX_7BIT_LENGTH,
  MAX_CLOSE_REASON_BYTES,
  MAX_CONTROL_PAYLOAD,
  MAX_HEADER_BYTES,
  Opcode,
  OPCODE_MASK,
  RSV1_BIT,
  RSV2_BIT,
  RSV3_BIT,
  SUPPORTED_VERSIONS,
  WEBSOCKET_GUID,
} from '../../../src/protocol/constants';

describe('protocol constants', () => {
  it('has the RFC 6455 GUID', () => {
    expect(WEBSOCKET_GUID).toBe('258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  });

  it('has the RFC 6455 opcodes', () => {
    expect(Opcode).toEqual({ Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 });
    expect(CONTROL_OPCODE_MIN).toBe(8);
  });

  it('has the frame header bits and sizes', () => {
    expect([FIN_BIT, RSV1_BIT, RSV2_BIT, RSV3_BIT, OPCODE_MASK]).toEqual([0x80, 0x40, 0x20, 0x10, 0x0f]);
    expect([MASK_BIT, LENGTH_MASK]).toEqual([0x80, 0x7f]);
    expect([MAX_7BIT_LENGTH, LENGTH_16BIT_MARKER, LENGTH_64BIT_MARKER, MAX_16BIT_LENGTH]).toEqual([125, 126, 127, 65535]);
    expect([MASK_KEY_BYTES, MAX_HEADER_BYTES]).toEqual([4, 14]);
    expect([MAX_CONTROL_PAYLOAD, MAX_CLOSE_REASON_BYTES]).toEqual([125, 123]);
  });

  it('has the close codes', () => {
    expect(CloseCode).toEqual({
      Normal: 1000,
      GoingAway: 1001,
      ProtocolError: 1002,
      UnsupportedData: 1003,
      Reserved: 1004,
      NoStatus: 1005,
      Abnormal: 1006,
      InvalidPayload: 1007,
      PolicyViolation: 1008,
      MessageTooBig: 1009,
      MandatoryExtension: 1010,
      InternalError: 1011,
      ServiceRestart: 1012,
      TryAgainLater: 1013,
      BadGateway: 1014,
      TlsHandshake: 1015,
    });
    expect([CLOSE_CODE_APP_MIN, CLOSE_CODE_APP_MAX]).toEqual([3000, 4999]);
  });

  it("has WebSocket-Node's close descriptions, frozen", () => {
    expect(CLOSE_DESCRIPTIONS[1000]).toBe('Normal connection closure');
    expect(CLOSE_DESCRIPTIONS[1002]).toBe('Protocol error');
    expect(CLOSE_DESCRIPTIONS[1005]).toBe('Reason not provided');
    expect(CLOSE_DESCRIPTIONS[1006]).toBe('Abnormal closure, no further detail available');
    expect(CLOSE_DESCRIPTIONS[1009]).toBe('Message too big');
    expect(CLOSE_DESCRIPTIONS[1015]).toBe('TLS Handshake Failed');
    expect(CLOSE_DESCRIPTIONS[1012]).toBeUndefined();
    expect(Object.isFrozen(CLOSE_DESCRIPTIONS)).toBe(true);
  });

  it('speaks versions 8 and 13 and advertises 13', () => {
    expect(SUPPORTED_VERSIONS).toEqual([8, 13]);
    expect(DEFAULT_VERSION).toBe(13);
  });
});
