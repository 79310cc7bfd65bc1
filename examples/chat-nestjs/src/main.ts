/**
 * The multi-room chat as a NestJS app: a gateway on @wsuite/nestjs-adapter, the page served
 * with Express static assets. Open http://localhost:3002/ (PORT changes the port).
 */
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { LogLevel } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { PUBLIC_DIR } from '@wsuite/example-chat-common';
import { AppModule } from './app.module';
import { CompressingWsuiteAdapter } from './compressing-adapter';

export interface BootstrapOptions {
  /** 0 for any free port. @default 3002 */
  port?: number;
  /** @default every interface, as Nest does */
  host?: string;
  /** permessage-deflate on the gateways. @default true */
  perMessageDeflate?: boolean;
  /** Nest's logger levels, or false for none. */
  logger?: LogLevel[] | false;
}

export async function bootstrap({ port = 3002, host, perMessageDeflate = true, logger = ['log', 'warn', 'error'] }: BootstrapOptions = {}) {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger, abortOnError: false });
  app.useStaticAssets(PUBLIC_DIR);
  app.useWebSocketAdapter(new CompressingWsuiteAdapter(app, perMessageDeflate, { maxReceivedMessageSize: 16 * 1024 })); // before listen()
  await (host === undefined ? app.listen(port) : app.listen(port, host));
  const { port: actualPort } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://${host ?? 'localhost'}:${actualPort}/` };
}

if (require.main === module) {
  bootstrap({ port: Number(process.env.PORT ?? 3002), host: process.env.HOST }).then(
    ({ app, url }) => {
      console.log(`wsuite chat (NestJS) on ${url}: open it in two browser windows. Ctrl-C stops it.`);
      const stop = (): void => void app.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
