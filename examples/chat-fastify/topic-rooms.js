// The chat's rooms on core's topics: each room is the topic `room:<name>`, a connection that
// joins subscribes to it, and a message is published to it (framed once for everyone in the
// room; with a Redis pub/sub driver on the server, also to the room on every other process).
// Membership and presence (the member list, "joined"/"left" notices) stay with chat-common's
// ChatRooms, per process.
'use strict';
const { ChatError, ChatRooms, serverEvent } = require('@wsuite/example-chat-common');

/** The topic of a room. */
function roomTopic(room) {
  return `room:${room}`;
}

/** ChatRooms whose messages travel through `server.publish` (peers are core connections). */
class TopicRooms extends ChatRooms {
  /** @param {import('@wsuite/core').WebSocketServer} server the server that publishes */
  constructor(server) {
    super();
    this.server = server;
    this.nickOf = new WeakMap();
  }

  /** Join as ChatRooms does (leaving the previous room), then subscribe to the room's topic. */
  join(peer, data) {
    super.join(peer, data);
    this.nickOf.set(peer, data.nick);
    peer.subscribe(roomTopic(data.room));
  }

  /** Leave as ChatRooms does, and the room's topic (a closed connection has left it already). */
  leave(peer) {
    const room = this.roomOf(peer);
    super.leave(peer);
    if (room) peer.unsubscribe(roomTopic(room));
  }

  /** A message to everyone in the peer's room, itself included, on every process. */
  say(peer, { text }) {
    const room = this.roomOf(peer);
    if (!room) throw new ChatError('Join a room before sending messages.');
    this.server.publish(roomTopic(room), serverEvent('message', { room, nick: this.nickOf.get(peer), text, at: new Date().toISOString() }));
  }
}

module.exports = { TopicRooms, roomTopic };
