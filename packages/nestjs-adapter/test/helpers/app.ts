/**
 * Boots a Nest test application (Express or Fastify) with the adapter, listening on 127.0.0.1
 * port 0, with a logger that records what was logged.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication, LoggerService, Provider } from '@nestjs/common';
import { WsuiteAdapter, type WsuiteAdapterOptions } from '@wsuite/nestjs-adapter';

/** The HTTP platforms the adapter is tested on. */
export type Platform = 'express' | 'fastify';
/** Both platforms, for `describe.each`. */
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** One log call. */
export interface LogEntry {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: unknown;
  context: unknown;
}

/** A LoggerService that keeps every call. */
export class RecordingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];
  log(message: unknown, ...rest: unknown[]): void { this.record('log', message, rest); }
  error(message: unknown, ...rest: unknown[]): void { this.record('error', message, rest); }
  warn(message: unknown, ...rest: unknown[]): void { this.record('warn', message, rest); }
  debug(message: unknown, ...rest: unknown[]): void { this.record('debug', message, rest); }
  verbose(message: unknown, ...rest: unknown[]): void { this.record('verbose', message, rest); }
  fatal(message: unknown, ...rest: unknown[]): void { this.record('fatal', message, rest); }

  /** Entries logged by the given context (e.g. 'WsuiteAdapter'). */
  from(context: string): LogEntry[] {
    return this.entries.filter((entry) => entry.context === context);
  }

  private record(level: LogEntry['level'], message: unknown, rest: unknown[]): void {
    this.entries.push({ level, message, context: rest[rest.length - 1] });
  }
}

/** A started application. */
export interface RunningApp {
  app: INestApplication;
  adapter: WsuiteAdapter;
  port: number;
  logger: RecordingLogger;
  /** `ws://127.0.0.1:<port><path>` */
  url(path: string): string;
  close(): Promise<void>;
}

/** Options of {@link startApp}. */
export interface StartOptions {
  adapter?: WsuiteAdapterOptions;
  /** Called before `listen` (global pipes, extra upgrade listeners, ...). */
  configure?: (app: INestApplication) => void;
}

/** Build, wire and start an application whose module has `providers` (the gateways). */
export async function startApp(platform: Platform, providers: Provider[], options: StartOptions = {}): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule({ providers }).compile();
  const logger = new RecordingLogger();
  const app = platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), { logger }) : moduleRef.createNestApplication({ logger });
  const adapter = new WsuiteAdapter(app, options.adapter);
  app.useWebSocketAdapter(adapter);
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  let closed = false;
  return {
    app,
    adapter,
    port,
    logger,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
