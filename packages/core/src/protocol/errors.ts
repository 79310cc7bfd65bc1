/**
 * The error vocabulary: every failure the protocol layer detects has one `WS_ERR_*` code,
 * one close code (or HTTP status) and one message, defined here once.
 */
import { CloseCode } from './constants';

type Message = (detail: string) => string;
const fixed = (text: string): Message => () => text;

/** Protocol failures found while reading frames and messages, with the close code each one earns. */
const PROTOCOL_ERRORS = {
  WS_ERR_CONTROL_FRAME_TOO_LONG: [CloseCode.ProtocolError, fixed('Illegal control frame longer than 125 bytes.')],
  WS_ERR_FRAGMENTED_CONTROL_FRAME: [CloseCode.ProtocolError, fixed('Control frames must not be fragmented.')],
  WS_ERR_UNSUPPORTED_64BIT_LENGTH: [CloseCode.ProtocolError, fixed('Unsupported 64-bit length frame received')],
  WS_ERR_FRAME_TOO_BIG: [CloseCode.MessageTooBig, (n) => `Frame size of ${n} bytes exceeds maximum accepted frame size`],
  WS_ERR_UNEXPECTED_RSV: [CloseCode.ProtocolError, fixed('Unsupported usage of rsv bits without negotiated extension.')],
  WS_ERR_UNEXPECTED_RSV1_ON_CONTROL: [CloseCode.ProtocolError, fixed('RSV1 must be clear on control frames.')],
  WS_ERR_UNEXPECTED_RSV1_ON_CONTINUATION: [CloseCode.ProtocolError, fixed('RSV1 must be clear on continuation frames.')],
  WS_ERR_INVALID_OPCODE: [CloseCode.ProtocolError, (h) => `Unrecognized Opcode: 0x${h}`],
  WS_ERR_OPCODE_IN_FRAGMENTED_MESSAGE: [
    CloseCode.ProtocolError,
    (h) => `Illegal frame opcode 0x${h} received in middle of fragmented message.`,
  ],
  WS_ERR_UNEXPECTED_CONTINUATION: [CloseCode.ProtocolError, fixed('Unexpected Continuation Frame')],
  WS_ERR_UNMASKED_FRAME: [CloseCode.ProtocolError, fixed('Received an unmasked frame from the client.')],
  WS_ERR_MASKED_FRAME: [CloseCode.ProtocolError, fixed('Received a masked frame from the server.')],
  WS_ERR_MESSAGE_TOO_BIG: [CloseCode.MessageTooBig, fixed('Maximum message size exceeded.')],
  WS_ERR_INVALID_UTF8: [CloseCode.InvalidPayload, fixed('Invalid UTF-8 Data Received')],
  WS_ERR_INVALID_CLOSE_LENGTH: [CloseCode.ProtocolError, fixed('Close frame payload must be empty or at least 2 bytes.')],
  WS_ERR_INVALID_CLOSE_CODE: [CloseCode.ProtocolError, (n) => `Invalid close code ${n} received.`],
  WS_ERR_INVALID_COMPRESSED_DATA: [CloseCode.InvalidPayload, (m) => `Invalid compressed data: ${m}`],
} as const satisfies Record<string, readonly [number, Message]>;

/** A stable code naming a protocol failure, e.g. `WS_ERR_INVALID_UTF8`. */
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

/** A protocol violation by the peer: `code` says which, `closeCode` is what the connection closes with. */
export class WebSocketProtocolError extends Error {
  /** The stable error code. */
  readonly code: ProtocolErrorCode;
  /** The close code this violation earns. */
  readonly closeCode: number;

  constructor(code: ProtocolErrorCode, detail = '') {
    const [closeCode, message] = PROTOCOL_ERRORS[code];
    super(message(detail));
    this.name = 'WebSocketProtocolError';
    this.code = code;
    this.closeCode = closeCode;
  }
}

/**
 * A refused upgrade request: the HTTP status and headers to answer with.
 * `httpCode` and `headers` keep the names WebSocket-Node's server reads from handshake errors.
 */
export class HandshakeError extends Error {
  /** The HTTP status to reply with. */
  readonly httpCode: number;
  /** Extra response headers (e.g. `Sec-WebSocket-Version` with a 426). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** A stable code naming the failure. */
  readonly code: string;

  constructor(code: string, httpCode: number, message: string, headers?: Record<string, string>) {
    super(message);
    this.name = 'HandshakeError';
    this.code = code;
    this.httpCode = httpCode;
    this.headers = headers;
  }

  /** Alias of `httpCode`, the name most HTTP code uses. */
  get statusCode(): number {
    return this.httpCode;
  }
}
