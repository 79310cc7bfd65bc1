/**
 * Gateway paths: how a gateway's `path` and an upgrade's request target are reduced to the same
 * form, so `/chat`, `chat/`, `//chat` and `/chat/?room=1` all reach the `/chat` gateway.
 */

/** `path` normalized: one leading slash, no repeated or trailing slashes (`''` and `'/'` → `'/'`). */
export function normalizePath(path: string): string {
  return `/${path.split('/').filter(Boolean).join('/')}`;
}

/**
 * The normalized path of a request target: origin-form (`/chat?x=1`) or absolute-form
 * (`http://host/chat`). Throws a TypeError for a target that is neither.
 */
export function requestPath(target: string): string {
  const pathname = target.startsWith('/') ? target.split(/[?#]/, 1)[0] : new URL(target).pathname;
  return normalizePath(pathname);
}
