// The one way a test may be skipped: locally, when something it needs is absent, it is skipped with the reason (and
// scripts/test.sh lists every skip at the end); under CI=true nothing may be skipped, so the test fails with it instead.
import type { TestContext } from 'node:test';

export const CI = process.env.CI === 'true';

/**
 * The `skip` option of a describe/it that needs something: false when it is there; else the reason, or under CI=true
 * an error naming it (the test file fails: CI has to provide what the tests need).
 */
export function needs(available: boolean, reason: string): false | string {
  if (available) return false;
  if (CI) throw new Error(`CI=true and a test needs what is missing: ${reason}`);
  return reason;
}

/** Inside a running test: skips it with the reason locally; under CI=true fails it with the reason. */
export function skipOrFail(t: TestContext, reason: string): void {
  if (CI) throw new Error(`CI=true and a test cannot run: ${reason}`);
  t.skip(reason);
}
