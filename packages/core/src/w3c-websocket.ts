/**
 * W3CWebSocket: the WHATWG WebSocket interface (as in browsers) on Node's `EventTarget`, over a
 * `WebSocketClient` connection. A facade: no protocol logic of its own.
 */
import { Blob } from 'node:buffer';
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { types } from 'node:util';
import { MAX_CLOSE_REASON_BYTES } from './protocol/constants';
import { CloseCode } from './protocol/constants';
import { normalizeProtocols, parseWebSocketUrl } from './protocol/client-handshake';
import { WebSocketClient, type RequestedProtocols } from './client';
import type { WebSocketClientOptions } from './client-config';
import type { Message, WebSocketConnection } from './connection';
import { CloseEvent, ErrorEvent, MessageEvent } from './w3c-events';

/** How binary messages are delivered: `arraybuffer` (the default here, as in WebSocket-Node), `blob`, or `nodebuffer` (a `Buffer`, as in `ws`). */
export type BinaryType = 'arraybuffer' | 'blob' | 'nodebuffer';

/** What `send` accepts; any other value is sent as its string form, as browsers do. */
export type W3CSendData = string | ArrayBuffer | ArrayBufferView | Blob;

/** An `on<event>` handler: called with the event, `this` being the socket. */
export type W3CEventHandler<E extends Event = Event> = ((this: W3CWebSocket, event: E) => unknown) | null;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const BINARY_TYPES: ReadonlySet<string> = new Set<BinaryType>(['arraybuffer', 'blob', 'nodebuffer']);

interface HandlerSlot {
  handler: (this: W3CWebSocket, event: Event) => unknown;
  readonly listener: (event: Event) => void;
}

interface QueuedSend {
  data: string | Buffer | Blob;
  size: number;
}

/**
 * A WebSocket with the browser API (`require('@wsuite/core').w3cwebsocket`). Extra arguments
 * after `protocols` are WebSocket-Node's: origin, headers, request options and client config.
 */
export class W3CWebSocket extends EventTarget {
  /** The connection is being established. */
  static readonly CONNECTING = CONNECTING;
  /** The connection is open. */
  static readonly OPEN = OPEN;
  /** The closing handshake has started. */
  static readonly CLOSING = CLOSING;
  /** The connection is closed (or could not be opened). */
  static readonly CLOSED = CLOSED;
  /** The connection is being established. */
  declare readonly CONNECTING: 0;
  /** The connection is open. */
  declare readonly OPEN: 1;
  /** The closing handshake has started. */
  declare readonly CLOSING: 2;
  /** The connection is closed (or could not be opened). */
  declare readonly CLOSED: 3;

  readonly #url: string;
  readonly #origin: string;
  readonly #client: WebSocketClient;
  #connection: WebSocketConnection | null = null;
  #closeRequested = false;
  #closed = false;
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType = 'arraybuffer';
  #bufferedAmount = 0;
  #sendQueue: QueuedSend[] | null = null;
  readonly #handlers = new Map<string, HandlerSlot>();

  /**
   * @param url a `ws:` or `wss:` URL (`http:`/`https:` are read as `ws:`/`wss:`)
   * @param protocols one subprotocol or a list of them
   * @param origin sent as `Origin`
   * @param headers extra request headers
   * @param requestOptions extra `http(s).request` options (an `agent`, or TLS options for `wss:`)
   * @param clientConfig `WebSocketClient` settings (not modified; fragments are always assembled)
   */
  constructor(
    url: string | URL,
    protocols?: RequestedProtocols,
    origin?: string | null,
    headers?: OutgoingHttpHeaders | null,
    requestOptions?: RequestOptions | null,
    clientConfig?: WebSocketClientOptions | null,
  ) {
    super();
    const urlString = String(url);
    let protocolList: string[];
    try {
      const target = parseWebSocketUrl(urlString);
      protocolList = normalizeProtocols(protocols);
      this.#url = target.href;
      this.#origin = new URL(target.href).origin;
    } catch (error) {
      throw new DOMException((error as Error).message, 'SyntaxError');
    }
    this.#client = new WebSocketClient({ ...clientConfig, assembleFragments: true });
    this.#client.once('connect', (connection) => this.#handleOpen(connection));
    this.#client.once('connectFailed', (error) => this.#handleConnectFailed(error));
    this.#client.connect(urlString, protocolList, origin, headers, requestOptions);
  }

  /** The URL, serialized, with a `ws:`/`wss:` scheme. */
  get url(): string {
    return this.#url;
  }

