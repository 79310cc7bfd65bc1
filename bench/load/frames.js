'use strict';
/**
 * Client-side wire helpers of the load generator: the upgrade request, pre-built masked frames,
 * and a frame counter that reads only the headers of what the server sends (payloads are
 * skipped, never copied, unmasked or decoded), so the client stays far cheaper than any server.
 */
const zlib = require('node:zlib');

/** A fixed key: every connection sends the same one, so the expected accept value is constant. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const EMPTY = Buffer.alloc(0);

const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/** The HTTP upgrade request, as one buffer. `extensions` is the Sec-WebSocket-Extensions offer. */
function upgradeRequest(port, extensions) {
  return Buffer.from(
    'GET / HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${KEY}\r\n` +
      'Sec-WebSocket-Version: 13\r\n' +
      (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
      '\r\n',
    'latin1',
  );
}

/** One complete masked client frame. */
function maskedFrame(opcode, payload, { fin = true, rsv1 = false } = {}) {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = 2 + extended + 4;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (extended === 0) frame[1] = 0x80 | length;
  else if (extended === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  MASK.copy(frame, header - 4);
  for (let i = 0; i < length; i++) frame[header + i] = payload[i] ^ MASK[i & 3];
  return frame;
}

/** A close frame with code 1000. */
function closeFrame() {
  return maskedFrame(OPCODE.close, Buffer.from([0x03, 0xe8]));
}

/** `count` copies of `frame` in one buffer (one socket write pipelines them all). */
function repeat(frame, count) {
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

/** A payload of `size` bytes: ASCII (valid UTF-8) for text, a byte pattern for binary. */
function payloadOf(size, text) {
  const buf = Buffer.allocUnsafe(size);
  if (text) for (let i = 0; i < size; i++) buf[i] = 0x61 + (i % 26);
  else for (let i = 0; i < size; i++) buf[i] = (i * 31 + 7) & 0xff;
  return buf;
}

/** Compressible text (JSON records), the kind of payload permessage-deflate exists for. */
function jsonText(size) {
  let s = '[';
  for (let i = 0; s.length < size; i++) {
    s += `{"id":${i},"user":"user-${i % 97}","active":${i % 3 === 0},"score":${(i * 7919) % 1000},"tags":["alpha","beta"]},`;
  }
  return Buffer.from(s.slice(0, size), 'latin1');
}

/** The permessage-deflate body of `payload` as a client without context takeover sends it. */
function deflateMessage(payload) {
  const out = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4); // drop the 00 00 ff ff tail (RFC 7692 §7.2.1)
}

/**
 * Counts the frames of a server's byte stream by their headers alone. Works across any chunk
 * boundary. `messages` counts final data frames (a fragmented message counts once);
 * `payloadBytes` counts payload bytes as they arrive (so partial large messages count too).
 */
class FrameCounter {
  constructor(onMessage) {
    this.onMessage = onMessage || null;
    this.messages = 0;
    this.frames = 0;
    this.payloadBytes = 0;
    this.closed = false;
    this.firstOpcode = -1;
    this.remaining = 0; // payload bytes of the current frame still to skip
    this.fin = false;
    this.opcode = 0;
    this.carry = Buffer.alloc(14);
    this.carryLength = 0;
    this.closePayload = null; // bytes of a close frame, kept to report its code and reason
  }

  /** "code reason" of the close frame the server sent, if any. */
  get closeReason() {
    const p = this.closePayload ? Buffer.concat(this.closePayload) : null;
    if (!p || p.length < 2) return p ? 'no status code' : '';
    return `${p.readUInt16BE(0)}${p.length > 2 ? ` ${p.toString('utf8', 2)}` : ''}`;
  }

  feed(buf) {
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, len - pos);
        if (this.opcode === OPCODE.close) this.closePayload.push(Buffer.from(buf.subarray(pos, pos + take)));
        this.remaining -= take;
        this.payloadBytes += take;
        pos += take;
        if (this.remaining === 0) this.frameDone();
        continue;
      }
      if (this.carryLength === 0 && len - pos >= 2) {
        const b1 = buf[pos + 1];
        const l7 = b1 & 0x7f;
        const header = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
        if (len - pos >= header) {
          const length = l7 < 126 ? l7 : l7 === 126 ? buf.readUInt16BE(pos + 2) : buf.readUInt32BE(pos + 2) * 0x100000000 + buf.readUInt32BE(pos + 6);
          this.startFrame(buf[pos], length);
          pos += header;
          if (length === 0) this.frameDone();
          else if (len - pos >= length) {
            // The whole payload is here: skip it at once (the common small-frame case).
            if (this.opcode === OPCODE.close) this.closePayload.push(Buffer.from(buf.subarray(pos, pos + length)));
            this.payloadBytes += length;
            this.remaining = 0;
            pos += length;
            this.frameDone();
          }
          continue;
        }
      }
      // A header split across chunks: gather its bytes.
      this.carry[this.carryLength++] = buf[pos++];
      if (this.carryLength >= 2) {
        const b1 = this.carry[1];
        const l7 = b1 & 0x7f;
        const header = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
        if (this.carryLength === header) {
          const c = this.carry;
          const length = l7 < 126 ? l7 : l7 === 126 ? c.readUInt16BE(2) : c.readUInt32BE(2) * 0x100000000 + c.readUInt32BE(6);
          this.carryLength = 0;
          this.startFrame(c[0], length);
          if (length === 0) this.frameDone();
        }
      }
    }
  }

  startFrame(b0, length) {
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    this.remaining = length;
    this.frames++;
    if (this.firstOpcode === -1) this.firstOpcode = this.opcode;
    if (this.opcode === OPCODE.close) this.closePayload = [];
  }

  frameDone() {
    if (this.opcode === OPCODE.close) this.closed = true;
    else if (this.opcode < 8 && this.fin) {
      this.messages++;
      if (this.onMessage !== null) this.onMessage();
    }
  }
}

module.exports = { KEY, ACCEPT, MASK, EMPTY, OPCODE, upgradeRequest, maskedFrame, closeFrame, repeat, payloadOf, jsonText, deflateMessage, FrameCounter };
