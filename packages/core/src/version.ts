/**
 * The package version, read from `package.json` at run time so it never drifts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  // src/ and dist/ both sit one level below the package root.
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** `@wsuite/core`'s version string. */
export const version: string = readVersion();
