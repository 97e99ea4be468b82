// The one place that knows where ../shared is (the cat/dog photos beside a checkout), for vitest
// (shared-data.ts) and Playwright's setup alike. DISTILL_TEST_NO_SHARED=1 hides ../shared even where
// it exists (to check a clean clone's behaviour).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

