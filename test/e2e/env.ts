// What the global setup hands the specs: the server's URL (with token), the data copy, the screens folder.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through playwright.config.ts (its global setup starts distill serve)`);
  return v;
}

export const e2e = {
  get url(): string {
    return need('DISTILL_E2E_URL');
  },
  /** http://127.0.0.1:PORT (no token). */
  get origin(): string {
    return new URL(need('DISTILL_E2E_URL')).origin;
  },
  get token(): string {
    return new URL(need('DISTILL_E2E_URL')).searchParams.get('token') ?? '';
  },
  get data(): string {
    return need('DISTILL_E2E_DATA');
  },
  /** The cat/dog set the copy was taken from (../shared's, or global-setup's drawn stand-in). */
  get catdog(): string {
    return process.env.DISTILL_E2E_CATDOG ?? path.resolve(ROOT, '..', 'shared', 'datasets', 'catdog');
  },
  get screens(): string {
    return need('DISTILL_E2E_SCREENS');
  },
};

/** Full-page screenshot under test-results/screens/<name>.png. */
export async function screen(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(e2e.screens, `${name}.png`), fullPage });
}

/** Opens the app at a hash route, with the token on first load (the server then sets its cookie). */
export async function open(page: Page, route = ''): Promise<void> {
  await page.goto(`${e2e.url}${route ? `#/${route}` : ''}`);
  await page.getByTestId('connection').and(page.locator('[data-state=open]')).waitFor();
}
