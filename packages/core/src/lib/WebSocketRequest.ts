/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/WebSocketRequest')`. */
import { WebSocketRequest } from '../request';

export = WebSocketRequest;
