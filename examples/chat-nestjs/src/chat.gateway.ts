/**
 * The chat gateway on `/chat`: `join` and `say` events, presence on connect and disconnect.
 * Bad payloads fail the ValidationPipe; WsuiteExceptionFilter sends them back as an
 * `exception` event (status 400 and the constraint messages) and the connection stays open.
 */
import { UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WsException, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { WebSocketConnection } from '@wsuite/core';
import { WsuiteExceptionFilter, type WsuiteGatewayOptions } from '@wsuite/nestjs-adapter';
import { ChatRooms, serverEvent, welcomeData } from '@wsuite/example-chat-common';
import { JoinDto, SayDto } from './chat.dto';

@UseFilters(new WsuiteExceptionFilter())
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
@WebSocketGateway<WsuiteGatewayOptions>({ path: '/chat', maxReceivedMessageSize: 16 * 1024 })
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(private readonly rooms: ChatRooms) {}

  handleConnection(client: WebSocketConnection): void {
    client.send(serverEvent('welcome', welcomeData('nestjs', client.extensions)));
  }

  handleDisconnect(client: WebSocketConnection): void {
    this.rooms.leave(client);
  }

  @SubscribeMessage('join')
  join(@ConnectedSocket() client: WebSocketConnection, @MessageBody() body: JoinDto): void {
    this.rooms.join(client, body);
  }

  @SubscribeMessage('say')
  say(@ConnectedSocket() client: WebSocketConnection, @MessageBody() body: SayDto): void {
    if (this.rooms.roomOf(client) === undefined) throw new WsException('Join a room before sending messages.');
    this.rooms.say(client, body);
  }
}