  /** `CONNECTING`, `OPEN`, `CLOSING` or `CLOSED`. */
  get readyState(): number {
    if (this.#closed) return CLOSED;
    const connection = this.#connection;
    if (!connection) return this.#closeRequested ? CLOSING : CONNECTING;
    return connection.state === 'open' ? OPEN : CLOSING;
  }

  /** The subprotocol the server selected ('' when none, or before `open`). */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions the server accepted, as its `Sec-WebSocket-Extensions` value ('' when none). */
  get extensions(): string {
    return this.#extensions;
  }

  /**
   * Bytes of application data passed to `send` and not yet handed to the network. It does not
   * drop back to 0 when the connection closes, and grows with data sent after it closed.
   */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** How binary messages are delivered; other values are ignored, as for any WebIDL enum. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    if (BINARY_TYPES.has(type)) this.#binaryType = type;
  }

  /** Handler of the `open` event. */
  get onopen(): W3CEventHandler {
    return this.#getHandler('open');
  }

  set onopen(handler: W3CEventHandler) {
    this.#setHandler('open', handler);
  }

  /** Handler of the `message` event. */
  get onmessage(): W3CEventHandler<MessageEvent> {
    return this.#getHandler('message');
  }

  set onmessage(handler: W3CEventHandler<MessageEvent>) {
    this.#setHandler('message', handler as W3CEventHandler);
  }

  /** Handler of the `error` event. */
  get onerror(): W3CEventHandler<ErrorEvent> {
    return this.#getHandler('error');
  }

  set onerror(handler: W3CEventHandler<ErrorEvent>) {
    this.#setHandler('error', handler as W3CEventHandler);
  }

  /** Handler of the `close` event. */
  get onclose(): W3CEventHandler<CloseEvent> {
    return this.#getHandler('close');
  }

  set onclose(handler: W3CEventHandler<CloseEvent>) {
    this.#setHandler('close', handler as W3CEventHandler);
  }

  /**
   * Send a message: a string as text; an ArrayBuffer, a view or a Blob as binary; anything else
   * as its string form. Throws an `InvalidStateError` while connecting. Once closing, the data is
   * only counted in `bufferedAmount`, as the standard says.
   */
  send(data: W3CSendData): void {
    const state = this.readyState;
    if (state === CONNECTING) {
      throw new DOMException('cannot call send() while not connected: the WebSocket is still connecting; wait for the open event.', 'InvalidStateError');
    }
    const payload = toPayload(data);
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload instanceof Blob ? payload.size : payload.length;
    this.#bufferedAmount += size;
    if (state !== OPEN) return;
    if (payload instanceof Blob || this.#sendQueue) this.#enqueue({ data: payload, size });
    else this.#write(payload, size);
  }

  /**
   * Start the closing handshake. `code` must be 1000 or 3000–4999 (else `InvalidAccessError`),
   * `reason` at most 123 bytes of UTF-8 (else `SyntaxError`); invalid input changes nothing.
   * While connecting, the attempt is abandoned: `error`, then `close` (1006) follow.
   */
  close(code?: number, reason?: string): void {
    let closeCode: number = CloseCode.Normal;
    if (code !== undefined) {
      closeCode = toClampedUnsignedShort(code);
      if (closeCode !== CloseCode.Normal && (closeCode < 3000 || closeCode > 4999)) {
        throw new DOMException(`The close code must be either 1000, or between 3000 and 4999; ${closeCode} is neither.`, 'InvalidAccessError');
      }
    }
    const closeReason = reason === undefined ? '' : String(reason);
    const reasonBytes = Buffer.byteLength(closeReason);
    if (reasonBytes > MAX_CLOSE_REASON_BYTES) {
      throw new DOMException(`The close reason must be at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8; it is ${reasonBytes}.`, 'SyntaxError');
    }
    const state = this.readyState;
    if (state === CLOSING || state === CLOSED) return;
    if (state === CONNECTING) {
      this.#closeRequested = true;
      this.#client.abort();
      return;
    }
    (this.#connection as WebSocketConnection).close(closeCode, closeReason);
  }

  #handleOpen(connection: WebSocketConnection): void {
    this.#connection = connection;
    this.#protocol = connection.protocol ?? '';
    const extensions = this.#client.response?.headers['sec-websocket-extensions'];
    this.#extensions = typeof extensions === 'string' ? extensions : '';
    connection.on('message', (message) => this.#handleMessage(message));
    connection.on('error', (error) => this.#dispatchError(error));
    connection.on('close', (code, description) => this.#handleClose(connection, code, description));
    this.dispatchEvent(new Event('open'));
  }

  #handleConnectFailed(error: Error): void {
    this.#closed = true;
    this.#dispatchError(error);
    this.dispatchEvent(new CloseEvent('close', { code: CloseCode.Abnormal, reason: '', wasClean: false }));
  }

  #handleMessage(message: Message): void {
    let data: string | ArrayBuffer | Blob | Buffer;
    if (message.type === 'utf8') {
      data = message.utf8Data;
    } else if (this.#binaryType === 'nodebuffer') {
      data = message.binaryData;
    } else if (this.#binaryType === 'blob') {
      data = new Blob([message.binaryData]);
    } else {
      // A copy in a fresh ArrayBuffer: the payload may be a view into a larger received chunk.
      const copy = new ArrayBuffer(message.binaryData.length);
      new Uint8Array(copy).set(message.binaryData);
      data = copy;
    }
    this.dispatchEvent(new MessageEvent('message', { data, origin: this.#origin }));
  }

  #handleClose(connection: WebSocketConnection, code: number, description: string): void {
    // drop() closes without waiting for the socket: the connection was failed (a protocol error
    // from the server, or no keepalive answer), which the standard reports as `error`, then 1006.
    const failed = !connection.socket.destroyed;
    const closeFrameReceived = !failed && code !== CloseCode.Abnormal && !connection.waitingForCloseResponse;
    this.#closed = true;
    this.#sendQueue = null;
    if (failed) this.#dispatchError(new Error(description || 'The WebSocket connection was failed.'));
    this.dispatchEvent(
      new CloseEvent('close', {
        code: closeFrameReceived ? code : CloseCode.Abnormal,
        reason: closeFrameReceived ? description : '',
        wasClean: closeFrameReceived && !connection.socketHadError,
      }),
    );
  }

  #dispatchError(error: Error): void {
    this.dispatchEvent(new ErrorEvent('error', { error, message: error.message }));
  }

  #write(data: string | Buffer, size: number): void {
    const connection = this.#connection as WebSocketConnection;
    const written = (error?: Error | null): void => {
      if (!error) this.#bufferedAmount -= size;
    };
    if (typeof data === 'string') connection.sendUTF(data, written);
    else connection.sendBytes(data, written);
  }

  /** Blobs are read asynchronously; later sends wait behind them so messages keep their order. */
  #enqueue(item: QueuedSend): void {
    if (this.#sendQueue) {
      this.#sendQueue.push(item);
      return;
    }
    const queue: QueuedSend[] = [item];
    this.#sendQueue = queue;
    this.#flushQueue(queue).catch((error: Error) => {
      if (this.#sendQueue === queue) this.#sendQueue = null;
      this.#connection?.drop(CloseCode.InternalError, `Could not read a Blob passed to send(): ${error.message}`);
    });
  }

