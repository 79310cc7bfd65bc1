/**
 * A full garbage collection from inside a test, without `--expose-gc` on the command line: the
 * flag is set at run time and `gc` is read from a fresh context, where V8 installs it.
 * Memory baselines taken after it do not count garbage left by earlier tests.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
