/**
 * Connection-time auth: run the `canUpgrade` hooks on an upgrade request and turn their answer
 * (or their throw) into an HTTP refusal.
 */
import type { IncomingMessage } from 'node:http';
import { HttpException } from '@nestjs/common';
import type { CanUpgrade, UpgradeTarget } from './options';

/** Why an upgrade is refused. */
export interface UpgradeRefusal {
  /** The HTTP status to answer with. */
  readonly status: number;
  /** Sent as `X-WebSocket-Reject-Reason`. */
  readonly reason?: string;
  /** A server-side failure (a hook threw something other than an HttpException, or returned nonsense): to be logged. */
  readonly error?: unknown;
}

const isErrorStatus = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 400 && (value as number) <= 599;

/** Run `hooks` in order; resolves with the first refusal, or undefined when every hook lets the request through. */
export async function decideUpgrade(hooks: readonly CanUpgrade[], request: IncomingMessage, target: UpgradeTarget): Promise<UpgradeRefusal | undefined> {
  for (const hook of hooks) {
    let decision: unknown;
    try {
      decision = await hook(request, target);
    } catch (error) {
      if (error instanceof HttpException && isErrorStatus(error.getStatus())) return { status: error.getStatus(), reason: error.message };
      return { status: 500, error };
    }
    if (decision === true) continue;
    if (decision === false) return { status: 401 };
    if (isErrorStatus(decision)) return { status: decision };
    return { status: 500, error: new TypeError(`canUpgrade must return a boolean or an HTTP error status (400-599), got ${String(decision)}.`) };
  }
  return undefined;
}
