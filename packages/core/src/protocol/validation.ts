/**
 * Predicates over protocol values: close codes, HTTP tokens, header values.
 */
import { CLOSE_CODE_APP_MAX, CLOSE_CODE_APP_MIN, CloseCode } from './constants';

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455 §7.4): 1000–1014 except the
 * reserved 1004 and the never-sent 1005/1006, plus the 3000–4999 ranges. 1015 is refused.
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= CLOSE_CODE_APP_MIN && code <= CLOSE_CODE_APP_MAX) return true;
  return (
    code >= CloseCode.Normal &&
    code <= CloseCode.BadGateway &&
    code !== CloseCode.Reserved &&
    code !== CloseCode.NoStatus &&
    code !== CloseCode.Abnormal
  );
}

/** Separator characters that an HTTP token (RFC 7230 §3.2.6) must not contain. */
const TOKEN_SEPARATORS = '()<>@,;:\\"/[]?={} \t';

/**
 * The first character of `value` that may not appear in an HTTP token (the grammar of
 * subprotocol names), or `undefined` when `value` is a valid, non-empty token.
 */
export function findIllegalTokenChar(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || TOKEN_SEPARATORS.includes(value[i])) return value[i];
  }
  return undefined;
}

/** Whether `value` is a non-empty HTTP token. */
export function isToken(value: string): boolean {
  return value.length > 0 && findIllegalTokenChar(value) === undefined;
}

/** `value` with CR and LF removed, so it can never end a header line early. */
export function stripLineBreaks(value: string): string {
  return value.replace(/[\r\n]/g, '');
}
