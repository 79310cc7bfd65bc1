/**
 * How many inputs each fuzz property tries, and the tally `npm run fuzz` prints. `npm test`
 * runs the bounded counts; with `WSUITE_FUZZ_LONG=1` (set by scripts/fuzz.js) each property
 * runs its long count, and `WSUITE_FUZZ_REPORT` names a file each property appends
 * `{"name","runs"}` lines to.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

const REPORT = process.env.WSUITE_FUZZ_REPORT;

/** True during the long run (`npm run fuzz`). */
export const LONG_RUN = process.env.WSUITE_FUZZ_LONG === '1';

/** The number of runs for a property: `bounded` under `npm test`, `long` in the long run. */
export function runsFor(bounded: number, long: number): number {
  return LONG_RUN ? long : bounded;
}

/** A Jest timeout for a property: generous in the long run, where a property runs for minutes. */
export function timeoutFor(boundedMs: number): number {
  return LONG_RUN ? 60 * 60 * 1000 : boundedMs;
}

/** Counts the inputs a property really executed (shrinking included) and reports them once. */
export class InputCounter {
  count = 0;
  constructor(readonly name: string) {}

  /** Call once per input. */
  tick(): void {
    this.count++;
  }

  /** Append the count to the report file (long run only). */
  report(): void {
    if (REPORT) appendFileSync(REPORT, `${JSON.stringify({ name: this.name, runs: this.count })}\n`);
  }
}

/**
 * fast-check parameters shared by every property: a seed from `WSUITE_FUZZ_SEED` when replaying
 * a failure; `shrink: false` for properties whose inputs are too costly to shrink (live sockets).
 */
export function params<T>(numRuns: number, options: { shrink?: boolean } = {}): fc.Parameters<T> {
  const seed = process.env.WSUITE_FUZZ_SEED;
  return { numRuns, ...(seed ? { seed: Number(seed) } : {}), ...(options.shrink === false ? { endOnFailure: true } : {}) };
}
