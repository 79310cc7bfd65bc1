/** Deep-require path of WebSocket-Node: `require('@wsuite/core/lib/Deprecation')`. */
import { deprecation } from '../deprecation';

export = deprecation;
