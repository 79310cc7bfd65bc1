/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/WebSocketServer')`. */
import { WebSocketServer } from '../server';

export = WebSocketServer;
