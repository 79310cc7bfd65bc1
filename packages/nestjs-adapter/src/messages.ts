/**
 * The message format: how a received frame becomes `{ event, data }` and how a reply becomes a
 * frame, by default and for `exception` frames.
 */
import type { WebSocketServer } from '@wsuite/core';
import type { MessageParser, MessageSerializer, ParsedMessage } from './options';

/** The event a binary frame is dispatched as by the default parser (`data` is the Buffer). */
export const BINARY_EVENT = 'binary';

/** The event exceptions are delivered to the client as: `{ event: 'exception', data: {...} }`. */
export const EXCEPTION_EVENT = 'exception';

/** What this adapter sends, as `data` of an `exception` frame, for a message it could not dispatch. */
export interface InvalidMessagePayload {
  status: 'error';
  message: string;
}

/** Text: `JSON.parse` (expects `{ event, data }`); binary: `{ event: BINARY_EVENT, data: <Buffer> }`. */
export const defaultMessageParser: MessageParser = (data, { isBinary }) =>
  isBinary ? { event: BINARY_EVENT, data } : (JSON.parse(data as string) as ParsedMessage);

/** Buffers and other ArrayBuffer views go out as binary, anything else as JSON text. */
export const defaultMessageSerializer: MessageSerializer = (response) => {
  if (Buffer.isBuffer(response)) return response;
  if (ArrayBuffer.isView(response)) return Buffer.from(response.buffer, response.byteOffset, response.byteLength);
  return JSON.stringify(response);
};

/** Whether a parser's result has the `{ event: string }` shape the adapter dispatches on. */
export function isParsedMessage(value: unknown): value is ParsedMessage {
  return typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string';
}

/**
 * Send `{ event, data }` as JSON text to every open connection of a gateway's server (encoded
 * once). `server.emit()` is a local EventEmitter call and reaches no client.
 */
export function broadcastEvent(server: WebSocketServer, event: string, data?: unknown): void {
  server.broadcastUTF(JSON.stringify({ event, data }));
}
