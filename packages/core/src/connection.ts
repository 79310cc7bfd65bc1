/**
 * WebSocketConnection: one open WebSocket over a socket. Owns the connection state, the close
 * handshake and its timeout, keepalive, backpressure and write coalescing; the protocol work is
 * done by the pure parser, assembler and encoder.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import {
  CLOSE_DESCRIPTIONS,
  CloseCode,
  MAX_CLOSE_REASON_BYTES,
  MAX_CONTROL_PAYLOAD,
  Opcode,
} from './protocol/constants';
import { FrameParser, type FrameSink } from './protocol/frame-parser';
import { MessageAssembler, type MessageSink } from './protocol/message-assembler';
import { WebSocketProtocolError } from './protocol/errors';
import { encodeClosePayload, truncateUtf8 } from './protocol/frame-encoder';
import { parseClosePayload } from './protocol/close-frame';
import { isValidCloseCode } from './protocol/validation';
import { nextMaskKey } from './protocol/mask-key';
import { EMPTY_BUFFER } from './protocol/buffer-util';
import type { BufferOverflowPolicy, ConnectionConfig } from './config';
import { createBufferingLogger, SILENT_LOGGER, type DebugLogger } from './debug';
import { WebSocketFrame } from './websocket-frame';
import { Sender, type SenderOptions } from './sender';
import { PerMessageDeflate, DEFLATE_DEFAULTS } from './permessage-deflate';
import { CompressedReceiver, SendQueue } from './deflate-pipeline';
import { deflateParamsOf, resolveDeflate } from './deflate-options';
import { PERMESSAGE_DEFLATE } from './protocol/deflate-negotiation';
import { RSV1_BIT } from './protocol/constants';
import type { Extension } from './protocol/extension-header';
import { assertTopic, type TopicRegistry } from './topics';

/** A text message as delivered by the `message` event. */
export interface Utf8Message {
  type: 'utf8';
  utf8Data: string;
}

/** A binary message as delivered by the `message` event. */
export interface BinaryMessage {
  type: 'binary';
  binaryData: Buffer;
}

/** What the `message` event delivers. */
export type Message = Utf8Message | BinaryMessage;

/** Connection states, as WebSocket-Node names them. */
export type ConnectionState = 'open' | 'ending' | 'peer_requested_close' | 'closed';

/** Callback of the send methods: called once the data is written, or with the error that prevented it. */
export type SendCallback = (error?: Error | null) => void;

/** Events of a {@link WebSocketConnection}. */
export interface WebSocketConnectionEvents {
  message: [message: Message];
  frame: [frame: WebSocketFrame];
  close: [code: number, description: string];
  error: [error: Error];
  ping: [cancel: () => void, data: Buffer];
  pong: [data: Buffer];
  drain: [];
  pause: [];
  resume: [];
  /** A message was discarded by the `'drop'` buffer overflow policy. */
  messageDropped: [error: SendBufferFullError];
}

/** Anything with bytes that `send` treats as binary. */
export type BinaryData = Buffer | ArrayBuffer | ArrayBufferView;

let nextConnectionId = 0;

/** What a send that waited in the deflate send queue does if the connection goes first: fail its callback. */
function discarded(cb: SendCallback | undefined): (() => void) | undefined {
  return cb && (() => process.nextTick(cb, new ConnectionNotOpenError('closed')));
}

/** Thrown (or passed to a send callback) when data is sent on a connection that is not open. */
export class ConnectionNotOpenError extends Error {
  /** Stable error code. */
  readonly code = 'WS_ERR_NOT_OPEN';
  constructor(state: ConnectionState) {
    super(`Cannot send on a WebSocket connection that is ${state === 'closed' ? 'closed' : 'closing'} (state "${state}").`);
    this.name = 'ConnectionNotOpenError';
  }
}

/**
 * A message refused because the connection's outgoing buffer already holds `maxBufferedAmount`
 * bytes (a peer that reads too slowly, or not at all).
 */
export class SendBufferFullError extends Error {
  /** Stable error code. */
  readonly code = 'WS_ERR_SEND_BUFFER_FULL';
  /** Size of the refused message, in bytes. */
  readonly byteLength: number;
  /** What was already buffered. */
  readonly bufferedAmount: number;
  /** The connection's `maxBufferedAmount`. */
  readonly limit: number;
  constructor(byteLength: number, bufferedAmount: number, limit: number) {
    super(`Send of ${byteLength} bytes refused: the outgoing buffer is full (${bufferedAmount} bytes buffered, limit ${limit}).`);
    this.name = 'SendBufferFullError';
    this.byteLength = byteLength;
    this.bufferedAmount = bufferedAmount;
    this.limit = limit;
  }
}

/** The close description of the `'close'` buffer overflow policy (code 1008). */
export const SEND_BUFFER_FULL_DESCRIPTION = 'Send buffer limit exceeded.';

/** Who the connection tells about its close before emitting `close` (its server). */
export interface ConnectionCloseObserver {
  handleConnectionClose(connection: WebSocketConnection, closeReasonCode: number, description: string): void;
}

/** Marks a server connection whose address chain is just its peer (built when read). */
const PEER_ONLY: string[] = [];

// Bits of WebSocketConnection#flags.
const FLAG_CONNECTED = 1 << 0;
const FLAG_CLOSE_EVENT_EMITTED = 1 << 1;
const FLAG_OUTPUT_BUFFER_FULL = 1 << 2;
const FLAG_INPUT_PAUSED = 1 << 3;
const FLAG_SOCKET_HAD_ERROR = 1 << 4;
const FLAG_WAITING_FOR_CLOSE_RESPONSE = 1 << 5;
const FLAG_RECEIVED_END = 1 << 6;
const FLAG_LISTENING = 1 << 7;
const FLAG_LINGERING = 1 << 8;
const FLAG_USER_PAUSED = 1 << 9;
const FLAG_CLOSE_AFTER_INFLATE = 1 << 10;
const FLAG_MASK_OUTGOING = 1 << 11;
const FLAG_WATCHING_DRAIN = 1 << 12;

