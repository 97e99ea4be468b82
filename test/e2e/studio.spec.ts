// The whole job through the browser against a real `distill serve`: import the cat/dog copy, browse
// and filter, train a tiny teacher, start runs and watch their charts grow (with a click's response
// time measured while training), compare them, drill into a confusion cell, export. One page, in order.
import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { e2e, open, screen } from './env.js';

test.describe.configure({ mode: 'serial' });

let page: Page;
const consoleErrors: string[] = [];
const runIds: Record<string, number> = {};

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Refused media requests in the traversal test log 4xx resources; those are expected.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
  });
  await open(page);
});

test.afterAll(async () => {
  await page?.close();
});

async function go(route: string, testId: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, `#/${route}`);
  await expect(page.getByTestId(testId)).toBeVisible();
}

/** Time from a click to the moment the clicked-for content is in the DOM, measured inside the page. */
async function clickToContent(clickSelector: string, contentSelector: string): Promise<number> {
  return page.evaluate(
    async ([click, content]) => {
      const t0 = performance.now();
      (document.querySelector(click) as HTMLElement).click();
      await new Promise<void>((resolve, reject) => {
        const limit = t0 + 10_000;
        const check = () => {
          if (document.querySelector(content)) resolve();
          else if (performance.now() > limit) reject(new Error(`${content} did not appear`));
          else requestAnimationFrame(check);
        };
        check();
      });
      return performance.now() - t0;
    },
    [clickSelector, contentSelector] as const,
  );
}

test('datasets: empty state, add folders by path, correct a role, import with progress, counts and skipped files', async () => {
  await go('datasets', 'page-datasets');
  await expect(page.getByTestId('empty-state')).toContainText('No datasets yet');
  await screen(page, '01-datasets-empty');

  for (const f of ['labeled', 'unlabeled', 'val']) {
    await page.getByTestId('folder-path').fill(path.join(e2e.data, f));
    await page.getByTestId('add-folder').click();
    await expect(page.locator(`[data-testid=pending-folder][data-path="${path.join(e2e.data, f)}"]`)).toBeVisible();
  }
  const row = (f: string) => page.locator(`[data-testid=pending-folder][data-path="${path.join(e2e.data, f)}"]`);
  // The server's guess: class subfolders → labeled, flat → unlabeled. val has class subfolders too.
  await expect(row('labeled').getByTestId('folder-role')).toHaveValue('labeled');
  await expect(row('unlabeled').getByTestId('folder-role')).toHaveValue('unlabeled');
  await expect(row('labeled')).toContainText('cat, dog');
  await row('val').getByTestId('folder-role').selectOption('val');
  await page.getByTestId('dataset-name').fill('catdog-e2e');
  await screen(page, '02-datasets-pending');

  await page.getByTestId('import').click();
  const progress = page.getByTestId('import-progress');
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute('data-status', 'done', { timeout: 180_000 });

  const card = page.locator('[data-testid=dataset-card][data-name="catdog-e2e"]');
  await expect(card).toBeVisible();
  await expect(card.getByTestId('count-labeled-cat')).toHaveText('20');
  await expect(card.getByTestId('count-labeled-dog')).toHaveText('20');
  await expect(card.getByTestId('count-val-cat')).toHaveText('20');
  await expect(card.getByTestId('count-val-dog')).toHaveText('20');
  await expect(card.getByTestId('count-unlabeled')).toHaveText('60');
  await expect(card.getByTestId('count-skipped')).toHaveText('2');
  await card.getByTestId('toggle-skipped').click();
  const skipped = card.getByTestId('skipped-list');
  await expect(skipped).toContainText('truncated.jpg');
  await expect(skipped).toContainText('empty.png');
  // Every skipped file comes with a reason.
  for (const r of await skipped.locator('tr').all()) expect((await r.locator('td').nth(1).innerText()).trim().length).toBeGreaterThan(3);
  await screen(page, '03-datasets');

  // The folders are watched: an image added while the app is open is counted within seconds, and
  // removing it takes the count back.
  const catDir = path.join(e2e.data, 'labeled', 'cat');
  const added = path.join(catDir, 'zz-added-while-open.jpg');
  // A cat photo of the shared set that the copy does not hold yet (the copy took the first 20).
  const sharedCats = path.join(e2e.catdog, 'labeled', 'cat');
  fs.copyFileSync(path.join(sharedCats, fs.readdirSync(sharedCats).sort()[20]!), added);
  await expect(card.getByTestId('count-labeled-cat')).toHaveText('21', { timeout: 30_000 });
  fs.rmSync(added);
  await expect(card.getByTestId('count-labeled-cat')).toHaveText('20', { timeout: 30_000 });
});

