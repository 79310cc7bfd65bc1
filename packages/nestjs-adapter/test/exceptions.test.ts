/**
 * Guards, pipes, interceptors and exception filters on gateway handlers. WsException, plain
 * errors, guard denials and pipe failures reach the client as `{ event: 'exception', data }`
 * frames, the connection stays open, and the connection's own EventEmitter still works.
 */
import type { EventEmitter } from 'node:events';
import {
  Catch,
  ParseIntPipe,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import {
  BaseWsExceptionFilter,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import { IsInt, IsString, Min } from 'class-validator';
import { map, throwError, type Observable } from 'rxjs';
import type { WebSocketConnection } from '@wsuite/core';
import { WsuiteExceptionFilter } from '@wsuite/nestjs-adapter';
import { PLATFORMS, startApp, type RunningApp } from './helpers/app';
import { Peer } from './helpers/peer';

class CreateItemDto {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

class DenyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getData() === 'let me';
  }
}

class DoubleInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler<number>): Observable<{ event: string; data: number }> {
    return next.handle().pipe(map((value) => ({ event: 'doubled', data: value * 2 })));
  }
}

@Catch(RangeError)
class RangeFilter extends BaseWsExceptionFilter {
  override catch(error: RangeError, host: ArgumentsHost): void {
    host.switchToWs().getClient<WebSocketConnection>().sendUTF(JSON.stringify({ event: 'range', data: error.message }));
  }
}

const localExceptions: unknown[] = [];

@WebSocketGateway({ path: '/plain' })
class PlainGateway implements OnGatewayConnection {
  handleConnection(client: WebSocketConnection): void {
    // The adapter's delivery must not take the event away from local listeners.
    (client as unknown as EventEmitter).on('exception', (payload: unknown) => localExceptions.push(payload));
  }

  @SubscribeMessage('throw-ws')
  throwWs(): never {
    throw new WsException('bad thing');
  }

  @SubscribeMessage('throw-ws-object')
  throwWsObject(): never {
    throw new WsException({ code: 'E42', detail: 'custom shape' });
  }

  @SubscribeMessage('throw-error')
  throwError(): never {
    throw new Error('secret internals');
  }

  @SubscribeMessage('observable-error')
  observableError(): Observable<never> {
    return throwError(() => new WsException('late failure'));
  }

  @UseGuards(DenyGuard)
  @SubscribeMessage('guarded')
  guarded(@MessageBody() data: string): string {
    return `in:${data}`;
  }

  @SubscribeMessage('parse-int')
  parseInt(@MessageBody(ParseIntPipe) value: number): number {
    return value + 1;
  }

  @UsePipes(new ValidationPipe())
  @SubscribeMessage('create')
  create(@MessageBody() item: CreateItemDto): string {
    return `created ${item.quantity} ${item.name}`;
  }

  @UsePipes(new ValidationPipe({ exceptionFactory: (errors) => new WsException(errors.map((e) => Object.values(e.constraints ?? {})).flat().join('; ')) }))
  @SubscribeMessage('create-ws')
  createWs(@MessageBody() item: CreateItemDto): string {
    return `created ${item.quantity} ${item.name}`;
  }

  @UseInterceptors(DoubleInterceptor)
  @SubscribeMessage('double')
  double(@MessageBody() value: number): number {
    return value;
  }

  @UseFilters(RangeFilter)
  @SubscribeMessage('range')
  range(): never {
    throw new RangeError('out of range');
  }

  @SubscribeMessage('probe')
  probe(@ConnectedSocket() client: WebSocketConnection): { event: string; data: string } {
    return { event: 'probe', data: client.state };
  }
}

@UseFilters(new WsuiteExceptionFilter())
@WebSocketGateway({ path: '/filtered' })
class FilteredGateway {
  @UsePipes(new ValidationPipe())
  @SubscribeMessage('create')
  create(@MessageBody() item: CreateItemDto): string {
    return `created ${item.quantity} ${item.name}`;
  }

  @SubscribeMessage('parse-int')
  parseInt(@MessageBody(ParseIntPipe) value: number): number {
    return value + 1;
  }

  @SubscribeMessage('throw-ws')
  throwWs(): never {
    throw new WsException('bad thing');
  }

  @SubscribeMessage('throw-error')
  throwError(): never {
    throw new Error('secret internals');
  }
}

