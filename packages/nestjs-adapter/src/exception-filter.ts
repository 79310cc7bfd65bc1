/**
 * WsuiteExceptionFilter: Nest's `BaseWsExceptionFilter`, except that an `HttpException` (what
 * `ValidationPipe`, `ParseIntPipe` and friends throw) reaches the client with its status and
 * message instead of "Internal server error", and a 4xx one is not logged as a server error.
 */
import { HttpException, Logger } from '@nestjs/common';
import { BaseWsExceptionFilter } from '@nestjs/websockets';
import { EXCEPTION_EVENT } from './messages';

/** `data` of the `exception` frame sent for an `HttpException`. */
export interface HttpExceptionPayload {
  status: 'error';
  /** The HttpException's status, e.g. 400 for a ValidationPipe failure. */
  statusCode: number;
  /** The exception's message; for ValidationPipe, the list of constraint messages. */
  message: unknown;
  /** `{ pattern, data }` of the message that failed (Nest's `includeCause`/`causeFactory` options). */
  cause?: Record<string, unknown>;
}

/** What the filter is told about the message that failed. */
interface FailedMessage {
  pattern: string;
  data: unknown;
}

const logger = new Logger('WsuiteExceptionFilter');

/**
 * Apply with `@UseFilters(new WsuiteExceptionFilter())` on a gateway class or handler (Nest does
 * not apply global filters to gateways). WsExceptions and unknown errors behave as in Nest.
 */
export class WsuiteExceptionFilter extends BaseWsExceptionFilter {
  // Nest's signature; `Function` is how Nest types the client.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  override handleUnknownError<TClient extends { emit: Function }>(exception: unknown, client: TClient, cause: FailedMessage | undefined): void {
    if (!(exception instanceof HttpException)) return super.handleUnknownError(exception, client, cause);
    const body = exception.getResponse();
    const payload: HttpExceptionPayload = {
      status: 'error',
      statusCode: exception.getStatus(),
      message: typeof body === 'object' && body !== null && 'message' in body ? body.message : exception.message,
    };
    if (this.options.includeCause && cause && this.options.causeFactory) payload.cause = this.options.causeFactory(cause.pattern, cause.data);
    client.emit(EXCEPTION_EVENT, payload);
    if (payload.statusCode >= 500) logger.error(exception);
  }
}
