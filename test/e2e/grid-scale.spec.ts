// The Browser grid with 25,000 images: only the rows in view are in the DOM, scrolling and keyboard
// navigation reach the end, and frames stay short. The page is the real built renderer from
// `distill serve`; its API is a stub injected before load (as the preload would), so no 25,000-image
// import is needed for a test about rendering.
import { test, expect } from '@playwright/test';
import { e2e, screen } from './env.js';

const N = 25_000;

test('virtualized grid stays small and smooth with 25,000 images', async ({ page }) => {
  await page.addInitScript((n: number) => {
    const row = (i: number) => ({
      id: i + 1,
      path: `/big/${i % 2 ? 'dog' : 'cat'}/${i}.jpg`,
      role: 'unlabeled',
      label: null,
      teacherLabel: i % 2 ? 'dog' : 'cat',
      teacherConfidence: 0.5 + ((i * 7919) % 500) / 1000,
      mined: i % 5 === 0,
    });
    const dataset = {
      id: 1,
      name: 'big',
      createdAt: new Date().toISOString(),
      classes: ['cat', 'dog'],
      folders: [{ id: 1, path: '/big', role: 'unlabeled' }],
      labeled: {},
      unlabeled: n,
      val: {},
      skipped: [],
    };
    const backend = { active: 'stub', threads: 1, simd: null, forcedBy: null, candidates: [] };
    const calls: Record<string, (p: Record<string, unknown>) => unknown> = {
      'app.info': () => ({ version: 'stub', backend, home: '/stub' }),
      'datasets.list': () => [dataset],
      'jobs.list': () => [],
      'images.query': (p) => {
        const offset = Number(p.offset ?? 0);
        const limit = Number(p.limit ?? 200);
        const items = [];
        for (let i = offset; i < Math.min(n, offset + limit); i++) items.push(row(i));
        return { total: n, items };
      },
      'images.detail': (p) => ({ image: row(Number(p.id) - 1), probabilities: [] }),
    };
    // One tiny image for all: real thumbnails arrive over the network and decode off the main thread.
    const img = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#9ab"/></svg>')}`;
    const svg = () => img;
    (globalThis as Record<string, unknown>).distill = {
      call: async (method: string, params: Record<string, unknown>) => {
        const f = calls[method];
        if (!f) throw new Error(`stub: ${method} not needed here`);
        return f(params ?? {});
      },
      on: () => () => {},
      thumbUrl: svg,
      imageUrl: svg,
      fileUrl: svg,
    };
  }, N);

  const t0 = Date.now();
  await page.goto(`${e2e.url}#/browser`);
  const grid = page.getByTestId('image-grid');
  await expect(grid).toHaveAttribute('data-count', String(N));
  await expect(page.getByTestId('thumb').first()).toBeVisible();
  console.log(`25,000-image grid: first thumbnails after ${Date.now() - t0} ms`);
  const rendered = Number(await grid.getAttribute('data-rendered'));
  expect(rendered).toBeGreaterThan(0);
  expect(rendered).toBeLessThan(300);
  expect(await page.locator('.vcell').count()).toBe(rendered);

  // Scroll through in small steps, one per frame, timing the frames.
  const frames = await page.evaluate(async () => {
    const el = document.querySelector('.vgrid') as HTMLElement;
    const times: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      el.scrollTop += 240;
      await new Promise(requestAnimationFrame);
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times.sort((a, b) => a - b);
  });
  const p50 = frames[Math.floor(frames.length / 2)]!;
  const p95 = frames[Math.floor(frames.length * 0.95)]!;
  console.log(`grid scroll frame time with ${N} images: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
  // Generous: test machines are shared and render without a GPU; the DOM-size checks are the strict part.
  expect(p50).toBeLessThan(250);
  expect(Number(await grid.getAttribute('data-rendered'))).toBeLessThan(300);

  // Keyboard: focus the grid, End jumps to the last image, which gets rendered and selected.
  await page.getByTestId('thumb').first().click();
  await page.keyboard.press('End');
  await expect(page.locator(`.vcell[data-index="${N - 1}"]`)).toHaveClass(/selected/);
  await expect(page.getByTestId('image-detail')).toHaveAttribute('data-image-id', String(N));
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('image-detail')).toHaveAttribute('data-image-id', String(N - 1));
  await page.keyboard.press('Home');
  await expect(page.locator('.vcell[data-index="0"]')).toHaveClass(/selected/);
  await screen(page, '00-browser-25000-stub', false);
});
