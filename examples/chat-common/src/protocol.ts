/**
 * The chat protocol: JSON text frames `{ "event": string, "data": ... }` in both directions
 * (the format NestJS gateways use, so the Nest example needs no custom parser).
 *
 * Client → server: `join { room, nick }`, `say { text }`.
 * Server → client: `welcome`, `joined`, `presence`, `message`, and `error { message }` for a
 * message the server refused (the connection stays open).
 */

/** Length limits, in UTF-16 code units (JavaScript's `string.length`, as class-validator counts). */
export const LIMITS = Object.freeze({ nick: 24, room: 32, text: 500 });

/** A room name: lower-case letters, digits, `-` and `_`, starting with a letter or digit. */
export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** A nickname may not contain control characters (newlines, NUL, ...). */
export const NICK_PATTERN = /^[^\p{Cc}]+$/u;

/** The rooms the page suggests; any name matching {@link ROOM_PATTERN} works. */
export const SUGGESTED_ROOMS: readonly string[] = Object.freeze(['lobby', 'random', 'help']);

/** A message the server refuses; its text is sent back to the client as an `error` event. */
export class ChatError extends Error {
  override name = 'ChatError';
}

export interface JoinData {
  room: string;
  nick: string;
}

export interface SayData {
  text: string;
}

/** A checked client message. */
export type ClientMessage = { event: 'join'; data: JoinData } | { event: 'say'; data: SayData };

/** Parse and check one text frame from a client. Throws a {@link ChatError} saying what is wrong. */
export function parseClientMessage(text: string): ClientMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ChatError('Invalid message: expected JSON {"event": string, "data": object}.');
  }
  if (!isRecord(parsed) || typeof parsed.event !== 'string') {
    throw new ChatError('Invalid message: expected JSON {"event": string, "data": object}.');
  }
  switch (parsed.event) {
    case 'join':
      return { event: 'join', data: checkJoin(parsed.data) };
    case 'say':
      return { event: 'say', data: checkSay(parsed.data) };
    default:
      throw new ChatError(`Unknown event ${JSON.stringify(parsed.event.slice(0, 32))}: expected "join" or "say".`);
  }
}

/** Check `join` data: a nickname (1-24 characters after trimming, no control characters) and a room name. */
export function checkJoin(data: unknown): JoinData {
  if (!isRecord(data)) throw new ChatError('join needs data {"room": string, "nick": string}.');
  const { room, nick } = data;
  if (typeof nick !== 'string') throw new ChatError('nick must be a string.');
  const trimmed = nick.trim();
  if (trimmed.length < 1 || trimmed.length > LIMITS.nick) throw new ChatError(`nick must be 1 to ${LIMITS.nick} characters long.`);
  if (!NICK_PATTERN.test(trimmed)) throw new ChatError('nick must not contain control characters.');
  if (typeof room !== 'string') throw new ChatError('room must be a string.');
  if (!ROOM_PATTERN.test(room)) throw new ChatError(`room must be 1 to ${LIMITS.room} lower-case letters, digits, "-" or "_".`);
  return { room, nick: trimmed };
}

/** Check `say` data: a text of 1-500 characters after trimming. */
export function checkSay(data: unknown): SayData {
  if (!isRecord(data) || typeof data.text !== 'string') throw new ChatError('say needs data {"text": string}.');
  const text = data.text.trim();
  if (text.length < 1 || text.length > LIMITS.text) throw new ChatError(`text must be 1 to ${LIMITS.text} characters long.`);
  return { text };
}

/** One server → client frame. */
export function serverEvent(event: string, data: unknown): string {
  return JSON.stringify({ event, data });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
