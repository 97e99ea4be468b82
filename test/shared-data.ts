// The one place that knows about ../shared (the cat/dog photos and the pretrained MobileNet beside a
// checkout). Tests that truly need those files use `describeWithShared`, which skips with a visible
// reason in a clone that has nothing beside it; every other test generates its inputs.
// DISTILL_TEST_NO_SHARED=1 hides ../shared even where it exists (to check a clean clone's behaviour).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hidden = process.env.DISTILL_TEST_NO_SHARED === '1';

/** ../shared/datasets/catdog, or null where it is absent or hidden. */
export const SHARED_CATDOG: string | null = locate(path.resolve(ROOT, '..', 'shared', 'datasets', 'catdog'), 'unlabeled-truth.csv');

function locate(dir: string, probe: string): string | null {
  if (hidden) return null;
  return fs.existsSync(path.join(dir, probe)) ? dir : null;
}

/** Why shared-data suites skip here (shown in the suite name), or null when they run. */
export const SHARED_MISSING: string | null = hidden
  ? 'skipped: DISTILL_TEST_NO_SHARED=1 hides ../shared'
  : SHARED_CATDOG === null
    ? 'skipped: ../shared/datasets/catdog is not beside this checkout'
    : null;

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