describe.each(PLATFORMS)('exceptions on %s', (platform) => {
  let running: RunningApp;
  const peers: Peer[] = [];
  const open = async (path = '/plain'): Promise<Peer> => {
    const peer = await Peer.open(running.url(path));
    peers.push(peer);
    return peer;
  };
  /** The connection is still open and served: a probe gets its answer. */
  const expectStillServed = async (peer: Peer): Promise<void> => {
    peer.emit('probe');
    expect(await peer.json()).toEqual({ event: 'probe', data: 'open' });
  };
  const errorLogs = (): number => running.logger.entries.filter((entry) => entry.level === 'error').length;

  beforeAll(async () => {
    running = await startApp(platform, [PlainGateway, FilteredGateway]);
  });
  afterEach(() => peers.splice(0).forEach((peer) => peer.terminate()));
  afterAll(() => running.close());

  it('delivers a WsException as an exception event with status, message and cause', async () => {
    const peer = await open();
    peer.emit('throw-ws', { n: 1 });
    expect(await peer.json()).toEqual({
      event: 'exception',
      data: { status: 'error', message: 'bad thing', cause: { pattern: 'throw-ws', data: { n: 1 } } },
    });
    await expectStillServed(peer);
  });

  it('delivers a WsException with an object as that object', async () => {
    const peer = await open();
    peer.emit('throw-ws-object');
    expect(await peer.json()).toEqual({ event: 'exception', data: { code: 'E42', detail: 'custom shape' } });
  });

  it('delivers a plain Error as "Internal server error", without its message', async () => {
    const peer = await open();
    peer.emit('throw-error');
    expect(await peer.json()).toEqual({
      event: 'exception',
      data: { status: 'error', message: 'Internal server error', cause: { pattern: 'throw-error' } },
    });
    await expectStillServed(peer);
  });

  it('delivers an error from a returned Observable', async () => {
    const peer = await open();
    peer.emit('observable-error');
    expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error', message: 'late failure' } });
    await expectStillServed(peer);
  });

  it('delivers a guard denial as "Forbidden resource" and lets allowed messages through', async () => {
    const peer = await open();
    peer.emit('guarded', 'no');
    expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error', message: 'Forbidden resource' } });
    peer.emit('guarded', 'let me');
    expect(await peer.json()).toBe('in:let me');
  });

  it('delivers a ValidationPipe failure (class-validator DTO) and keeps the connection open', async () => {
    const peer = await open();
    peer.emit('create', { name: 'apple', quantity: 2 });
    expect(await peer.json()).toBe('created 2 apple');
    peer.emit('create', { name: 7, quantity: 0 });
    // Nest's default filter hides HttpExceptions behind a generic message...
    expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error', message: 'Internal server error' } });
    peer.emit('create-ws', { name: 7, quantity: 0 });
    // ...an exceptionFactory that throws WsException carries the validation messages.
    expect(await peer.json()).toMatchObject({
      event: 'exception',
      data: { status: 'error', message: 'name must be a string; quantity must not be less than 1' },
    });
    await expectStillServed(peer);
  });

  it('delivers a ParseIntPipe failure', async () => {
    const peer = await open();
    peer.emit('parse-int', 'abc');
    expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error' } });
    peer.emit('parse-int', '41');
    expect(await peer.json()).toBe(42);
  });

  it('applies interceptors and exception filters to handlers', async () => {
    const peer = await open();
    peer.emit('double', 21);
    expect(await peer.json()).toEqual({ event: 'doubled', data: 42 });
    peer.emit('range');
    expect(await peer.json()).toEqual({ event: 'range', data: 'out of range' });
  });

  it('keeps emit("exception") an ordinary local event too', async () => {
    const peer = await open();
    const before = localExceptions.length;
    peer.emit('throw-ws', 'x');
    await peer.json();
    expect(localExceptions.slice(before)).toEqual([{ status: 'error', message: 'bad thing', cause: { pattern: 'throw-ws', data: 'x' } }]);
  });

  describe('with WsuiteExceptionFilter', () => {
    it('delivers a ValidationPipe failure with its status and the constraint messages, without logging it', async () => {
      const peer = await open('/filtered');
      const errorsBefore = errorLogs();
      peer.emit('create', { name: 7, quantity: 0 });
      expect(await peer.json()).toEqual({
        event: 'exception',
        data: {
          status: 'error',
          statusCode: 400,
          message: ['name must be a string', 'quantity must not be less than 1'],
          cause: { pattern: 'create', data: { name: 7, quantity: 0 } },
        },
      });
      peer.emit('parse-int', 'abc');
      expect(await peer.json()).toMatchObject({
        event: 'exception',
        data: { status: 'error', statusCode: 400, message: 'Validation failed (numeric string is expected)' },
      });
      expect(errorLogs()).toBe(errorsBefore);
    });

    it('still treats WsException and unknown errors as Nest does (unknown errors are logged)', async () => {
      const peer = await open('/filtered');
      const errorsBefore = errorLogs();
      peer.emit('throw-ws');
      expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error', message: 'bad thing' } });
      peer.emit('throw-error');
      expect(await peer.json()).toMatchObject({ event: 'exception', data: { status: 'error', message: 'Internal server error' } });
      expect(errorLogs()).toBe(errorsBefore + 1);
    });
  });
});
