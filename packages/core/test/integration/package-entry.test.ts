/**
 * The built package loads the way users load it: `require` and `import` by name, the repo-root
 * path, and WebSocket-Node's deep-require paths. Runs against dist/ (npm test builds first).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..', '..');

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
}

describe('built @wsuite/core', () => {
  it('loads with require by name and from ./packages/core, with the WebSocket-Node keys first', () => {
    const byName = JSON.parse(node(['-e', "console.log(JSON.stringify(Object.keys(require('@wsuite/core'))))"])) as string[];
    const byPath = JSON.parse(node(['-e', "console.log(JSON.stringify(Object.keys(require('./packages/core'))))"])) as string[];
    expect(byPath).toEqual(byName);
    for (const key of ['server', 'router', 'frame', 'request', 'connection', 'deprecation', 'version']) expect(byName).toContain(key);
    expect(byName.indexOf('server')).toBe(0);
    expect(byName.indexOf('version')).toBeLessThan(byName.indexOf('WebSocketServer'));
  });

  it('loads with import, with named exports', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "import core, { server, WebSocketServer, version } from '@wsuite/core'; console.log(typeof server, server === WebSocketServer, typeof version, core.server === server)",
    ]);
    expect(out).toBe('function true string true');
  });

  it('resolves the deep-require paths of WebSocket-Node', () => {
    const out = node([
      '-e',
      [
        "const c = require('@wsuite/core');",
        "const same = (p, v) => require('@wsuite/core/' + p) === v;",
        'console.log([',
        "same('lib/WebSocketServer', c.server), same('lib/WebSocketRequest', c.request), same('lib/WebSocketConnection', c.connection),",
        "same('lib/WebSocketFrame', c.frame), same('lib/WebSocketRouter', c.router), same('lib/Deprecation', c.deprecation),",
        "same('lib/version', c.version), typeof require('@wsuite/core/lib/WebSocketRouterRequest'), typeof require('@wsuite/core/lib/utils').noop,",
        "typeof require('@wsuite/core/vendor/FastBufferList'), require('@wsuite/core/lib/websocket').server === c.server",
        "].join(' '));",
      ].join(' '),
    ]);
    expect(out).toBe('true true true true true true true function function function true');
  });

  it('has no runtime dependencies', () => {
    const pkg = JSON.parse(node(['-e', "console.log(JSON.stringify(require('./packages/core/package.json')))"])) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.types).toBe('dist/index.d.ts');
  });
});
