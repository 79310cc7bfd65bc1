/**
 * The adapter's and the gateways' options: their types, and the one place that checks and
 * merges them, so a bad option fails when the adapter is built or a gateway is registered.
 */
import type { IncomingMessage } from 'node:http';
import { SERVER_DEFAULTS, validateConnectionConfig, validateServerLimits, type ServerConfig, type UpgradeHeaders, type WebSocketConnection } from '@wsuite/core';
import { normalizePath } from './paths';

/**
 * `true` lets the upgrade through; `{ headers }` lets it through and adds `headers` to the 101
 * (a cookie, a trace id); `false` refuses it with 401; a number refuses it with that status (400-599).
 */
export type UpgradeDecision = boolean | number | { headers: UpgradeHeaders };

/** The gateway an upgrade request is for. */
export interface UpgradeTarget {
  /** The gateway's normalized path, e.g. `/chat`. */
  readonly path: string;
  /** The gateway's port: 0 for the application's own HTTP server. */
  readonly port: number;
}

/**
 * Connection-time auth, run on the upgrade request after core validated the handshake and
 * before the 101. Return (or resolve) an {@link UpgradeDecision}; throwing an `HttpException`
 * (`UnauthorizedException`, `ForbiddenException`, ...) refuses with its status and message; any
 * other throw refuses with 500 and is logged.
 */
export type CanUpgrade = (request: IncomingMessage, target: UpgradeTarget) => UpgradeDecision | Promise<UpgradeDecision>;

/** One received message, turned into the event to dispatch and its payload. */
export interface ParsedMessage {
  event: string;
  data?: unknown;
}

/** What a {@link MessageParser} is told besides the payload. */
export interface MessageInfo {
  /** True for a binary frame (`data` is a Buffer), false for text (`data` is a string). */
  readonly isBinary: boolean;
  /** The connection the message arrived on. */
  readonly client: WebSocketConnection;
}

/**
 * Turns a received message into `{ event, data }`. Return `null`/`undefined` to drop the message
 * on purpose; throw (or return another shape) to have it answered as an invalid message.
 */
export type MessageParser = (data: string | Buffer, info: MessageInfo) => ParsedMessage | null | undefined;

/**
 * Turns a handler's reply (a value it returned or an Observable emitted, or an `exception`
 * frame) into what is sent: a string goes out as text, a Buffer as binary, `null`/`undefined`
 * sends nothing.
 */
export type MessageSerializer = (response: unknown, client: WebSocketConnection) => string | Buffer | null | undefined;

/** Core connection settings a gateway may set; see `@wsuite/core`'s config for each key. */
export type CoreGatewayOptions = Partial<
  Pick<
    ServerConfig,
    | 'maxReceivedFrameSize'
    | 'maxReceivedMessageSize'
    | 'fragmentOutgoingMessages'
    | 'fragmentationThreshold'
    | 'keepalive'
    | 'keepaliveInterval'
    | 'dropConnectionOnKeepaliveTimeout'
    | 'keepaliveGracePeriod'
    | 'useNativeKeepalive'
    | 'disableNagleAlgorithm'
    | 'closeTimeout'
    | 'ignoreXForwardedFor'
    | 'parseCookies'
    | 'parseExtensions'
    | 'handshakeTimeout'
    | 'maxPendingRequests'
    | 'maxConnections'
    | 'maxHandshakeHeaderSize'
    | 'maxBufferedAmount'
    | 'bufferOverflowPolicy'
    | 'allowedOrigins'
    | 'perMessageDeflate'
  >
>;

/** Hooks settable on the adapter (for every gateway) and on one gateway. */
export interface GatewayHooks {
  /** Connection-time auth. The adapter's runs first, then the gateway's; both must let the request through. */
  canUpgrade?: CanUpgrade;
  /** @default JSON `{ event, data }` for text, `{ event: 'binary', data: Buffer }` for binary */
  messageParser?: MessageParser;
  /** @default Buffers as binary, anything else as `JSON.stringify(value)` */
  messageSerializer?: MessageSerializer;
}

/** Options of `new WsuiteAdapter(app, options)`: defaults for every gateway. */
export interface WsuiteAdapterOptions extends CoreGatewayOptions, GatewayHooks {}