  async #flushQueue(queue: QueuedSend[]): Promise<void> {
    while (queue.length > 0) {
      const item = queue[0];
      const data = item.data instanceof Blob ? Buffer.from(await item.data.arrayBuffer()) : item.data;
      if (this.#sendQueue !== queue || this.readyState !== OPEN) return;
      queue.shift();
      this.#write(data, item.size);
    }
    this.#sendQueue = null;
  }

  #getHandler(type: string): W3CEventHandler {
    return this.#handlers.get(type)?.handler ?? null;
  }

  /**
   * As in browsers: the first handler set registers one listener, in order among the others;
   * replacing the handler keeps that position; setting null removes it.
   */
  #setHandler(type: string, handler: W3CEventHandler): void {
    const slot = this.#handlers.get(type);
    if (typeof handler !== 'function') {
      if (slot) {
        this.removeEventListener(type, slot.listener);
        this.#handlers.delete(type);
      }
      return;
    }
    if (slot) {
      slot.handler = handler;
      return;
    }
    const created: HandlerSlot = {
      handler,
      listener: (event: Event) => {
        created.handler.call(this, event);
      },
    };
    this.#handlers.set(type, created);
    this.addEventListener(type, created.listener);
  }
}

for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSING', CLOSING], ['CLOSED', CLOSED]] as const) {
  const constant = { value, enumerable: true, writable: false, configurable: false };
  Object.defineProperty(W3CWebSocket, name, constant);
  Object.defineProperty(W3CWebSocket.prototype, name, constant);
}

/** `send`'s argument as text, bytes (a view, not a copy) or a Blob, following WebIDL's union conversion. */
function toPayload(data: unknown): string | Buffer | Blob {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data;
  if (types.isArrayBuffer(data)) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Blob) return data;
  return String(data);
}

/** WebIDL `[Clamp] unsigned short`: clamp to 0–65535 and round half to even. */
function toClampedUnsignedShort(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 0xffff);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction !== 0.5) return fraction < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
