/**
 * The client's address as the Nest application's HTTP platform trusts it: Express's
 * `trust proxy` setting or Fastify's `trustProxy` option, read through the platform's own
 * request getters so both keep their exact semantics (hop counts, subnets, functions).
 */
import type { IncomingMessage } from 'node:http';

/** Resolves an upgrade request's address chain (client first, socket peer last), or undefined for core's own handling. */
export type AddressResolver = (request: IncomingMessage) => string[] | undefined;

interface HttpAdapterLike {
  getType?(): string;
  getInstance?(): unknown;
}

/**
 * The resolver for `app`'s platform: Express and Fastify are known; anything else (or a bare
 * HTTP server) returns undefined, which leaves core's `ignoreXForwardedFor` handling in charge.
 */
export function platformAddressResolver(app: unknown): AddressResolver | undefined {
  const getHttpAdapter = (app as { getHttpAdapter?: () => HttpAdapterLike | undefined } | null)?.getHttpAdapter;
  if (typeof getHttpAdapter !== 'function') return undefined;
  const adapter = getHttpAdapter.call(app);
  const type = adapter?.getType?.();
  const instance = adapter?.getInstance?.();
  if (type === 'express') return expressResolver(instance);
  if (type === 'fastify') return fastifyResolver(instance);
  return undefined;
}

/** Express: `app.request` is the prototype of every `req`; its `ip`/`ips` getters apply `trust proxy`. */
function expressResolver(app: unknown): AddressResolver | undefined {
  const prototype = (app as { request?: object } | null)?.request;
  if (!prototype) return undefined;
  return (request) => {
    const view = Object.create(prototype, {
      headers: { value: request.headers },
      socket: { value: request.socket },
      connection: { value: request.socket },
    }) as { ip?: string; ips?: string[] };
    const ips = view.ips ?? [];
    return checked(ips.length > 0 ? [...ips, request.socket.remoteAddress] : [view.ip]);
  };
}

/**
 * Fastify: its request class (built for the instance's `trustProxy`) defines `ip`, and `ips`
 * when a proxy is trusted; both read `raw`. Fastify keeps the class under a private symbol, so
 * it is looked up by the symbol's description; without it, only the socket's peer is used.
 */
function fastifyResolver(instance: unknown): AddressResolver | undefined {
  if (!instance || typeof instance !== 'object') return undefined;
  const key = Object.getOwnPropertySymbols(instance).find((symbol) => symbol.description === 'fastify.Request');
  const RequestClass = key === undefined ? undefined : (instance as Record<symbol, { prototype?: object } | undefined>)[key];
  const prototype = RequestClass?.prototype;
  if (!prototype) return (request) => checked([request.socket.remoteAddress]);
  return (request) => {
    const view = Object.create(prototype, { raw: { value: request }, headers: { value: request.headers } }) as { ip?: string; ips?: string[] };
    const ips = view.ips;
    return checked(ips && ips.length > 0 ? [...ips].reverse() : [view.ip]);
  };
}

function checked(chain: Array<string | undefined>): string[] | undefined {
  return chain.every((address) => typeof address === 'string') ? (chain as string[]) : undefined;
}
