/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/WebSocketConnection')`. */
import { WebSocketConnection } from '../connection';

export = WebSocketConnection;
