/**
 * Shared by the three chat examples: the protocol (checks and limits), the rooms, and the
 * browser page in `public/` (`PUBLIC_DIR`), which each example serves its own framework's way.
 */
import { join } from 'node:path';
import { LIMITS, SUGGESTED_ROOMS } from './protocol';

export { ChatError, LIMITS, NICK_PATTERN, ROOM_PATTERN, SUGGESTED_ROOMS, checkJoin, checkSay, parseClientMessage, serverEvent } from './protocol';
export type { ClientMessage, JoinData, SayData } from './protocol';
export { ChatRooms } from './rooms';
export type { ChatPeer } from './rooms';

/** The browser page: index.html, chat.js, chat.css. */
export const PUBLIC_DIR = join(__dirname, '..', 'public');

/** The `welcome` event's data, sent on connect: which server this is and what it negotiated. */
export interface WelcomeData {
  server: string;
  rooms: string[];
  limits: typeof LIMITS;
  /** Names of the WebSocket extensions the server agreed to (e.g. `permessage-deflate`). */
  extensions: string[];
}

/**
 * Build the `welcome` data from the server's name and the connection's negotiated extensions
 * (core's `connection.extensions`: `{ name, params }` entries).
 */
export function welcomeData(server: string, extensions: readonly unknown[]): WelcomeData {
  const names = extensions.map((extension) => String((extension as { name?: unknown }).name));
  return { server, rooms: [...SUGGESTED_ROOMS], limits: LIMITS, extensions: names };
}
