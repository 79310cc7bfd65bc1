/**
 * The shared adapter contract, on a Nest app (Express and Fastify) whose gateways echo raw
 * frames: `/echo`, and `/guarded` behind the adapter's connection-time auth (401 without the
 * token). No `/params/:id` (gateway paths are exact) and no `/throws` (a throwing message handler
 * gets an `exception` frame and the connection stays open, see exceptions.test.ts). A listener
 * that `handleConnection` attaches and that throws closes with 1011, as in every adapter.
 */
import { MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { WebSocketConnection } from '@wsuite/core';
import { runContractSuite, CONTRACT_LIMITS, CONTRACT_TOKEN, CONTRACT_USER } from '@wsuite/test-kit';
import type { MessageParser, MessageSerializer, WsuiteGatewayOptions } from '@wsuite/nestjs-adapter';
import { PLATFORMS, startApp } from './helpers/app';

// The contract sends raw text and binary, not {event, data}: every frame is the `echo` event,
// and strings and Buffers go back as they are.
const rawParser: MessageParser = (data) => ({ event: 'echo', data });
const rawSerializer: MessageSerializer = (reply) => (typeof reply === 'string' || Buffer.isBuffer(reply) ? reply : JSON.stringify(reply));

@WebSocketGateway<WsuiteGatewayOptions>({ path: '/echo', messageParser: rawParser, messageSerializer: rawSerializer })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: string | Buffer): string | Buffer {
    return data;
  }
}

@WebSocketGateway<WsuiteGatewayOptions>({
  path: '/guarded',
  messageParser: rawParser,
  messageSerializer: rawSerializer,
  canUpgrade: (request) => request.headers['x-token'] === CONTRACT_TOKEN && { headers: { 'x-contract-user': CONTRACT_USER } },
})
class GuardedGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: string | Buffer): string | Buffer {
    return data;
  }
}

@WebSocketGateway<WsuiteGatewayOptions>({ path: '/listener-throws', messageParser: rawParser, messageSerializer: rawSerializer })
class ListenerThrowsGateway implements OnGatewayConnection {
  handleConnection(client: WebSocketConnection): void {
    client.on('message', () => {
      throw new Error('listener failed');
    });
  }
}

for (const platform of PLATFORMS) {
  runContractSuite(
    `nestjs-adapter on ${platform}`,
    async () => {
      const running = await startApp(platform, [EchoGateway, GuardedGateway, ListenerThrowsGateway], {
        adapter: { maxReceivedFrameSize: CONTRACT_LIMITS, maxReceivedMessageSize: CONTRACT_LIMITS },
      });
      return { port: running.port, shutdown: () => running.close() };
    },
    { plainHttpStatus: 404, upgradeHeaders: true, listenerThrows: true },
  );
}
