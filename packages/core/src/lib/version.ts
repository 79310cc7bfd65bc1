/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/version')`. */
import { version } from '../version';

export = version;
