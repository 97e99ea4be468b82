// SSLD mining on the real cat/dog pool: a small teacher trained on the 200 labeled images mines the
// 2,000 unlabeled ones; the selection's precision per class is measured against the held-back truth
// (../shared/datasets/catdog/unlabeled-truth.csv, never imported) and reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store/index.js';
import { importDataset } from '../../src/main/datasets/import.js';
import { trainTeacher } from '../../src/main/engine/teacher-train.js';
import { mine } from '../../src/main/engine/mining/mine.js';

const CATDOG = path.resolve(__dirname, '../../../shared/datasets/catdog');
const have = fs.existsSync(path.join(CATDOG, 'unlabeled-truth.csv'));

describe.skipIf(!have)('mining on ../shared/datasets/catdog', () => {
  it('selects class-balanced, teacher-confident images and reports precision per class', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-mine-'));
    const store = Store.open(home);
    try {
      const imported = await importDataset(store, {
        name: 'catdog',
        folders: [
          { path: path.join(CATDOG, 'labeled'), role: 'labeled' },
          { path: path.join(CATDOG, 'unlabeled'), role: 'unlabeled' },
          { path: path.join(CATDOG, 'val'), role: 'val' },
        ],
      });
      expect(imported.unlabeled).toBe(2000);
      const teacher = await trainTeacher(
        store,
        { name: 't', dataset: 'catdog', arch: 'mobilenet_v2_035', size: 40, epochs: 5, batchSize: 32, lr: 0.003, seed: 1 },
        { progress() {}, info() {} },
      );
      const K = 300;
      const r = await mine(store, { dataset: 'catdog', teacher: teacher.id, perClass: K, minConfidence: 0 });
      const m = r.mining;
      // Class-balanced: no class gets more than K; the counts add up to the selection.
      for (const n of Object.values(m.perClassSelected)) expect(n).toBeLessThanOrEqual(K);
      expect(Object.values(m.perClassSelected).reduce((a, b) => a + b, 0)).toBe(m.selected);
      // The ranking inside a class follows the teacher's confidence.
      const sel = store.minings.getMiningSelections(m.id);
      for (const cls of ['cat', 'dog']) {
        const conf = sel.filter((s) => s.label === cls).sort((a, b) => a.rank - b.rank).map((s) => s.confidence);
        for (let i = 1; i < conf.length; i++) expect(conf[i]!).toBeLessThanOrEqual(conf[i - 1]!);
      }

      const truth = new Map(
        fs.readFileSync(path.join(CATDOG, 'unlabeled-truth.csv'), 'utf8').trim().split('\n').slice(1).map((l) => {
          const [file, label] = l.split(',');
          return [file!.trim(), label!.trim()] as const;
        }),
      );
      const perClass: Record<string, { hit: number; n: number }> = {};
      for (const s of sel) {
        const img = store.images.getImage(s.imageId)!;
        const t = truth.get(path.basename(img.path)) ?? truth.get(path.relative(path.join(CATDOG, 'unlabeled'), img.path));
        expect(t, `truth for ${img.path}`).toBeDefined();
        const c = (perClass[s.label] ??= { hit: 0, n: 0 });
        c.n++;
        if (t === s.label) c.hit++;
      }
      const report = Object.fromEntries(Object.entries(perClass).map(([c, v]) => [c, { precision: v.hit / v.n, n: v.n }]));
      const overall = Object.values(perClass).reduce((a, v) => ({ hit: a.hit + v.hit, n: a.n + v.n }), { hit: 0, n: 0 });
      console.log(JSON.stringify({ teacherValAccuracy: teacher.valAccuracy, miningPrecision: overall.hit / overall.n, perClass: report }));
      // A teacher above chance on val must mine better than chance.
      if ((teacher.valAccuracy ?? 0) > 0.6) expect(overall.hit / overall.n).toBeGreaterThan(0.55);
    } finally {
      store.close();
    }
  }, 900_000);
});