/**
 * An open WebSocket connection (`require('@wsuite/core').connection`).
 * Constructed by `WebSocketRequest.accept()` on servers and by `WebSocketClient` on clients.
 */
export class WebSocketConnection extends EventEmitter<WebSocketConnectionEvents> {
  static readonly CLOSE_REASON_NORMAL = CloseCode.Normal;
  static readonly CLOSE_REASON_GOING_AWAY = CloseCode.GoingAway;
  static readonly CLOSE_REASON_PROTOCOL_ERROR = CloseCode.ProtocolError;
  static readonly CLOSE_REASON_UNPROCESSABLE_INPUT = CloseCode.UnsupportedData;
  static readonly CLOSE_REASON_RESERVED = CloseCode.Reserved;
  static readonly CLOSE_REASON_NOT_PROVIDED = CloseCode.NoStatus;
  static readonly CLOSE_REASON_ABNORMAL = CloseCode.Abnormal;
  static readonly CLOSE_REASON_INVALID_DATA = CloseCode.InvalidPayload;
  static readonly CLOSE_REASON_POLICY_VIOLATION = CloseCode.PolicyViolation;
  static readonly CLOSE_REASON_MESSAGE_TOO_BIG = CloseCode.MessageTooBig;
  static readonly CLOSE_REASON_EXTENSION_REQUIRED = CloseCode.MandatoryExtension;
  static readonly CLOSE_REASON_INTERNAL_SERVER_ERROR = CloseCode.InternalError;
  static readonly CLOSE_REASON_TLS_HANDSHAKE_FAILED = CloseCode.TlsHandshake;
  static readonly CLOSE_DESCRIPTIONS = CLOSE_DESCRIPTIONS;

  /** The underlying socket. */
  readonly socket: Socket;
  /** The negotiated subprotocol, if any. */
  protocol: string | undefined;
  /** The negotiated extensions (an array made on first read when there are none). */
  get extensions(): unknown[] {
    return (this.extensionList ??= []);
  }
  set extensions(value: unknown[]) {
    this.extensionList = value;
  }
  private extensionList: unknown[] | null;
  /** The peer's address (on servers, after X-Forwarded-For handling). */
  remoteAddress: string | undefined;
  /** On servers: the X-Forwarded-For chain followed by the socket's peer address. */
  get remoteAddresses(): string[] | undefined {
    const list = this.remoteAddressList;
    // Rebuilt on first read: most connections never ask, and then keep no array for it.
    return list === PEER_ONLY ? (this.remoteAddressList = [this.remoteAddress ?? '']) : list;
  }
  set remoteAddresses(value: string[] | undefined) {
    this.remoteAddressList = value;
  }
  private remoteAddressList: string[] | undefined;

  /** Internal: the accepting request's address chain; a chain of only the peer is not kept. */
  _setRemoteAddresses(chain: string[]): void {
    this.remoteAddressList = chain.length === 1 && chain[0] === (this.remoteAddress ?? '') ? PEER_ONLY : chain;
  }
  /** 13 (RFC 6455) or 8. */
  webSocketVersion = 13;
  /** `open`, then `ending` (we sent close) or `peer_requested_close`, then `closed`. */
  state: ConnectionState = 'open';
  /** The close code, -1 until the connection closes. */
  closeReasonCode = -1;
  /** The close description, null until the connection closes. */
  closeDescription: string | null = null;
  /** The configuration this connection reads (shared with its server or client). */
  readonly config: ConnectionConfig;
  /** The close handshake timer, while armed. */
  closeTimer: NodeJS.Timeout | null = null;
  /** The keepalive idle timer, while armed. */
  _keepaliveTimeoutID: NodeJS.Timeout | null = null;
  /** The keepalive grace timer, while armed. */
  _gracePeriodTimeoutID: NodeJS.Timeout | null = null;
  /** Buffering debug logger (`_debug.printOutput()`); the shared silent one unless `DEBUG` enables it. */
  get _debug(): DebugLogger {
    return SILENT_LOGGER;
  }

  // The boolean state below is packed into `flags` (accessors defined after the class): an idle
  // connection is mostly its fields, and 10k of them should cost as little as possible.
  /** True until a close frame is sent or received. */
  declare connected: boolean;
  /** True once `close` was emitted. */
  declare closeEventEmitted: boolean;
  /** True after a write returned false, until `drain`. */
  declare outputBufferFull: boolean;
  /** True while the socket is paused. */
  declare inputPaused: boolean;
  /** True after the socket reported an error. */
  declare socketHadError: boolean;
  /** True after we sent a close frame and before the peer's reply. */
  declare waitingForCloseResponse: boolean;
  /** True once the peer ended its side of the TCP connection. */
  declare receivedEnd: boolean;
  private declare listening: boolean;
  private declare lingering: boolean;
  private declare userPaused: boolean;
  /** The socket closed while a message was being decompressed; the close waits for it. */
  private declare closeAfterInflate: boolean;
  private flags: number;

  /** Whether outgoing frames are masked (clients). */
  get maskOutgoingPackets(): boolean {
    return (this.flags & FLAG_MASK_OUTGOING) !== 0;
  }
  /** Whether `message` events (true) or raw `frame` events (false) are emitted. */
  get assembleFragments(): boolean {
    return this.config.assembleFragments;
  }
  /** Largest accepted message. */
  get maxReceivedMessageSize(): number {
    return this.config.maxReceivedMessageSize;
  }
  /** Close handshake timeout in ms. */
  get closeTimeout(): number {
    return this.config.closeTimeout;
  }
  private get maxBufferedAmount(): number {
    return this.config.maxBufferedAmount ?? Infinity;
  }
  private get bufferOverflowPolicy(): BufferOverflowPolicy {
    return this.config.bufferOverflowPolicy ?? 'close';
  }

