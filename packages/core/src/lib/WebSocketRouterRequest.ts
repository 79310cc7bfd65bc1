/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/WebSocketRouterRequest')`. */
import { WebSocketRouterRequest } from '../router-request';

export = WebSocketRouterRequest;
