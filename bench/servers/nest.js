'use strict';
/**
 * Echo gateway on NestJS 11 (Express platform): `BENCH_ADAPTER=wsuite` uses
 * @wsuite/nestjs-adapter (the workspace build), `BENCH_ADAPTER=ws` uses @nestjs/platform-ws.
 * Every frame is the `echo` event. Both adapters' default serializers send the handler's return
 * value as JSON text, so the handler returns the text without its first and last characters:
 * with its quotes, the reply is as long as the request (the load generator checks the bytes).
 */
require('reflect-metadata');
const { run, MAX_MESSAGE } = require('./common');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } = require('@nestjs/websockets');

const adapter = process.env.BENCH_ADAPTER;
const asEcho = (data) => ({ event: 'echo', data });

// Decorators applied by hand: this file is plain JavaScript.
class EchoGateway {
  echo(data) {
    return String(data).slice(1, -1);
  }
}
SubscribeMessage('echo')(EchoGateway.prototype, 'echo', Object.getOwnPropertyDescriptor(EchoGateway.prototype, 'echo'));
MessageBody()(EchoGateway.prototype, 'echo', 0);
WebSocketServer()(EchoGateway.prototype, 'server');
WebSocketGateway(
  adapter === 'wsuite'
    ? { path: '/', messageParser: asEcho, keepalive: false, maxReceivedFrameSize: MAX_MESSAGE, maxReceivedMessageSize: MAX_MESSAGE }
    : { path: '/' },
)(EchoGateway);
class AppModule {}
Module({ providers: [EchoGateway] })(AppModule);

run(
  `nest+${adapter}`,
  async () => {
    const app = await NestFactory.create(AppModule, { logger: false });
    if (adapter === 'wsuite') {
      const { WsuiteAdapter } = require('@wsuite/nestjs-adapter');
      app.useWebSocketAdapter(new WsuiteAdapter(app));
    } else {
      const { WsAdapter } = require('@nestjs/platform-ws');
      app.useWebSocketAdapter(new WsAdapter(app, { messageParser: (data) => asEcho(data) }));
    }
    await app.init();
    const gateway = app.get(EchoGateway);
    const clients = () => (adapter === 'wsuite' ? gateway.server.connections : [...gateway.server.clients]);
    const name = adapter === 'wsuite' ? '@wsuite/nestjs-adapter' : '@nestjs/platform-ws';
    return {
      server: app.getHttpServer(),
      broadcast: (payload) => {
        for (const client of clients()) client.send(payload);
      },
      connections: () => clients().length,
      info: () => ({ package: `${name} ${require(`${name}/package.json`).version} on @nestjs/core ${require('@nestjs/core/package.json').version}` }),
    };
  },
  { raw: true },
);