  // Created on first use: a connection that has not received (or sent) anything has none.
  private sinkInstance: ConnectionSink | null = null;
  private parserInstance: FrameParser | null = null;
  private assemblerInstance: MessageAssembler | null = null;
  private senderInstance: Sender | null = null;
  // permessage-deflate, when negotiated: the zlib state, the receive path and the send order.
  private readonly compression: { deflate: PerMessageDeflate; inflater: CompressedReceiver; sendQueue: SendQueue } | null = null;
  private get deflate(): PerMessageDeflate | null {
    return this.compression?.deflate ?? null;
  }
  private get inflater(): CompressedReceiver | null {
    return this.compression?.inflater ?? null;
  }
  private get sendQueue(): SendQueue | null {
    return this.compression?.sendQueue ?? null;
  }

  /** One small object serves the sender, parser and assembler: no per-connection closures. */
  private get sink(): ConnectionSink {
    return (this.sinkInstance ??= new ConnectionSink(this));
  }
  private get parser(): FrameParser {
    if (this.parserInstance === null) {
      const config = this.config;
      this.parserInstance = new FrameParser({ maxFrameSize: config.maxReceivedFrameSize, expectMasked: !this.maskOutgoingPackets, checkFragmentation: true }, this.sink);
      if (this.deflate !== null) this.parserInstance.setAllowedRsv(RSV1_BIT);
    }
    return this.parserInstance;
  }
  private get assembler(): MessageAssembler {
    return (this.assemblerInstance ??= new MessageAssembler({ maxMessageSize: this.config.maxReceivedMessageSize }, this.sink));
  }
  private get sender(): Sender {
    return (this.senderInstance ??= new Sender(this.socket, this.sink));
  }

  /**
   * @param socket the connected socket (after the opening handshake)
   * @param extensions negotiated extensions
   * @param protocol negotiated subprotocol
   * @param maskOutgoingPackets true on the client side
   * @param config connection settings (the server's or client's merged config)
   */
  constructor(socket: Socket | Duplex, extensions: unknown[], protocol: string | undefined, maskOutgoingPackets: boolean, config: ConnectionConfig) {
    super();
    this.socket = socket as Socket;
    this.extensionList = extensions.length > 0 ? extensions : null;
    this.protocol = protocol;
    this.flags = FLAG_CONNECTED | (maskOutgoingPackets ? FLAG_MASK_OUTGOING : 0);
    this.config = config;
    this.remoteAddress = this.socket.remoteAddress;
    this.remoteAddressList = undefined;
    // One small object serves the sender, parser and assembler: no per-connection closures.
    const logger = createBufferingLogger('websocket:connection', ++nextConnectionId);
    // Only a connection that logs has a logger of its own; the others read the shared silent one.
    if (logger.enabled) Object.defineProperty(this, '_debug', { value: logger, writable: true, configurable: true });

    const deflateEntry = extensions.find((e): e is Extension => (e as Extension | null)?.name === PERMESSAGE_DEFLATE);
    if (deflateEntry) {
      const options = resolveDeflate(config.perMessageDeflate)?.options ?? DEFLATE_DEFAULTS;
      const deflate = new PerMessageDeflate(deflateParamsOf(deflateEntry), !maskOutgoingPackets, options);
      const inflater = new CompressedReceiver(deflate, config.maxReceivedMessageSize, {
        // The socket is held too: later frames wait in TCP (memory stays bounded while zlib
        // works), and the peer's FIN is not acted on before the frames ahead of it.
        pause: () => {
          this.parser.pause();
          this.socket.pause();
        },
        resume: () => this.resumeAfterInflate(),
        // Nothing is delivered after drop(): the connection has already reported its close.
        onMessage: (isText, data) => {
          if (this.state !== 'closed') this.handleMessage(isText, data);
        },
        onError: (error) => {
          if (this.state !== 'closed') this.handleProtocolError(error);
          this.resumeAfterInflate();
        },
      });
      this.compression = { deflate, inflater, sendQueue: new SendQueue() };
    }

    if (typeof this.socket.setNoDelay === 'function') this.socket.setNoDelay(config.disableNagleAlgorithm);
    if (typeof this.socket.setTimeout === 'function') this.socket.setTimeout(0);

    if (config.keepalive) {
      if (config.useNativeKeepalive) {
        if (typeof this.socket.setKeepAlive !== 'function') throw new Error('Unable to use native keepalive: unsupported by this version of Node.');
        this.socket.setKeepAlive(true, config.keepaliveInterval);
      } else {
        if (typeof config.keepaliveInterval !== 'number') throw new TypeError('keepaliveInterval must be specified and numeric if keepalive is true.');
        if (config.dropConnectionOnKeepaliveTimeout && typeof config.keepaliveGracePeriod !== 'number') {
          throw new TypeError('keepaliveGracePeriod  must be specified and numeric if dropConnectionOnKeepaliveTimeout is true.');
        }
        this.setKeepaliveTimer();
      }
    }
  }

  /** Attach the socket listeners. Called by the request (after the 101) and the client. */
  _addSocketEventListeners(): void {
    if (this.listening) return;
    this.listening = true;
    const socket = this.socket;
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('error', socketOnError);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('pause', socketOnPause);
    socket.on('resume', socketOnResume);
    socket.on('data', socketOnData);
  }

  // ---- receiving -------------------------------------------------------------------------

  /** Feed received bytes (socket data, or bytes that arrived with the handshake). */
  handleSocketData(data: Buffer): void {
    if (this.lingering) return;
    this.restartKeepalive();
    this.parser.push(data);
  }

  /** @internal A parsed frame (from the parser). */
  handleFrame(opcode: number, fin: boolean, rsv1: boolean, payload: Buffer, masked: boolean): void {
    if (!this.assembleFragments) this.emit('frame', WebSocketFrame.fromParsed(opcode, fin, rsv1, payload, masked, this.config));
    switch (opcode) {
      case Opcode.Close:
        this.handleCloseFrame(payload);
        return;
      case Opcode.Ping:
        this.handlePing(payload);
        return;
      case Opcode.Pong:
        this.emit('pong', payload);
        return;
      default:
        // Data frames that arrive after we started closing are discarded (RFC 6455 §5.5.1).
        if (!this.assembleFragments || this.state !== 'open') return;
        // RSV1 marks the first frame of a compressed message; its continuations follow it there.
        if (this.inflater && (opcode === Opcode.Continuation ? this.inflater.active : rsv1)) this.inflater.push(opcode, fin, payload);
        else this.assembler.push(opcode, fin, payload);
    }
  }

