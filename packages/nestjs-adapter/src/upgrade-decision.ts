/**
 * Connection-time auth: run the `canUpgrade` hooks on an upgrade request and turn their answer
 * (or their throw) into an HTTP refusal.
 */
import type { IncomingMessage } from 'node:http';
import { HttpException } from '@nestjs/common';
import type { UpgradeHeaders } from '@wsuite/core';
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

/** The upgrade may go ahead, with these headers on the 101. */
export interface UpgradeAdmission {
  readonly headers: UpgradeHeaders;
}

const isErrorStatus = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 400 && (value as number) <= 599;

/**
 * Run `hooks` in order; resolves with the first refusal, or, when every hook lets the request
 * through, an admission with the headers the hooks asked for (a later hook's value for a name wins).
 */
export async function decideUpgrade(hooks: readonly CanUpgrade[], request: IncomingMessage, target: UpgradeTarget): Promise<UpgradeRefusal | UpgradeAdmission> {
  const headers: UpgradeHeaders = {};
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
    const extra = headersOf(decision);
    if (extra) {
      Object.assign(headers, extra);
      continue;
    }
    return { status: 500, error: new TypeError(`canUpgrade must return a boolean, { headers } or an HTTP error status (400-599), got ${describe(decision)}.`) };
  }
  return { headers };
}

/** The headers of a `{ headers }` decision whose values are all strings, numbers or string arrays. */
function headersOf(decision: unknown): UpgradeHeaders | undefined {
  if (typeof decision !== 'object' || decision === null) return undefined;
  const headers = (decision as { headers?: unknown }).headers;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined;
  const valid = Object.values(headers).every(
    (value) => typeof value === 'string' || typeof value === 'number' || (Array.isArray(value) && value.every((item) => typeof item === 'string')),
  );
  return valid ? (headers as UpgradeHeaders) : undefined;
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
