/**
 * Every number RFC 6455 gives a name to, named once. Pure data: no imports.
 */

/** The GUID that RFC 6455 §1.3 appends to `Sec-WebSocket-Key` before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
/** One of the defined opcodes. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Opcodes at or above this value are control frames (RFC 6455 §5.5). */
export const CONTROL_OPCODE_MIN = 0x8;

/** The largest payload a control frame may carry (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** The largest close reason: a control payload minus the 2-byte status code (RFC 6455 §5.5.1). */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;

/** Largest length that fits the 7-bit length field; 126 and 127 announce extended lengths. */
export const MAX_7BIT_LENGTH = 125;
/** The 7-bit length value announcing a 16-bit extended length. */
export const LENGTH_16BIT_MARKER = 126;
/** The 7-bit length value announcing a 64-bit extended length. */
export const LENGTH_64BIT_MARKER = 127;
/** Largest length the 16-bit extended form can carry. */
export const MAX_16BIT_LENGTH = 0xffff;

/** Bits of the first header byte. */
export const FIN_BIT = 0x80;
export const RSV1_BIT = 0x40;
export const RSV2_BIT = 0x20;
export const RSV3_BIT = 0x10;
export const OPCODE_MASK = 0x0f;
/** Bits of the second header byte. */
export const MASK_BIT = 0x80;
export const LENGTH_MASK = 0x7f;

/** Size of a masking key in bytes. */
export const MASK_KEY_BYTES = 4;
/** The longest frame header: 2 bytes, 8 bytes of 64-bit length, 4 bytes of mask. */
export const MAX_HEADER_BYTES = 14;

/** Close status codes (RFC 6455 §7.4.1 and the IANA registry). */
export const CloseCode = {
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
} as const;
/** A named close code. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** First and last close codes of the ranges that RFC 6455 §7.4.2 leaves to libraries and applications. */
export const CLOSE_CODE_APP_MIN = 3000;
export const CLOSE_CODE_APP_MAX = 4999;

/** WebSocket-Node's description of each close code (`CLOSE_DESCRIPTIONS`). */
export const CLOSE_DESCRIPTIONS: Readonly<Record<number, string>> = Object.freeze({
  1000: 'Normal connection closure',
  1001: 'Remote peer is going away',
  1002: 'Protocol error',
  1003: 'Unprocessable input',
  1004: 'Reserved',
  1005: 'Reason not provided',
  1006: 'Abnormal closure, no further detail available',
  1007: 'Invalid data received',
  1008: 'Policy violation',
  1009: 'Message too big',
  1010: 'Extension requested by client is required',
  1011: 'Internal Server Error',
  1015: 'TLS Handshake Failed',
});

/** WebSocket protocol versions this library speaks (13 is RFC 6455, 8 is hybi-08). */
export const SUPPORTED_VERSIONS: readonly number[] = [8, 13];
/** The version advertised in a 426 reply and sent by default by clients. */
export const DEFAULT_VERSION = 13;
