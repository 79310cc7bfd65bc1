/**
 * The event classes a W3C WebSocket dispatches: Node's own `MessageEvent`, and `CloseEvent` and
 * `ErrorEvent` (missing from Node 20's globals) as `Event` subclasses, or Node's where it has them.
 */

/** The options every `Event` constructor takes. */
export interface BaseEventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

/** Init of a {@link CloseEvent}. */
export interface CloseEventInit extends BaseEventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/** The `close` event of a WebSocket (WHATWG `CloseEvent`). */
export interface CloseEvent extends Event {
  /** The close code the server sent (or 1005 when it sent none, 1006 when no close frame arrived). */
  readonly code: number;
  /** The close reason ('' when none). */
  readonly reason: string;
  /** True when the closing handshake completed, whatever the code. */
  readonly wasClean: boolean;
}

/** Init of an {@link ErrorEvent}. */
export interface ErrorEventInit extends BaseEventInit {
  message?: string;
  error?: unknown;
  filename?: string;
  lineno?: number;
  colno?: number;
}

/** The `error` event of a WebSocket: the HTML `ErrorEvent` shape, with the cause in `error`. */
export interface ErrorEvent extends Event {
  /** What went wrong. */
  readonly message: string;
  /** The cause (an `Error`). */
  readonly error: unknown;
  readonly filename: string;
  readonly lineno: number;
  readonly colno: number;
}

/** Init of a {@link MessageEvent}. */
export interface MessageEventInit<T = unknown> extends BaseEventInit {
  data?: T;
  origin?: string;
  lastEventId?: string;
}

/** The `message` event of a WebSocket. */
export interface MessageEvent<T = unknown> extends Event {
  /** The message: a string, or binary data as `binaryType` says. */
  readonly data: T;
  /** The origin of the WebSocket's URL. */
  readonly origin: string;
  readonly lastEventId: string;
}

// Named class expressions, so `constructor.name` reads as in browsers.
const FallbackCloseEvent = class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
};

const FallbackErrorEvent = class ErrorEvent extends Event {
  readonly message: string;
  readonly error: unknown;
  readonly filename: string;
  readonly lineno: number;
  readonly colno: number;
  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.message = init.message ?? '';
    this.error = init.error;
    this.filename = init.filename ?? '';
    this.lineno = init.lineno ?? 0;
    this.colno = init.colno ?? 0;
  }
};

const FallbackMessageEvent = class MessageEvent<T> extends Event {
  readonly data: T;
  readonly origin: string;
  readonly lastEventId: string;
  constructor(type: string, init: MessageEventInit<T> = {}) {
    super(type, init);
    this.data = init.data as T;
    this.origin = init.origin ?? '';
    this.lastEventId = init.lastEventId ?? '';
  }
};

interface EventClasses {
  CloseEvent?: new (type: string, init?: CloseEventInit) => CloseEvent;
  ErrorEvent?: new (type: string, init?: ErrorEventInit) => ErrorEvent;
  MessageEvent?: new <T>(type: string, init?: MessageEventInit<T>) => MessageEvent<T>;
}
const globals = globalThis as EventClasses;

/** `CloseEvent`: the global one where Node has it, else an `Event` subclass of the same shape. */
export const CloseEvent: new (type: string, init?: CloseEventInit) => CloseEvent = globals.CloseEvent ?? FallbackCloseEvent;
/** `ErrorEvent`: the global one where Node has it, else an `Event` subclass of the same shape. */
export const ErrorEvent: new (type: string, init?: ErrorEventInit) => ErrorEvent = globals.ErrorEvent ?? FallbackErrorEvent;
/** `MessageEvent`: Node's global one (present since Node 15), else an `Event` subclass of the same shape. */
export const MessageEvent: new <T>(type: string, init?: MessageEventInit<T>) => MessageEvent<T> = globals.MessageEvent ?? FallbackMessageEvent;
