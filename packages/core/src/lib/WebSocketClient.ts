/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/WebSocketClient')`. */
import { WebSocketClient } from '../client';

export = WebSocketClient;
