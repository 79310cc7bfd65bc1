/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/websocket')`. */
import * as websocket from '../index';

export = websocket;
