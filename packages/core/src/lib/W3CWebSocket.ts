/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/W3CWebSocket')`. */
import { W3CWebSocket } from '../w3c-websocket';

export = W3CWebSocket;
