/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/WebSocketFrame')`. */
import { WebSocketFrame } from '../websocket-frame';

export = WebSocketFrame;
