/**
 * `@wsuite/nestjs-adapter`: a NestJS WebSocket adapter on @wsuite/core. Re-exports only.
 */
export { WsuiteAdapter, WsuiteAdapter as WsAdapter } from './ws-adapter';
export type { GatewayClient, GatewayServer } from './ws-adapter';
export { WsuiteExceptionFilter } from './exception-filter';
export type { HttpExceptionPayload } from './exception-filter';
export { BINARY_EVENT, EXCEPTION_EVENT, broadcastEvent, defaultMessageParser, defaultMessageSerializer } from './messages';
export type { InvalidMessagePayload } from './messages';
export { normalizePath, requestPath } from './paths';
export type {
  CanUpgrade,
  CoreGatewayOptions,
  GatewayHooks,
  MessageInfo,
  MessageParser,
  MessageSerializer,
  ParsedMessage,
  UpgradeDecision,
  UpgradeTarget,
  WsuiteAdapterOptions,
  WsuiteGatewayOptions,
} from './options';
