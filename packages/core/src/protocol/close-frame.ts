/**
 * Reading the payload of a received close frame (RFC 6455 §5.5.1, §7.4).
 */
import { CloseCode } from './constants';
import { WebSocketProtocolError } from './errors';
import { isValidCloseCode } from './validation';
import { isValidUtf8 } from './utf8';

/** What a close frame said. */
export interface CloseInfo {
  /** The status code, or 1005 (`NoStatus`) when the frame carried none. */
  code: number;
  /** The reason text ('' when absent). */
  reason: string;
}

/** Decode a close payload, or return the violation it contains. */
export function parseClosePayload(payload: Buffer): CloseInfo | WebSocketProtocolError {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: '' };
  if (payload.length === 1) return new WebSocketProtocolError('WS_ERR_INVALID_CLOSE_LENGTH');
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) return new WebSocketProtocolError('WS_ERR_INVALID_CLOSE_CODE', String(code));
  const reasonBytes = payload.subarray(2);
  if (!isValidUtf8(reasonBytes)) return new WebSocketProtocolError('WS_ERR_INVALID_UTF8');
  return { code, reason: reasonBytes.toString('utf8') };
}
