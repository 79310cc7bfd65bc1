/** Deep-require path of WebSocket-Node: `require('@wsuite/core/vendor/FastBufferList')`. */
import { BufferList } from '../buffer-list';

export = BufferList;
