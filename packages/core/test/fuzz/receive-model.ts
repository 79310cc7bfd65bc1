/**
 * The receive side of a server connection without a socket: the pure parser, assembler and
 * close-frame parsing wired as `WebSocketConnection` wires them. The fuzzers compare it with
 * itself under other chunkings, with a stream's known contents, and with a live server.
 */
import { FrameParser } from '../../src/protocol/frame-parser';
import { MessageAssembler } from '../../src/protocol/message-assembler';
import { parseClosePayload } from '../../src/protocol/close-frame';
import { WebSocketProtocolError } from '../../src/protocol/errors';

/** Limits of the modelled connection. */
export interface ModelLimits {
  maxFrameSize: number;
  maxMessageSize: number;
}

/** One event of the receive side, in order. */
export type ReceiveEvent =
  | { kind: 'message'; isText: boolean; data: Buffer }
  | { kind: 'ping' | 'pong'; payload: Buffer };

/** What a connection makes of a byte stream. */
export interface ReceiveOutcome {
  events: ReceiveEvent[];
  /** The peer's close frame (code 1005 when empty), if one arrived before any violation. */
  close: { code: number; reason: string } | null;
  /** The first violation, if any. */
  error: { code: string; closeCode: number } | null;
}

/** Feed `chunks` (copied: the parser unmasks in place) one by one and report the outcome. */
export function receive(chunks: readonly Buffer[], limits: ModelLimits): ReceiveOutcome {
  const outcome: ReceiveOutcome = { events: [], close: null, error: null };
  let stopped = false;
  const fail = (error: WebSocketProtocolError): void => {
    if (stopped) return;
    stopped = true;
    parser.halt();
    outcome.error = { code: error.code, closeCode: error.closeCode };
  };
  const assembler = new MessageAssembler(
    { maxMessageSize: limits.maxMessageSize },
    {
      onMessage: (isText, data) => outcome.events.push({ kind: 'message', isText, data: Buffer.from(data) }),
      onError: fail,
    },
  );
  const parser: FrameParser = new FrameParser(
    { maxFrameSize: limits.maxFrameSize, expectMasked: true, checkFragmentation: true },
    {
      onFrame: (opcode, fin, _rsv1, payload) => {
        if (stopped) return;
        if (opcode === 0x8) {
          const info = parseClosePayload(payload);
          if (info instanceof WebSocketProtocolError) return fail(info);
          stopped = true;
          parser.halt();
          outcome.close = { code: info.code, reason: info.reason };
          return;
        }
        if (opcode === 0x9 || opcode === 0xa) {
          outcome.events.push({ kind: opcode === 0x9 ? 'ping' : 'pong', payload: Buffer.from(payload) });
          return;
        }
        assembler.push(opcode, fin, payload);
      },
      onError: fail,
      onPartialPayload: (opcode, rsv1, bytes) => {
        if (!stopped && !rsv1) assembler.pushPartial(opcode, bytes);
      },
    },
  );
  for (const chunk of chunks) {
    if (stopped) break;
    parser.push(Buffer.from(chunk));
  }
  return outcome;
}

/** The outcome as plain data, for deep comparison and readable failure output. */
export function describeOutcome(outcome: ReceiveOutcome): unknown {
  return {
    events: outcome.events.map((e) => (e.kind === 'message' ? { kind: e.kind, isText: e.isText, hex: e.data.toString('hex') } : { kind: e.kind, hex: e.payload.toString('hex') })),
    close: outcome.close,
    error: outcome.error,
  };
}
