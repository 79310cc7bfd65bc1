/**
 * WebSocketRouterRequest: the request a router hands to the handler that matched it, with the
 * matched subprotocol already chosen.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { UrlWithParsedQuery } from 'node:url';
import type { WebSocketRequest } from './request';
import type { WebSocketConnection } from './connection';
import type { Extension } from './protocol/extension-header';
import type { RequestCookie, SetCookie } from './protocol/cookies';
import type { UpgradeHeaders } from './upgrade-response';

/** The protocol name under which handlers for clients that request no subprotocol are kept. */
export const NO_PROTOCOL = '____no_protocol____';

/** Events of a {@link WebSocketRouterRequest}. */
export interface WebSocketRouterRequestEvents {
  requestAccepted: [connection: WebSocketConnection];
  requestRejected: [request: WebSocketRouterRequest];
}

/** A routed request (`require('@wsuite/core/lib/WebSocketRouterRequest')`). */
export class WebSocketRouterRequest extends EventEmitter<WebSocketRouterRequestEvents> {
  /** The underlying request. */
  readonly webSocketRequest: WebSocketRequest;
  /** The matched subprotocol (lower-case), or null when the client requested none. */
  readonly protocol: string | null;
  readonly origin: string | undefined;
  readonly resource: string;
  readonly resourceURL: UrlWithParsedQuery;
  readonly httpRequest: IncomingMessage;
  readonly remoteAddress: string | undefined;
  readonly webSocketVersion: number;
  readonly requestedExtensions: Extension[];
  readonly cookies: RequestCookie[];

  constructor(webSocketRequest: WebSocketRequest, resolvedProtocol: string) {
    super();
    this.webSocketRequest = webSocketRequest;
    this.protocol = resolvedProtocol === NO_PROTOCOL ? null : resolvedProtocol;
    this.origin = webSocketRequest.origin;
    this.resource = webSocketRequest.resource;
    this.resourceURL = webSocketRequest.resourceURL;
    this.httpRequest = webSocketRequest.httpRequest;
    this.remoteAddress = webSocketRequest.remoteAddress;
    this.webSocketVersion = webSocketRequest.webSocketVersion;
    this.requestedExtensions = webSocketRequest.requestedExtensions;
    this.cookies = webSocketRequest.cookies;
  }

  /** Accept with the matched protocol; `extraHeaders` are added to the 101 (see `WebSocketRequest.accept`). */
  accept(origin?: string | null, cookies?: SetCookie[], extraHeaders?: UpgradeHeaders): WebSocketConnection {
    const connection = this.webSocketRequest.accept(this.protocol, origin, cookies, extraHeaders);
    this.emit('requestAccepted', connection);
    return connection;
  }

  /** Reject with an HTTP status, reason and extra headers. */
  reject(status?: number, reason?: string, extraHeaders?: Record<string, string | number>): void {
    this.webSocketRequest.reject(status, reason, extraHeaders);
    this.emit('requestRejected', this);
  }
}
