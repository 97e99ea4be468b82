// Vitest's door to ../shared (located by shared-paths.ts, which Playwright's setup uses too). Tests
// that truly need those files use `describeWithShared`, which skips with a visible reason in a clone
// that has nothing beside it; every other test generates its inputs.
import { describe } from 'vitest';
import { SHARED_CATDOG, SHARED_MISSING } from './shared-paths.js';

export { SHARED_CATDOG, SHARED_MISSING };

/**
 * A suite that needs ../shared/datasets/catdog: `fn` gets its path. Where it is missing, the suite is
 * reported as skipped with the reason in its name.
 */
export function describeWithShared(name: string, fn: (catdog: string) => void): void {
  if (SHARED_CATDOG === null) {
    describe.skip(`${name} [${SHARED_MISSING}]`, () => {
      fn('');
    });
    return;
  }
  const catdog = SHARED_CATDOG;
  describe(name, () => fn(catdog));
}
