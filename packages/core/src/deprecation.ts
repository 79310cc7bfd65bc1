/**
 * WebSocket-Node's deprecation notice registry (`require('websocket').deprecation`).
 */

/** The deprecation singleton: `warn(name)` prints a registered notice once. */
export interface Deprecation {
  /** Set to true to silence every notice. */
  disableWarnings: boolean;
  /** Notice text by name. */
  deprecationWarningMap: Record<string, string>;
  /** Print `DEPRECATION WARNING: <text>` for `name`, the first time only. */
  warn(name: string): void;
}

const warned = new Set<string>();

/** The deprecation singleton. */
export const deprecation: Deprecation = {
  disableWarnings: false,
  deprecationWarningMap: {},
  warn(name: string): void {
    if (this.disableWarnings || warned.has(name)) return;
    const text = this.deprecationWarningMap[name];
    if (!text) return;
    warned.add(name);
    console.warn(`DEPRECATION WARNING: ${text}`);
  },
};
