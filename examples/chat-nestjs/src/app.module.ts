import { Module } from '@nestjs/common';
import { ChatRooms } from '@wsuite/example-chat-common';
import { ChatGateway } from './chat.gateway';

@Module({ providers: [ChatRooms, ChatGateway] })
export class AppModule {}
