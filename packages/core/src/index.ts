/**
 * `@wsuite/core`: the WebSocket-Node compatible entry (`server`, `client`, `router`, `frame`,
 * `request`, `connection`, `w3cwebsocket`, `deprecation`, `version`) plus modern named exports.
 * Re-exports only.
 */
export { WebSocketServer as server } from './server';
export { WebSocketClient as client } from './client';
export { WebSocketRouter as router } from './router';
export { WebSocketFrame as frame } from './websocket-frame';
export { WebSocketRequest as request } from './request';
export { WebSocketConnection as connection } from './connection';
export { W3CWebSocket as w3cwebsocket } from './w3c-websocket';
export { deprecation } from './deprecation';
export { version } from './version';

export { WebSocketServer } from './server';
export type { UpgradeOptions, WebSocketServerEvents, WebSocketServerOptions } from './server';
export { WebSocketClient } from './client';
export type { RequestedProtocols, WebSocketClientEvents } from './client';
export { CLIENT_DEFAULTS, resolveClientConfig } from './client-config';
export type { ClientConfig, ClientTlsOptions, ResolvedClientConfig, WebSocketClientOptions } from './client-config';
export { W3CWebSocket } from './w3c-websocket';
export type { BinaryType, W3CEventHandler, W3CSendData } from './w3c-websocket';
export { CloseEvent, ErrorEvent, MessageEvent } from './w3c-events';
export type { BaseEventInit, CloseEventInit, ErrorEventInit, MessageEventInit } from './w3c-events';
export { WebSocketRequest } from './request';
export { abortHandshake, formatHttpResponse, sanitizeHeaderValue } from './http-response';
export type { HeaderList } from './http-response';
export { createUpgradeResponse } from './upgrade-response';
export type { UpgradeHeaders, UpgradeResponse } from './upgrade-response';
export type { WebSocketRequestEvents } from './request';
export { WebSocketConnection, ConnectionNotOpenError, SendBufferFullError, SEND_BUFFER_FULL_DESCRIPTION } from './connection';
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
export { SERVER_DEFAULTS, SERVER_OPTION_KEYS, CLIENT_CONNECTION_DEFAULTS, validateConnectionConfig, validateServerLimits } from './config';
export { runConnectionHandler, closeWithInternalError, toError } from './handler-runner';
export type { ConnectionErrorHandler, RunHandlerOptions } from './handler-runner';
export type { AllowedOrigins, BufferOverflowPolicy, ConnectionConfig, MountableServer, ResolvedServerConfig, ServerConfig } from './config';
export type { Deprecation } from './deprecation';
export type { DebugLogger } from './debug';
export { TopicRegistry, assertTopic } from './topics';
export type { TopicHook, TopicRegistryHooks } from './topics';
export { assertPubSubDriver, readPublishOptions, toPublishPayload } from './pubsub';
export type { PubSubDriver, PubSubTarget, PublishData, PublishOptions, PublishPayload } from './pubsub';

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
export {
  ClientHandshakeError,
  buildHandshakeHeaders,
  generateKey,
  non101ResponseError,
  normalizeProtocols,
  parseWebSocketUrl,
  verifyHandshakeResponse,
} from './protocol/client-handshake';
export type {
  ClientExtensionNegotiator,
  ClientHandshakeErrorCode,
  ExpectedHandshake,
  HandshakeHeaders,
  HandshakeRequestOptions,
  HandshakeResponseLike,
  NegotiatedHandshake,
  WebSocketTarget,
  WebSocketUrlLike,
} from './protocol/client-handshake';
export { isValidCloseCode, isToken } from './protocol/validation';
export { Utf8Validator, isValidUtf8 } from './protocol/utf8';
export { parseCookies, formatSetCookies } from './protocol/cookies';
export type { RequestCookie, SetCookie } from './protocol/cookies';
export { parseExtensionsHeader } from './protocol/extension-header';
export type { Extension, ExtensionParam } from './protocol/extension-header';
export { resolveDeflate } from './deflate-options';
export type { PerMessageDeflateOptions, PerMessageDeflateSetting, ResolvedDeflate } from './deflate-options';
export { PerMessageDeflate, DEFLATE_DEFAULTS } from './permessage-deflate';
export type { DeflateOptions } from './permessage-deflate';
export { acceptDeflateOffer, checkDeflateResponse, formatDeflateOffer, parseExtensionList } from './protocol/deflate-negotiation';
export type { DeflateParams, DeflatePolicy, ParsedExtension } from './protocol/deflate-negotiation';