test('media: a file inside a dataset folder is served; traversal, absolute paths outside and symlinks out are refused', async () => {
  const origin = e2e.origin;
  const inside = path.join(e2e.data, 'labeled', 'cat', fs.readdirSync(path.join(e2e.data, 'labeled', 'cat')).sort()[0]!);
  const ok = await page.request.get(`${origin}/media/file?path=${encodeURIComponent(inside)}`);
  expect(ok.status()).toBe(200);
  expect(ok.headers()['content-type']).toMatch(/^image\//);

  const link = path.join(e2e.data, 'labeled', 'cat', 'zz-escape.jpg');
  fs.symlinkSync('/etc/passwd', link);
  try {
    const attempts = [
      path.join(e2e.data, 'labeled', 'cat') + '/../../../../../../../../etc/passwd',
      '/etc/passwd',
      '../../../../../../etc/passwd',
      `${e2e.data}/labeled/../../../../../../etc/passwd`,
      link,
    ];
    for (const p of attempts) {
      const r = await page.request.get(`${origin}/media/file?path=${encodeURIComponent(p)}`);
      expect(r.status(), p).toBeGreaterThanOrEqual(400);
      expect(await r.text(), p).not.toContain('root:');
    }
    // Traversal through the static file route and the asset route.
    for (const raw of ['/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd', '/assets/..%2f..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd']) {
      const r = await page.request.get(`${origin}${raw}`);
      const body = await r.text();
      expect(body, raw).not.toContain('root:');
      expect(body, raw).not.toContain('"name": "distill-studio"');
    }
  } finally {
    fs.rmSync(link, { force: true });
  }
});

test('browser: counts, filters by role and class, thumbnails, keyboard navigation, detail and lightbox', async () => {
  await go('browser', 'page-browser');
  const count = page.getByTestId('result-count');
  await expect(count).toHaveAttribute('data-total', '140');
  const thumbs = page.getByTestId('thumb');
  await expect(thumbs.first()).toBeVisible();
  // Thumbnails really load (made by sharp, served from the cache).
  await expect
    .poll(() => thumbs.first().locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
    .toBe(true);

  await page.getByTestId('filter-role').selectOption('val');
  await expect(count).toHaveAttribute('data-total', '40');
  await page.getByTestId('filter-class').selectOption('cat');
  await expect(count).toHaveAttribute('data-total', '20');
  await expect(thumbs).not.toHaveCount(0);
  for (const t of await thumbs.all()) {
    await expect(t).toHaveAttribute('data-role', 'val');
    await expect(t).toHaveAttribute('data-label', 'cat');
  }

  await thumbs.nth(0).click();
  const detail = page.getByTestId('image-detail');
  const firstId = await thumbs.nth(0).getAttribute('data-image-id');
  const secondId = await thumbs.nth(1).getAttribute('data-image-id');
  await expect(detail).toHaveAttribute('data-image-id', firstId!);
  await page.keyboard.press('ArrowRight');
  await expect(detail).toHaveAttribute('data-image-id', secondId!);
  await expect(detail).toContainText('val');
  await page.keyboard.press('Enter');
  const lightbox = page.getByTestId('lightbox');
  await expect(lightbox).toBeVisible();
  await expect.poll(() => lightbox.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  await screen(page, '05-browser-lightbox', false);
  await page.keyboard.press('Escape');
  await expect(lightbox).toBeHidden();
  await screen(page, '04-browser', false);

  await page.getByTestId('filter-role').selectOption('unlabeled');
  await page.getByTestId('filter-class').selectOption('');
  await expect(count).toHaveAttribute('data-total', '60');
});

test('teachers: empty state, train a tiny teacher, see its accuracy', async () => {
  await go('teachers', 'page-teachers');
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await screen(page, '06-teachers-empty');
  await page.getByTestId('teacher-name').fill('tiny-teacher');
  await page.getByTestId('teacher-dataset').selectOption({ label: 'catdog-e2e' });
  await page.getByTestId('teacher-arch').selectOption('refnet');
  await page.getByTestId('teacher-size').fill('32');
  await page.getByTestId('teacher-epochs').fill('1');
  await page.getByTestId('teacher-train').click();
  const progress = page.getByTestId('teacher-progress');
  await expect(progress).toHaveAttribute('data-status', 'done', { timeout: 240_000 });
  const row = page.locator('[data-testid=teacher-row][data-name="tiny-teacher"]');
  await expect(row).toBeVisible();
  await expect(row.getByTestId('teacher-acc')).toHaveText(/\d+\.\d%/);

  // Mine the unlabeled pool with it: class-balanced, then browsable as "mined".
  await page.getByTestId('mining-dataset').selectOption({ label: 'catdog-e2e' });
  await page.getByTestId('mining-teacher').selectOption({ label: 'tiny-teacher (refnet, 32px)' });
  await page.getByTestId('mining-per-class').fill('15');
  await page.getByTestId('mine').click();
  await expect(page.getByTestId('mining-progress')).toHaveAttribute('data-status', 'done', { timeout: 240_000 });
  const mining = page.getByTestId('mining-row').first();
  await expect(mining).toBeVisible();
  const selected = Number(await mining.getAttribute('data-selected'));
  expect(selected).toBeGreaterThan(0);
  expect(selected).toBeLessThanOrEqual(30);
  await screen(page, '07-teachers');
  await mining.getByTestId('browse-mined').click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-total', String(selected));
  for (const t of await page.getByTestId('thumb').all()) await expect(t).toHaveAttribute('data-role', 'unlabeled');
  await screen(page, '07b-browser-mined', false);
});

async function fillRun(name: string, method: string, epochs: number, batch: number): Promise<void> {
  await go('new-run', 'page-new-run');
  await expect(page.getByTestId('schema-form')).toBeVisible();
  await page.getByTestId('field-method').selectOption(method);
  await page.getByTestId('field-name').fill(name);
  await page.getByTestId('field-student.arch').selectOption('refnet');
  await page.getByTestId('field-student.width').fill('');
  await page.getByTestId('field-student.inputSize').fill('32');
  await page.getByTestId('field-epochs').fill(String(epochs));
  await page.getByTestId('field-batchSize').fill(String(batch));
}

test('new run: the form validates inline, then a ce run starts, its charts grow, and the UI answers clicks fast while it trains', async () => {
  // Long enough (60 short epochs) that the pause below lands mid-run even on a fast, idle machine.
  await fillRun('e2e-ce', 'ce', 60, 4);
  // Inline validation from the schema: too small an input size is named at its field and blocks Start.
  await page.getByTestId('field-student.inputSize').fill('8');
  const err = page.locator('[data-testid=field-error][data-path="student.inputSize"]');
  await expect(err).toBeVisible();
  await expect(err).toContainText('32');
  await expect(page.getByTestId('start-run')).toBeDisabled();
  await screen(page, '08-new-run-invalid');
  await page.getByTestId('field-student.inputSize').fill('32');
  await expect(err).toBeHidden();
  await expect(page.getByTestId('form-status')).toHaveText('ready');
  await page.getByTestId('start-run').click();

  const view = page.getByTestId('run-view');
  await expect(view).toBeVisible();
  runIds.ce = Number(await view.getAttribute('data-run-id'));
  const loss = page.getByTestId('chart-loss');
  await expect.poll(async () => Number(await loss.getAttribute('data-points')), { timeout: 180_000 }).toBeGreaterThan(0);
  const first = Number(await loss.getAttribute('data-points'));
  await expect(view).toHaveAttribute('data-status', 'running');
  await screen(page, '09-run-live');

  // Responsiveness while the trainer works: navigation that needs a server round trip.
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    times.push(await clickToContent('[data-testid=nav-runs]', `[data-testid=run-row][data-run-id="${runIds.ce}"]`));
    // The row rendered by that click says the run was still training during the measurement.
    const status = await page.locator(`[data-testid=run-row][data-run-id="${runIds.ce}"]`).getAttribute('data-status');
    times.push(await clickToContent('[data-testid=run-link]', `[data-testid=run-view][data-run-id="${runIds.ce}"]`));
    expect(['running', 'paused', 'queued']).toContain(status);
  }
  times.sort((a, b) => a - b);
  console.log(`click → content while training (ms): ${times.map((t) => t.toFixed(0)).join(', ')}`);
  expect(times[Math.floor(times.length / 2)]!).toBeLessThan(500);

  // The charts grow as steps arrive.
  await expect.poll(async () => Number(await loss.getAttribute('data-points')), { timeout: 180_000 }).toBeGreaterThan(first);

  // Pause and resume reach the trainer.
  await page.getByTestId('pause').click();
  await expect(view).toHaveAttribute('data-status', 'paused', { timeout: 120_000 });
  await screen(page, '10-run-paused');
  await page.getByTestId('resume').click();
  await expect(view).toHaveAttribute('data-status', /running|completed/, { timeout: 120_000 });

  // A run survives closing and reopening the window.
  const before = Number(await loss.getAttribute('data-points'));
  await page.reload();
  await expect(page.getByTestId('run-view')).toBeVisible();
  await expect.poll(async () => Number(await page.getByTestId('chart-loss').getAttribute('data-points'))).toBeGreaterThanOrEqual(before);

  await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'completed', { timeout: 300_000 });
  await expect(page.getByTestId('chart-accuracy')).not.toHaveAttribute('data-points', '0');
  await expect(page.getByTestId('backend-active')).not.toBeEmpty();
  await expect(page.getByTestId('checkpoints')).toBeVisible();
  await expect(page.getByTestId('best-val')).toHaveText(/\d+\.\d%/);
  await screen(page, '11-run-completed');
});

test('a second run (ssld with the teacher) completes', async () => {
  await fillRun('e2e-ssld', 'ssld', 2, 8);
  await expect(page.getByTestId('field-teacher')).toHaveValue('tiny-teacher');
  await page.getByTestId('start-run').click();
  const view = page.getByTestId('run-view');
  await expect(view).toBeVisible();
  runIds.ssld = Number(await view.getAttribute('data-run-id'));
  await expect(view).toHaveAttribute('data-status', 'completed', { timeout: 300_000 });
  await expect(page.getByTestId('chart-divergence')).not.toHaveAttribute('data-points', '0');
  await screen(page, '12-run-ssld');
  await go('runs', 'page-runs');
  for (const id of [runIds.ce, runIds.ssld]) {
    await expect(page.locator(`[data-testid=run-row][data-run-id="${id}"]`)).toHaveAttribute('data-status', 'completed');
  }
  await screen(page, '13-runs');
});

test('new run: the recipe plans a student for a budget on this machine and fills the form, with the expected time', async () => {
  await fillRun('e2e-recipe', 'ssld', 2, 8);
  await expect(page.getByTestId('recipe-panel')).toBeVisible();
  await page.getByTestId('recipe-minutes').fill('1');
  await page.getByTestId('recipe-plan').click();
  await expect(page.getByTestId('recipe-progress')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  // The bundled backbone is installed: the choice is a slimmed pretrained student within 0.5 M parameters.
  await expect(page.getByTestId('recipe-choice')).toContainText('slim mobilenet_v1_075');
  await expect(page.getByTestId('recipe-expected')).toHaveText(/^\d+\.\d min$/);
  const epochs = Number(await page.getByTestId('recipe-epochs').textContent());
  expect(epochs).toBeGreaterThanOrEqual(1);
  // On this small set a view costs less than an epoch, so even a minute may buy one per epoch: then the teacher runs live.
  const live = await page.getByTestId('recipe-teacher-live').isVisible();
  const views = live ? null : Number(await page.getByTestId('recipe-views').textContent());
  // Hints only where the teacher is built on the student's backbone (and runs live).
  const hints = await page.getByTestId('recipe-hints').isVisible();
  expect(!hints || live).toBe(true);
  await page.getByTestId('recipe-apply').click();
  await expect(page.getByTestId('expected-time')).toContainText('min');
  await expect(page.getByTestId('config-preview')).toContainText('"slim": "mobilenet_v1_075"');
  await expect(page.getByTestId('config-preview')).toContainText(`"epochs": ${epochs}`);
  if (live) {
    await expect(page.getByTestId('config-preview')).toContainText('"teacherCache": "off"');
    await expect(page.getByTestId('config-preview')).not.toContainText('"teacherViews"');
  } else {
    expect(views).toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('config-preview')).toContainText(`"teacherViews": ${views}`);
    await expect(page.getByTestId('config-preview')).toContainText('"teacherCache": "views"');
  }
  if (hints) await expect(page.getByTestId('config-preview')).toContainText('"hint"');
  else await expect(page.getByTestId('config-preview')).not.toContainText('"hint"');
  await expect(page.getByTestId('branch-student').locator('option:checked')).toHaveText(/^slim/);
  await screen(page, '12b-recipe');
});

test('compare: overlaid curves, smoothing, config diff, metrics table, confusion matrices with drill-down', async () => {
  await go('runs', 'page-runs');
  for (const id of [runIds.ce, runIds.ssld]) await page.locator(`[data-testid=run-row][data-run-id="${id}"] [data-testid=pick-run]`).check();
  await page.getByTestId('compare-selected').click();
  await expect(page.getByTestId('compare-view')).toBeVisible();
  await expect(page.getByTestId('compare-row')).toHaveCount(2);
  await expect(page.getByTestId('compare-chart').first()).toBeVisible();
  expect(await page.getByTestId('compare-chart').count()).toBeGreaterThanOrEqual(3);
  await page.getByTestId('smoothing').fill('0.9');

  const diff = page.getByTestId('diff-row');
  await expect(page.locator('[data-testid=diff-row]', { hasText: 'method' }).first()).toHaveAttribute('data-differs', 'true');
  const differing = await diff.count();
  await page.getByTestId('diff-only').uncheck();
  await expect.poll(() => diff.count()).toBeGreaterThan(differing);
  await page.getByTestId('diff-only').check();
  await expect(page.getByTestId('confusion-block')).toHaveCount(2);
  await screen(page, '14-compare');

  // A confusion cell opens the Browser on exactly those images.
  const block = page.locator(`[data-testid=confusion-block][data-run-id="${runIds.ce}"]`);
  const cells = block.locator('[data-testid=confusion-cell]:not([disabled])');
  await expect(cells.first()).toBeVisible();
  const cell = cells.first();
  const n = Number(await cell.getAttribute('data-count'));
  const t = await cell.getAttribute('data-true');
  const p = await cell.getAttribute('data-pred');
  await cell.click();
  await expect(page.getByTestId('page-browser')).toBeVisible();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-total', String(n));
  await expect(page.getByTestId('chips')).toContainText(`true: ${t}`);
  await expect(page.getByTestId('chips')).toContainText(`predicted: ${p}`);
  await screen(page, '15-browser-confusion-cell', false);

  // "Most confident mistakes" is one click from Compare.
  await page.goBack();
  await expect(page.getByTestId('compare-view')).toBeVisible();
  const matrix = await block.locator('[data-testid=confusion-cell]').evaluateAll((els) =>
    els.map((e) => ({ t: e.getAttribute('data-true'), p: e.getAttribute('data-pred'), n: Number(e.getAttribute('data-count')) })),
  );
  const mistakes = matrix.filter((c) => c.t !== c.p).reduce((a, c) => a + c.n, 0);
  // Back on Compare, the page reloads its runs and may re-render the block under the click: retry it.
  await expect(async () => {
    await block.getByTestId('confident-mistakes').click({ timeout: 5_000 });
    await expect(page.getByTestId('page-browser')).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-total', String(mistakes));
  await expect(page.getByTestId('chips')).toContainText('mistakes only');
  await screen(page, '16-browser-mistakes', false);
});

test('teacher vs student: agreement on val and unlabeled', async () => {
  await go(`agreement?run=${runIds.ssld}`, 'page-agreement');
  await expect(page.getByTestId('agreement-stats')).toBeVisible();
  await screen(page, '17-teacher-vs-student');
  // Val: the student's epoch-end predictions against the teacher's (stored when mining).
  await expect(page.getByTestId('agree-val')).toHaveText(/\d+\.\d%/);
  expect(Number(await page.getByTestId('agree-val').getAttribute('data-n'))).toBe(40);
  // Unlabeled: a finished run stores the student's predictions on the whole pool (60 images here).
  const unlabeledN = Number(await page.getByTestId('agree-unlabeled').getAttribute('data-n'));
  expect(unlabeledN).toBe(60);
  await expect(page.getByTestId('agree-unlabeled')).toHaveText(/\d+\.\d%/);
});

test('grad-cam: the teacher\'s and the student\'s maps over an image, from the image detail', async () => {
  await go(`browser?run=${runIds.ssld}&role=val`, 'page-browser');
  const thumbs = page.getByTestId('thumb');
  await thumbs.nth(0).click();
  await expect(page.getByTestId('image-detail')).toBeVisible();
  await page.getByTestId('gradcam-start').click();
  await expect(page.getByTestId('gradcam-progress')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  // Each map has its model's last spatial stage as cells (refnets here: teacher and student).
  await expect(page.getByTestId('gradcam-teacher')).toHaveAttribute('data-cells', /^\d+x\d+$/);
  await expect(page.getByTestId('gradcam-student')).toHaveAttribute('data-cells', /^\d+x\d+$/);
  await expect(page.getByTestId('gradcam-teacher')).toContainText('teacher tiny-teacher');
  await expect(page.getByTestId('gradcam-student')).toContainText(`run #${runIds.ssld}`);
  await screen(page, '16b-gradcam', false);
});

test('export: every format × quantization measured, then one written and listed on the run', async () => {
  await go(`export?run=${runIds.ce}`, 'page-export');
  await expect(page.getByTestId('export-unchecked')).toBeVisible();
  await page.getByTestId('export-check-all').click();
  await expect(page.getByTestId('export-progress')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  // Each row now holds what its runtime measured on the 40 val images.
  for (const f of ['tfjs', 'onnx', 'tflite']) {
    for (const q of ['none', 'float16', 'int8']) {
      await expect(page.getByTestId(`export-row-${f}-${q}`).getByTestId('export-agreement')).toHaveText(/\d+\.\d%/);
    }
  }
  await expect(page.getByTestId('export-row-tflite-none').getByTestId('export-agreement')).toHaveText('100.0%');
  await expect(page.getByTestId('export-list-empty')).toBeVisible();
  await page.getByTestId('export-start-tflite-int8').click();
  await expect(page.getByTestId('export-progress')).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
  await expect(page.getByTestId('export-list-row')).toHaveCount(1);
  await expect(page.getByTestId('export-list')).toContainText('tflite · int8');
  await screen(page, '18-export');
  await go(`run?id=${runIds.ce}`, 'page-run');
  await expect(page.getByTestId('run-exports').getByTestId('export-list-row')).toHaveCount(1);
});

test('no errors were logged by the page', async () => {
  expect(consoleErrors).toEqual([]);
});
