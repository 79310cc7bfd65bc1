/**
 * `@wsuite/core`: the WebSocket-Node compatible entry (`server`, `router`, `frame`, `request`,
 * `connection`, `deprecation`, `version`) plus modern named exports. Re-exports only.
 */
export { WebSocketServer as server } from './server';
export { WebSocketRouter as router } from './router';
export { WebSocketFrame as frame } from './websocket-frame';
export { WebSocketRequest as request } from './request';
export { WebSocketConnection as connection } from './connection';
export { deprecation } from './deprecation';
export { version } from './version';

export { WebSocketServer } from './server';
export type { WebSocketServerEvents, WebSocketServerOptions } from './server';
export { WebSocketRequest } from './request';
export { abortHandshake, formatHttpResponse, sanitizeHeaderValue } from './http-response';
export type { HeaderList } from './http-response';
export { createUpgradeResponse } from './upgrade-response';
export type { UpgradeResponse } from './upgrade-response';
export type { WebSocketRequestEvents } from './request';
export { WebSocketConnection, ConnectionNotOpenError } from './connection';
export type {
  BinaryData,
  BinaryMessage,
  ConnectionState,
  Message,
  SendCallback,
  Utf8Message,
  WebSocketConnectionEvents,
} from './connection';
export { WebSocketFrame, FrameParseState } from './websocket-frame';
export type { FrameConfig } from './websocket-frame';
export { WebSocketRouter } from './router';
export type { RouteHandler, RouterCallback, WebSocketRouterOptions } from './router';
export { WebSocketRouterRequest, NO_PROTOCOL } from './router-request';
export type { WebSocketRouterRequestEvents } from './router-request';
export { BufferList } from './buffer-list';
export type { BufferListLike } from './buffer-list';
export { SERVER_DEFAULTS, CLIENT_CONNECTION_DEFAULTS, validateConnectionConfig } from './config';
export type { ConnectionConfig, MountableServer, ResolvedServerConfig, ServerConfig } from './config';
export type { Deprecation } from './deprecation';
export type { DebugLogger } from './debug';

export {
  CLOSE_DESCRIPTIONS,
  CloseCode,
  Opcode,
  MAX_CONTROL_PAYLOAD,
  MAX_CLOSE_REASON_BYTES,
  WEBSOCKET_GUID,
} from './protocol/constants';
export { WebSocketProtocolError, HandshakeError } from './protocol/errors';
export type { ProtocolErrorCode } from './protocol/errors';
export { FrameParser } from './protocol/frame-parser';
export type { FrameParserOptions, FrameSink } from './protocol/frame-parser';
export { MessageAssembler } from './protocol/message-assembler';
export type { MessageAssemblerOptions, MessageSink } from './protocol/message-assembler';
export { encodeFrame, encodeTextFrame, encodeClosePayload, encodeFragmentedMessage, writeFrameHeader, frameHeaderLength } from './protocol/frame-encoder';
export type { FrameOptions } from './protocol/frame-encoder';
export { parseClosePayload } from './protocol/close-frame';
export type { CloseInfo } from './protocol/close-frame';
export { computeAcceptKey, validateUpgradeRequest, isValidKey } from './protocol/handshake';
export type { UpgradeRequestLike, ValidatedUpgrade } from './protocol/handshake';
export { isValidCloseCode, isToken } from './protocol/validation';
export { Utf8Validator, isValidUtf8 } from './protocol/utf8';
export { parseCookies, formatSetCookies } from './protocol/cookies';
export type { RequestCookie, SetCookie } from './protocol/cookies';
export { parseExtensionsHeader } from './protocol/extension-header';
export type { Extension, ExtensionParam } from './protocol/extension-header';
