/**
 * The route guard: fixes @fastify/websocket's most common pitfall, a `{ websocket: true }`
 * route declared before the plugin finished loading (an un-awaited `register`), which there
 * silently serves HTTP. Every Fastify instance created after this module is loaded gets, through
 * Fastify's documented `fastify.initialization` diagnostics channel, a root `onRoute` hook that
 * wraps WebSocket routes whenever they are declared, so such routes work once the plugin loads
 * in their scope; a WebSocket route with no plugin in its scope fails `ready()` with a clear error.
 */
import { channel, subscribe, type Channel } from 'node:diagnostics_channel';
import type { FastifyInstance } from 'fastify';
import { isWebSocketRoute, wrapWebSocketRoute } from './route';
import { pluginStateOf } from './upgrade';

interface DeclaredRoute {
  instance: FastifyInstance;
  route: string;
}

/** Wrap every WebSocket route declared on `fastify` (and below it), and check them at boot. */
export function installRouteGuard(fastify: FastifyInstance): void {
  const declared: DeclaredRoute[] = [];
  fastify.addHook('onRoute', function guardWebSocketRoute(route) {
    if (isWebSocketRoute(route) && wrapWebSocketRoute(route)) declared.push({ instance: this, route: `${String(route.method)} ${route.url}` });
  });
  fastify.addHook('onReady', function checkWebSocketRoutes(done) {
    const orphans = [...new Set(declared.filter((d) => pluginStateOf(d.instance) === undefined).map((d) => d.route))];
    if (orphans.length === 0) {
      done();
      return;
    }
    done(
      new Error(
        `WebSocket route(s) ${orphans.join(', ')} were declared where @wsuite/fastify-plugin is not registered. ` +
          'Register the plugin on the same instance or an ancestor (fastify.register(fastifyWebSocket)) before ready().',
      ),
    );
  });
}

// One subscription per process; the guard it installs is the one of the copy of this module
// loaded last (Jest, for one, loads the module again, in a new global scope, for every test
// file). The channel object is the one thing every copy shares, so the hand-off lives on it.
const kGuard = Symbol.for('@wsuite/fastify-plugin.route-guard');
const initialization = channel('fastify.initialization') as Channel & { [kGuard]?: (fastify: FastifyInstance) => void };
if (initialization[kGuard] === undefined) {
  subscribe('fastify.initialization', (message) => initialization[kGuard]?.((message as { fastify: FastifyInstance }).fastify));
}
initialization[kGuard] = installRouteGuard;
