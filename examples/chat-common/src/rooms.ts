/**
 * Rooms: who is where, presence updates, and messages to everyone in a room. Framework-free:
 * a peer is anything with `send(text)` (core's `WebSocketConnection` is one).
 */
import { ChatError, parseClientMessage, serverEvent, type JoinData, type SayData } from './protocol';

/** What the rooms need from a connection. */
export interface ChatPeer {
  send(text: string): unknown;
}

interface Member {
  room: string;
  nick: string;
}

export class ChatRooms<Peer extends ChatPeer = ChatPeer> {
  private readonly members = new Map<Peer, Member>();
  private readonly rooms = new Map<string, Set<Peer>>();

  /** Put `peer` in a room under a nickname (leaving its previous room); tells it and the room. */
  join(peer: Peer, { room, nick }: JoinData): void {
    this.leave(peer);
    this.members.set(peer, { room, nick });
    let peers = this.rooms.get(room);
    if (!peers) this.rooms.set(room, (peers = new Set()));
    peers.add(peer);
    const members = this.nicks(room);
    peer.send(serverEvent('joined', { room, nick, members }));
    this.sendToRoom(room, serverEvent('presence', { room, members, joined: nick }), peer);
  }

  /** Take `peer` out of its room, if it is in one; the others in the room are told. */
  leave(peer: Peer): void {
    const member = this.members.get(peer);
    if (!member) return;
    this.members.delete(peer);
    const peers = this.rooms.get(member.room);
    peers?.delete(peer);
    if (!peers?.size) {
      this.rooms.delete(member.room);
      return;
    }
    this.sendToRoom(member.room, serverEvent('presence', { room: member.room, members: this.nicks(member.room), left: member.nick }));
  }

  /** Send a message from `peer` to everyone in its room, itself included. */
  say(peer: Peer, { text }: SayData): void {
    const member = this.members.get(peer);
    if (!member) throw new ChatError('Join a room before sending messages.');
    this.sendToRoom(member.room, serverEvent('message', { room: member.room, nick: member.nick, text, at: new Date().toISOString() }));
  }

  /**
   * Handle one frame from `peer`: parse, check, dispatch. A bad message is answered with an
   * `error` event; the connection stays open. Binary frames are refused the same way.
   */
  receive(peer: Peer, frame: string | Uint8Array): void {
    try {
      if (typeof frame !== 'string') throw new ChatError('Binary messages are not supported: send JSON text.');
      const message = parseClientMessage(frame);
      if (message.event === 'join') this.join(peer, message.data);
      else this.say(peer, message.data);
    } catch (error) {
      if (!(error instanceof ChatError)) throw error;
      peer.send(serverEvent('error', { message: error.message }));
    }
  }

  /** The room `peer` is in, if any. */
  roomOf(peer: Peer): string | undefined {
    return this.members.get(peer)?.room;
  }

  /** The nicknames in a room, sorted. */
  nicks(room: string): string[] {
    return [...(this.rooms.get(room) ?? [])].map((peer) => this.members.get(peer)!.nick).sort((a, b) => a.localeCompare(b));
  }

  private sendToRoom(room: string, frame: string, except?: Peer): void {
    for (const peer of this.rooms.get(room) ?? []) if (peer !== except) peer.send(frame);
  }
}