/** What `@WebSocketGateway(port?, options)` accepts with this adapter (it overrides the adapter's options). */
export interface WsuiteGatewayOptions extends CoreGatewayOptions, GatewayHooks {
  /** The path clients connect to (query ignored, trailing slashes ignored). @default '/' */
  path?: string;
}

/** A gateway's options after checking and merging over the adapter's. */
export interface ResolvedGateway {
  readonly path: string;
  readonly core: CoreGatewayOptions;
  readonly canUpgrade: readonly CanUpgrade[];
  readonly messageParser: MessageParser | undefined;
  readonly messageSerializer: MessageSerializer | undefined;
}

const CORE_KEYS: ReadonlySet<string> = new Set([
  'maxReceivedFrameSize',
  'maxReceivedMessageSize',
  'fragmentOutgoingMessages',
  'fragmentationThreshold',
  'keepalive',
  'keepaliveInterval',
  'dropConnectionOnKeepaliveTimeout',
  'keepaliveGracePeriod',
  'useNativeKeepalive',
  'disableNagleAlgorithm',
  'closeTimeout',
  'ignoreXForwardedFor',
  'parseCookies',
  'parseExtensions',
  'handshakeTimeout',
  'maxPendingRequests',
  'maxConnections',
  'maxHandshakeHeaderSize',
  'maxBufferedAmount',
  'bufferOverflowPolicy',
  'allowedOrigins',
  'perMessageDeflate',
]);
const HOOK_KEYS = ['canUpgrade', 'messageParser', 'messageSerializer'] as const;

/** Check the adapter's options; throws a TypeError/RangeError naming the bad one. */
export function checkAdapterOptions(options: WsuiteAdapterOptions): WsuiteAdapterOptions {
  return checkOptions(options, 'WsuiteAdapter', false);
}

/** Check a gateway's options and merge them over the adapter's. */
export function resolveGateway(adapter: WsuiteAdapterOptions, gateway: WsuiteGatewayOptions): ResolvedGateway {
  checkOptions(gateway, '@WebSocketGateway', true);
  const core = { ...coreOptionsOf(adapter), ...coreOptionsOf(gateway) };
  validateConnectionConfig({ ...SERVER_DEFAULTS, ...core });
  validateServerLimits({ ...SERVER_DEFAULTS, ...core });
  return {
    path: normalizePath(gateway.path ?? '/'),
    core,
    canUpgrade: [adapter.canUpgrade, gateway.canUpgrade].filter((hook): hook is CanUpgrade => hook !== undefined),
    messageParser: gateway.messageParser ?? adapter.messageParser,
    messageSerializer: gateway.messageSerializer ?? adapter.messageSerializer,
  };
}

function checkOptions<T extends WsuiteAdapterOptions>(options: T, where: string, allowPath: boolean): T {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where} options must be an object.`);
  const record = options as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (CORE_KEYS.has(key) || (HOOK_KEYS as readonly string[]).includes(key) || (allowPath && key === 'path')) continue;
    const hint = key === 'verifyClient' ? ' (use canUpgrade)' : key === 'maxPayload' ? ' (use maxReceivedMessageSize)' : '';
    throw new TypeError(`${where}: unknown option "${key}"${hint}. Supported: ${[...(allowPath ? ['path'] : []), ...HOOK_KEYS, ...CORE_KEYS].join(', ')}.`);
  }
  for (const key of HOOK_KEYS) {
    if (record[key] !== undefined && typeof record[key] !== 'function') throw new TypeError(`${where}: option "${key}" must be a function.`);
  }
  if (allowPath && record.path !== undefined && typeof record.path !== 'string') throw new TypeError(`${where}: option "path" must be a string.`);
  validateConnectionConfig({ ...SERVER_DEFAULTS, ...coreOptionsOf(options) });
  validateServerLimits({ ...SERVER_DEFAULTS, ...coreOptionsOf(options) });
  return options;
}

/** The core keys that are set (an `undefined` value means "the default"). */
function coreOptionsOf(options: WsuiteAdapterOptions): CoreGatewayOptions {
  const core: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (CORE_KEYS.has(key) && value !== undefined) core[key] = value;
  return core as CoreGatewayOptions;
}