  /** @internal The first bytes of a frame still arriving: text is checked as it streams in. */
  handlePartialPayload(opcode: number, rsv1: boolean, bytes: Buffer): void {
    if (this.assembleFragments && this.state === 'open' && !rsv1 && !this.inflater?.active) this.assembler.pushPartial(opcode, bytes);
  }

  /** @internal A complete message (from the assembler or the inflater). */
  handleMessage(isText: boolean, data: Buffer): void {
    if (isText) this.emit('message', { type: 'utf8', utf8Data: data.toString('utf8') });
    else this.emit('message', { type: 'binary', binaryData: data });
  }

  private handlePing(data: Buffer): void {
    let cancelled = false;
    if (this._pingListenerCount > 0) {
      this.emit('ping', () => {
        cancelled = true;
      }, data);
    }
    if (!cancelled && this.state === 'open') this.pong(data);
  }

  private handleCloseFrame(payload: Buffer): void {
    const info = parseClosePayload(payload);
    if (info instanceof WebSocketProtocolError) {
      this.handleProtocolError(info);
      return;
    }
    this.parser.halt();
    if (this.state === 'open') {
      this.state = 'peer_requested_close';
      this.connected = false;
      this.closeReasonCode = info.code;
      this.closeDescription = info.reason || (CLOSE_DESCRIPTIONS[info.code] ?? '');
      // Echo the peer's code (RFC 6455 §5.5.1); a close without a code is answered with 1000.
      this.writeCloseFrame(info.code === CloseCode.NoStatus ? CloseCode.Normal : info.code, '');
      // From here the close timer bounds the handshake; a keepalive drop would replace the peer's code with 1006.
      this.stopKeepalive();
      this.setCloseTimer();
    } else if (this.state === 'ending') {
      this.waitingForCloseResponse = false;
      this.state = 'closed';
      // Our FIN is already out; the close timer still bounds how long the peer takes to send its own.
      this.socket.end();
    }
  }

