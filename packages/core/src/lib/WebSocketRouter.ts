/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/WebSocketRouter')`. */
import { WebSocketRouter } from '../router';

export = WebSocketRouter;