  /** @internal A protocol violation found by the parser, assembler or inflater. */
  handleProtocolError(error: WebSocketProtocolError): void {
    this._debug('protocol error %s: %s', error.code, error.message);
    this.drop(error.closeCode, error.message);
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Send a Buffer (or any ArrayBuffer view) as a binary message, anything else with a
   * `toString()` as a text message. Returns false when the socket buffer is full (wait for `drain`).
   */
  send(data: BinaryData | string | { toString(): string }, cb?: SendCallback): boolean {
    if (Buffer.isBuffer(data)) return this.sendBytes(data, cb);
    if (data instanceof ArrayBuffer) return this.sendBytes(Buffer.from(data), cb);
    if (ArrayBuffer.isView(data)) return this.sendBytes(Buffer.from(data.buffer, data.byteOffset, data.byteLength), cb);
    if (data !== null && data !== undefined && typeof (data as { toString?: unknown }).toString === 'function') {
      return this.sendUTF(data as string, cb);
    }
    throw new TypeError('Data provided must either be a Node Buffer or implement toString()');
  }

  /** Send a text message. */
  sendUTF(data: string | { toString(): string }, cb?: SendCallback): boolean {
    if (data === null || data === undefined) throw new TypeError('sendUTF() needs a string (or a value with toString()).');
    const text = typeof data === 'string' ? data : data.toString();
    if (this.state !== 'open') return this.refuseSend(cb);
    if (!this.admit(text, cb)) return false;
    if (this.deflate && (this.sendQueue?.busy || this.deflate.canCompress(text.length * 3))) {
      const bytes = Buffer.from(text, 'utf8');
      return this.sendOrdered(Opcode.Text, bytes, this.deflate.canCompress(bytes.length), cb);
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes: short text needs no length scan to rule out fragmenting.
    if (this.config.fragmentOutgoingMessages && text.length * 3 > this.config.fragmentationThreshold) {
      const bytes = Buffer.from(text, 'utf8');
      if (bytes.length > this.config.fragmentationThreshold) return this.sendFragmented(Opcode.Text, bytes, cb);
      return this.track(this.sender.frame(Opcode.Text, bytes, true, false, cb));
    }
    return this.track(this.sender.text(Opcode.Text, text, true, false, cb));
  }

  /** Send a binary message. */
  sendBytes(data: Buffer, cb?: SendCallback): boolean {
    if (!Buffer.isBuffer(data)) throw new TypeError('You must pass a Node Buffer object to WebSocketConnection.prototype.sendBytes()');
    if (this.state !== 'open') return this.refuseSend(cb);
    if (!this.admit(data.length, cb)) return false;
    if (this.deflate && (this.sendQueue?.busy || this.deflate.canCompress(data.length))) {
      return this.sendOrdered(Opcode.Binary, data, this.deflate.canCompress(data.length), cb);
    }
    if (this.config.fragmentOutgoingMessages && data.length > this.config.fragmentationThreshold) {
      return this.sendFragmented(Opcode.Binary, data, cb);
    }
    return this.track(this.sender.frame(Opcode.Binary, data, true, false, cb));
  }

  /**
   * Write frames that were encoded once for many connections (see `WebSocketServer.broadcast`).
   * Only valid for unmasked (server-side) connections.
   */
  sendEncodedFrames(frames: readonly Buffer[], cb?: SendCallback): boolean {
    if (this.maskOutgoingPackets) throw new Error('sendEncodedFrames() is for server connections: client frames must be masked one by one.');
    if (this.state !== 'open') return this.refuseSend(cb);
    if (!this.admit(frames, cb)) return false;
    if (this.sendQueue?.busy) {
      this.inOrder(() => this.sender.raw(frames, cb), cb);
      return this.track(this.bufferedAmount < this.socket.writableHighWaterMark);
    }
    return this.track(this.sender.raw(frames, cb));
  }

  /** Send a ping (payload: up to 125 bytes; a string is sent as UTF-8). */
  ping(data?: Buffer | string | { toString(): string }): boolean {
    return this.sendControl(Opcode.Ping, data, 'ping');
  }

  /** Send a pong (normally automatic in reply to a ping). */
  pong(data?: Buffer | string | { toString(): string }): boolean {
    return this.sendControl(Opcode.Pong, data, 'pong');
  }

  private sendControl(opcode: number, data: Buffer | string | { toString(): string } | undefined, name: string): boolean {
    const payload = data === undefined || data === null ? EMPTY_BUFFER : Buffer.isBuffer(data) ? data : Buffer.from(data.toString(), 'utf8');
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(`A ${name} payload must be at most ${MAX_CONTROL_PAYLOAD} bytes; got ${payload.length}.`);
    }
    if (this.state !== 'open') return false;
    if (!this.admit(payload.length + 2)) return false;
    if (this.sendQueue?.busy) {
      this.inOrder(() => this.sender.frame(opcode, payload, true, false));
      return this.track(this.bufferedAmount < this.socket.writableHighWaterMark);
    }
    return this.track(this.sender.frame(opcode, payload, true, false));
  }

  /** Send a frame built by the caller. Returns the socket's write result. */
  sendFrame(frame: WebSocketFrame, cb?: SendCallback): boolean {
    // Like every send method: nothing reaches a socket whose close handshake has begun.
    if (this.state !== 'open') return this.refuseSend(cb);
    frame.mask = this.maskOutgoingPackets;
    const bytes = frame.toBuffer();
    if (!this.admit(bytes.length, cb)) return false;
    if (this.sendQueue?.busy) {
      // After the messages still being compressed.
      this.inOrder(() => this.sender.raw([bytes], cb), cb);
      return this.track(this.bufferedAmount < this.socket.writableHighWaterMark);
    }
    return this.track(this.sender.raw([bytes], cb));
  }

  /** Send a frame, split into `fragmentationThreshold`-sized frames when configured and needed. */
  fragmentAndSend(frame: WebSocketFrame, cb?: SendCallback): boolean {
    if (frame.opcode > 0x07) throw new Error('You cannot fragment control frames.');
    if (this.state !== 'open') return this.refuseSend(cb);
    const payload = frame.binaryPayload ?? EMPTY_BUFFER;
    if (!this.config.fragmentOutgoingMessages || payload.length <= this.config.fragmentationThreshold) {
      frame.fin = true;
      return this.sendFrame(frame, cb);
    }
    if (!this.admit(payload.length, cb)) return false;
    if (this.sendQueue?.busy) {
      const opcode = frame.opcode;
      this.inOrder(() => this.sendFragmented(opcode, payload, cb), cb);
      return this.track(this.bufferedAmount < this.socket.writableHighWaterMark);
    }
    return this.sendFragmented(frame.opcode, payload, cb);
  }

  private sendFragmented(opcode: number, payload: Buffer, cb?: SendCallback): boolean {
    return this.track(this.sender.fragments(opcode, payload, this.config.fragmentationThreshold, false, cb));
  }

  /**
   * Send a data message through the ordered queue: compressed in the background when
   * `compress` is true, and in any case never ahead of a message queued before it.
   */
  private sendOrdered(opcode: number, payload: Buffer, compress: boolean, cb?: SendCallback): boolean {
    const queue = this.sendQueue as SendQueue;
    const deflate = this.deflate as PerMessageDeflate;
    queue.pendingBytes += payload.length;
    queue.add((done) => {
      const write = (data: Buffer, rsv1: boolean): void => {
        queue.pendingBytes -= payload.length;
        if (this.state === 'open' || this.state === 'ending') this.writeMessage(opcode, data, rsv1, cb);
        else if (cb) process.nextTick(cb, new ConnectionNotOpenError(this.state));
        done();
      };
      if (!compress) {
        write(payload, false);
        return;
      }
      deflate.compress(payload, (error, compressed) => {
        if (error) {
          queue.pendingBytes -= payload.length;
          if (cb) cb(error);
          done();
          if (this.state === 'open') this.drop(CloseCode.InternalError, 'Compression failed.');
          return;
        }
        write(compressed as Buffer, true);
      });
    }, payload.length, discarded(cb));
    return this.track(this.bufferedAmount < this.socket.writableHighWaterMark);
  }

  /** Write one message, fragmented when configured; RSV1 goes on the first frame only. */
  private writeMessage(opcode: number, payload: Buffer, rsv1: boolean, cb?: SendCallback): void {
    if (this.config.fragmentOutgoingMessages && payload.length > this.config.fragmentationThreshold) {
      this.sender.fragments(opcode, payload, this.config.fragmentationThreshold, rsv1, cb);
    } else {
      this.sender.frame(opcode, payload, true, rsv1, cb);
    }
  }

  /** Run `write` now, or after the messages still being compressed. */
  private inOrder(write: () => void, cb?: SendCallback): void {
    if (this.sendQueue?.busy) {
      this.sendQueue.add((done) => {
        write();
        done();
      }, 0, discarded(cb));
    } else {
      write();
    }
  }

  /** Note a full socket buffer, so `drain` is expected. */
  private track(flushed: boolean): boolean {
    if (!flushed) {
      this.outputBufferFull = true;
      this.watchDrain();
    }
    return flushed;
  }

  /**
   * Whether a message may be queued: yes while `bufferedAmount` is below `maxBufferedAmount`
   * (so it passes the limit by one message at most). Otherwise the message is refused and the
   * overflow policy applied: `'close'` drops the connection with 1008, `'drop'` emits
   * `messageDropped`; the callback gets the `SendBufferFullError` either way.
   */
  private admit(message: number | string | readonly Buffer[], cb?: SendCallback): boolean {
    const buffered = this.bufferedAmount;
    if (buffered < this.maxBufferedAmount) return true;
    const bytes = typeof message === 'number' ? message : typeof message === 'string' ? Buffer.byteLength(message) : message.reduce((sum, frame) => sum + frame.length, 0);
    const error = new SendBufferFullError(bytes, buffered, this.maxBufferedAmount);
    this._debug('send buffer full: %d buffered, limit %d', buffered, this.maxBufferedAmount);
    if (cb) process.nextTick(cb, error);
    if (this.bufferOverflowPolicy === 'drop') this.emit('messageDropped', error);
    else this.drop(CloseCode.PolicyViolation, SEND_BUFFER_FULL_DESCRIPTION);
    return false;
  }

  private refuseSend(cb?: SendCallback): false {
    if (cb) {
      const error = new ConnectionNotOpenError(this.state);
      process.nextTick(cb, error);
    }
    return false;
  }

  // ---- topics (publish/subscribe) --------------------------------------------------------

  /** The accepting server's topic index; null on client connections. */
  private topicRegistry: TopicRegistry<WebSocketConnection> | null = null;

  /** The accepting server, told of the close before any `close` listener runs; null on clients. */
  private closeObserver: ConnectionCloseObserver | null = null;

  /**
   * Internal: the server that accepted this connection gives it its topic index and asks to be
   * told of the close (a field, not a `close` listener: no closure per connection).
   */
  _attachToServer(registry: TopicRegistry<WebSocketConnection>, closeObserver: ConnectionCloseObserver): void {
    this.topicRegistry = registry;
    this.closeObserver = closeObserver;
  }

  /**
   * Receive what the server publishes to `topic` (`server.publish(topic, data)`) until
   * `unsubscribe(topic)` or the close, which leaves every topic. True if newly subscribed;
   * false if already subscribed or the connection has closed. Throws a `TypeError` for a topic
   * that is not a non-empty string, and an `Error` on connections no WebSocketServer accepted
   * (clients).
   */
  subscribe(topic: string): boolean {
    assertTopic(topic, 'subscribe()');
    const registry = this.requireTopicRegistry('subscribe');
    // Closed connections have already left their topics; subscribing now would never be undone.
    if (this.closeEventEmitted || this.state === 'closed') return false;
    return registry.subscribe(this, topic);
  }

  /** Stop receiving `topic`. True if the connection was subscribed to it. */
  unsubscribe(topic: string): boolean {
    assertTopic(topic, 'unsubscribe()');
    return this.requireTopicRegistry('unsubscribe').unsubscribe(this, topic);
  }

  /** Whether the connection is subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    assertTopic(topic, 'isSubscribed()');
    return this.topicRegistry?.isSubscribed(this, topic) ?? false;
  }

  /** The topics this connection is subscribed to, in subscription order (a copy; empty once closed). */
  get topics(): string[] {
    return this.topicRegistry?.topicsOf(this) ?? [];
  }

  private requireTopicRegistry(method: string): TopicRegistry<WebSocketConnection> {
    if (this.topicRegistry) return this.topicRegistry;
    throw new Error(`${method}() works on connections accepted by a WebSocketServer (topics belong to the server that publishes to them); this connection has none.`);
  }

  // ---- closing ---------------------------------------------------------------------------

  /**
   * Start the close handshake. `reasonCode` defaults to 1000 and must be a code allowed on the
   * wire; `description` defaults to the code's text and is limited to 123 UTF-8 bytes.
   */
  close(reasonCode?: number, description?: string): void {
    if (!this.connected) return;
    const code = typeof reasonCode === 'number' ? reasonCode : CloseCode.Normal;
    if (!isValidCloseCode(code)) throw new RangeError(`Close code ${code} is not valid.`);
    const text = typeof description === 'string' ? description : (CLOSE_DESCRIPTIONS[code] ?? '');
    if (Buffer.byteLength(text) > MAX_CLOSE_REASON_BYTES) {
      throw new RangeError(`Close description must be at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8; got ${Buffer.byteLength(text)}.`);
    }
    this.closeReasonCode = code;
    this.closeDescription = text;
    // From here the close timer bounds the handshake; a keepalive drop would replace our code with 1006.
    this.stopKeepalive();
    this.setCloseTimer();
    // The state changes first: a transport that answers synchronously must find us closing.
    this.state = 'ending';
    this.connected = false;
    this.waitingForCloseResponse = true;
    this.writeCloseFrame(code, text);
  }

  /**
   * Close at once: send a close frame (unless `skipCloseFrame`), emit `close` synchronously and
   * release the socket. `reasonCode` defaults to 1002.
   */
  drop(reasonCode?: number, description?: string, skipCloseFrame?: boolean): void {
    const code = typeof reasonCode === 'number' ? reasonCode : CloseCode.ProtocolError;
    const text = typeof description === 'string' ? description : (CLOSE_DESCRIPTIONS[code] ?? '');
    this.parser.halt();
    let sentClose = false;
    // A code that may not appear on the wire (e.g. 1006) closes without a close frame.
    if (!skipCloseFrame && (this.state === 'open' || this.state === 'peer_requested_close') && isValidCloseCode(code)) {
      this.writeCloseFrame(code, truncateUtf8(text, MAX_CLOSE_REASON_BYTES));
      sentClose = true;
    }
    this.connected = false;
    this.state = 'closed';
    this.clearKeepaliveTimer();
    this.clearGracePeriodTimer();
    this.clearCloseTimer();
    this.closeReasonCode = code;
    this.closeDescription = text;
    this.emitClose();
    if (sentClose) this.linger();
    else {
      this.releaseDeflate();
      this.sender.discard();
      this.socket.destroy();
    }
  }

  /** Send a close frame and end our side of the TCP connection. */
  sendCloseFrame(reasonCode = CloseCode.Normal, description?: string, cb?: SendCallback): void {
    if (this.state !== 'open' && this.state !== 'peer_requested_close') return;
    this.writeCloseFrame(reasonCode, description ?? '', cb);
  }

  private writeCloseFrame(code: number, reason: string, cb?: SendCallback): void {
    // Messages still compressing go out first: the close frame must be the last frame we send.
    this.inOrder(() => {
      this.sender.frame(Opcode.Close, encodeClosePayload(code, reason), true, false, cb);
      this.sender.flush();
      this.socket.end();
    }, cb);
  }

  /**
   * After a forced close with a close frame: stop reading, keep the socket until the peer
   * closes or `closeTimeout` passes, so the close frame is not lost to a TCP reset.
   */
  private linger(): void {
    this.lingering = true;
    this.setCloseTimer();
  }

  private emitClose(): void {
    if (this.closeEventEmitted) return;
    this.closeEventEmitted = true;
    const description = this.closeDescription ?? '';
    this.closeObserver?.handleConnectionClose(this, this.closeReasonCode, description);
    this.emit('close', this.closeReasonCode, description);
  }

  // ---- flow control ----------------------------------------------------------------------

  /** Stop reading from the socket (and delivering messages) until `resume()`. */
  pause(): void {
    this.userPaused = true;
    this.parser.pause();
    this.socket.pause();
  }

  /** Resume reading; messages buffered while paused are delivered first. */
  resume(): void {
    this.userPaused = false;
    // While a message is being decompressed, reading resumes once it is delivered.
    if (this.inflater?.busy) return;
    this.socket.resume();
    this.parser.resume();
  }

  /** @internal Read on from a socket whose reading stopped before the handshake, unless the application paused or an inflate is busy. */
  _resumeInput(): void {
    if (!this.userPaused && !this.inflater?.busy) this.socket.resume();
  }

  /** A decompression ended: read on (unless paused by the application), then finish a close that waited for it. */
  private resumeAfterInflate(): void {
    if (!this.userPaused) {
      this.parser.resume();
      // Unless the frames just delivered started another decompression.
      if (!this.inflater?.busy) this.socket.resume();
    }
    if (this.closeAfterInflate && !this.inflater?.busy) {
      this.closeAfterInflate = false;
      this.handleSocketClose();
    }
  }

  // ---- timers ----------------------------------------------------------------------------

  /** (Re)arm the keepalive idle timer. */
  setKeepaliveTimer(): void {
    this.clearKeepaliveTimer();
    this._keepaliveTimeoutID = setTimeout(() => this.handleKeepaliveTimer(), this.config.keepaliveInterval);
  }

  /** Disarm the keepalive idle timer. */
  clearKeepaliveTimer(): void {
    if (this._keepaliveTimeoutID) {
      clearTimeout(this._keepaliveTimeoutID);
      this._keepaliveTimeoutID = null;
    }
  }

  /** The peer was silent for `keepaliveInterval`: ping it, and start the grace period if configured. */
  handleKeepaliveTimer(): void {
    this._keepaliveTimeoutID = null;
    this.ping();
    if (this.config.dropConnectionOnKeepaliveTimeout) this.setGracePeriodTimer();
    else this.setKeepaliveTimer();
  }

  /** Arm the keepalive grace timer. */
  setGracePeriodTimer(): void {
    this.clearGracePeriodTimer();
    this._gracePeriodTimeoutID = setTimeout(() => this.handleGracePeriodTimer(), this.config.keepaliveGracePeriod);
  }

  /** Disarm the keepalive grace timer. */
  clearGracePeriodTimer(): void {
    if (this._gracePeriodTimeoutID) {
      clearTimeout(this._gracePeriodTimeoutID);
      this._gracePeriodTimeoutID = null;
    }
  }

  /** The peer did not answer a keepalive ping in time. */
  handleGracePeriodTimer(): void {
    this._gracePeriodTimeoutID = null;
    this.drop(CloseCode.Abnormal, 'Peer not responding.', true);
  }

  private stopKeepalive(): void {
    this.clearKeepaliveTimer();
    this.clearGracePeriodTimer();
  }

  private restartKeepalive(): void {
    if (!this.config.keepalive || this.config.useNativeKeepalive) return;
    this.clearGracePeriodTimer();
    // refresh() re-arms the existing timer without allocating a new one: this runs per read.
    if (this._keepaliveTimeoutID) this._keepaliveTimeoutID.refresh();
    else if (this.state === 'open') this.setKeepaliveTimer();
  }

  /** Arm the close timer: when it fires, the socket is destroyed. */
  setCloseTimer(): void {
    this.clearCloseTimer();
    this.closeTimer = setTimeout(() => this.handleCloseTimer(), this.closeTimeout);
  }

  /** Disarm the close timer. */
  clearCloseTimer(): void {
    if (this.closeTimer) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
  }

  /** The peer did not finish closing in `closeTimeout`: destroy the socket. */
  handleCloseTimer(): void {
    this.closeTimer = null;
    this.state = 'closed';
    this.socket.destroy();
  }

  // ---- socket events ---------------------------------------------------------------------

  /** A socket error: the connection closes with 1006 and the error's syscall and code. */
  handleSocketError(error: NodeJS.ErrnoException): void {
    this._debug('socket error %s', error.message);
    if (this.state === 'closed' && this.closeEventEmitted) {
      this.socket.destroy();
      return;
    }
    // Lost while waiting for the peer's close frame: no close frame arrived, so 1006 (RFC 6455 §7.1.5).
    if (this.closeReasonCode === -1 || this.state === 'open' || (this.state === 'ending' && this.waitingForCloseResponse)) {
      this.closeReasonCode = CloseCode.Abnormal;
      this.closeDescription = `Socket Error: ${error.syscall} ${error.code}`;
    }
    this.socketHadError = true;
    this.connected = false;
    this.state = 'closed';
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.socket.destroy();
  }

  /** The peer ended its side of the TCP connection. */
  handleSocketEnd(): void {
    this.receivedEnd = true;
    if (this.lingering) {
      this.socket.destroy();
      return;
    }
    if (this.state === 'open') this.connected = false;
    // Answer the FIN with ours (unless already sent: a second end() costs an Error); the socket
    // closes once both are sent.
    if (!this.socket.writableEnded) this.socket.end();
  }

  /** The socket closed: the connection is closed. */
  handleSocketClose(): void {
    // Frames read before the peer's FIN may wait behind a message being decompressed: they (and
    // the peer's close frame among them) are delivered first, then the connection closes.
    if (this.inflater?.busy && this.state === 'open' && !this.socketHadError) {
      this.closeAfterInflate = true;
      return;
    }
    this.connected = false;
    this.state = 'closed';
    if (this.closeReasonCode === -1) {
      this.closeReasonCode = CloseCode.Abnormal;
      this.closeDescription = 'Connection dropped by remote peer.';
    }
    this.clearCloseTimer();
    this.clearKeepaliveTimer();
    this.clearGracePeriodTimer();
    this.parser.halt();
    this.releaseDeflate();
    this.removeSocketListeners();
    this.emitClose();
  }

  /** Detach from a closed socket; the error listener stays as a guard against a late error. */
  private removeSocketListeners(): void {
    const socket = this.socket;
    socket.removeListener('end', socketOnEnd);
    socket.removeListener('close', socketOnClose);
    socket.removeListener('drain', socketOnDrain);
    socket.removeListener('pause', socketOnPause);
    socket.removeListener('resume', socketOnResume);
    socket.removeListener('data', socketOnData);
  }

  /** Free the zlib contexts and forget queued sends. */
  private releaseDeflate(): void {
    this.sendQueue?.clear();
    this.deflate?.close();
  }

  /** Listen for the socket's `drain` from the first time a write fills it (until then, no listener). */
  private watchDrain(): void {
    if ((this.flags & FLAG_WATCHING_DRAIN) !== 0) return;
    this.flags |= FLAG_WATCHING_DRAIN;
    (this.socket as OwnedSocket)[kConnection] = this;
    this.socket.on('drain', socketOnDrain);
  }

  /** The socket's write buffer drained. */
  handleSocketDrain(): void {
    this.outputBufferFull = false;
    this.emit('drain');
  }

  /** The socket was paused. */
  handleSocketPause(): void {
    this.inputPaused = true;
    this.emit('pause');
  }

  /** The socket was resumed. */
  handleSocketResume(): void {
    this.inputPaused = false;
    this.emit('resume');
  }

  /** Number of `ping` listeners; pings are only surfaced when there is one. */
  get _pingListenerCount(): number {
    return this.listenerCount('ping');
  }

  /** Bytes written to the socket but not yet sent. */
  get bufferedAmount(): number {
    return this.sender.bufferedAmount + (this.sendQueue?.pendingBytes ?? 0);
  }

  /** Whether messages on this connection may be compressed (permessage-deflate was agreed). */
  get compressed(): boolean {
    return this.deflate !== null;
  }
}

// Boolean state as accessors over one number: read and written like the plain properties
// WebSocket-Node has, at one field per connection instead of eleven.
for (const [name, bit] of [
  ['connected', FLAG_CONNECTED],
  ['closeEventEmitted', FLAG_CLOSE_EVENT_EMITTED],
  ['outputBufferFull', FLAG_OUTPUT_BUFFER_FULL],
  ['inputPaused', FLAG_INPUT_PAUSED],
  ['socketHadError', FLAG_SOCKET_HAD_ERROR],
  ['waitingForCloseResponse', FLAG_WAITING_FOR_CLOSE_RESPONSE],
  ['receivedEnd', FLAG_RECEIVED_END],
  ['listening', FLAG_LISTENING],
  ['lingering', FLAG_LINGERING],
  ['userPaused', FLAG_USER_PAUSED],
  ['closeAfterInflate', FLAG_CLOSE_AFTER_INFLATE],
] as const) {
  Object.defineProperty(WebSocketConnection.prototype, name, {
    configurable: true,
    enumerable: false,
    get(this: { flags: number }): boolean {
      return (this.flags & bit) !== 0;
    },
    set(this: { flags: number }, value: boolean): void {
      this.flags = value ? this.flags | bit : this.flags & ~bit;
    },
  });
}

// Socket listeners are shared module-level functions that find their connection through a
// symbol on the socket: a connection allocates no listener closures.
const kConnection = Symbol('wsuite.connection');
interface OwnedSocket {
  [kConnection]?: WebSocketConnection;
}
const ownerOf = (socket: unknown): WebSocketConnection => (socket as OwnedSocket)[kConnection] as WebSocketConnection;
function socketOnData(this: Socket, data: Buffer): void {
  ownerOf(this).handleSocketData(data);
}
function socketOnError(this: Socket, error: Error): void {
  ownerOf(this).handleSocketError(error);
}
function socketOnEnd(this: Socket): void {
  ownerOf(this).handleSocketEnd();
}
function socketOnClose(this: Socket): void {
  ownerOf(this).handleSocketClose();
}
function socketOnDrain(this: Socket): void {
  ownerOf(this).handleSocketDrain();
}
function socketOnPause(this: Socket): void {
  ownerOf(this).handleSocketPause();
}
function socketOnResume(this: Socket): void {
  ownerOf(this).handleSocketResume();
}

/** Routes the parser's, assembler's and sender's callbacks to their connection. */
class ConnectionSink implements FrameSink, MessageSink, SenderOptions {
  constructor(private readonly connection: WebSocketConnection) {}
  onFrame(opcode: number, fin: boolean, rsv1: boolean, payload: Buffer, masked: boolean): void {
    this.connection.handleFrame(opcode, fin, rsv1, payload, masked);
  }
  onPartialPayload(opcode: number, rsv1: boolean, bytes: Buffer): void {
    this.connection.handlePartialPayload(opcode, rsv1, bytes);
  }
  onMessage(isText: boolean, data: Buffer): void {
    this.connection.handleMessage(isText, data);
  }
  onError(error: WebSocketProtocolError): void {
    this.connection.handleProtocolError(error);
  }
  maskKey(): Uint8Array | null {
    return this.connection.maskOutgoingPackets ? nextMaskKey() : null;
  }
  onDrain(): void {
    this.connection.handleSocketDrain();
  }
}
