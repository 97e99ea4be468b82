// Drills on the training job, with tiny models on tiny generated images: a run interrupted and resumed
// equals the uninterrupted run (losses and weights, every implemented method), a full disk while a
// checkpoint is written loses nothing and resumes, and the loop's guardrails (a non-finite loss, an
// image that turns unreadable mid-run) stop or skip as documented.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig, type RunConfigInput } from '../../src/shared/run-config.js';
import { Store } from '../../src/main/store/index.js';
import { importDataset } from '../../src/main/datasets/import.js';
import { importTeacher } from '../../src/main/jobs/teacher-import.js';
import { executeRun, runDir, type RunEvents } from '../../src/main/jobs/run-job.js';
import { loadCheckpointStudent } from '../../src/main/engine/train/checkpoint.js';
import { setWriteFault } from '../../src/main/util/atomic-write.js';
import { writeCatdogLike } from '../helpers/synthetic-images.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/catdog-teacher');
let root: string;
let store: Store;
let datasetId: number;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-drills-'));
  const set = await writeCatdogLike(path.join(root, 'set'), { labeled: 6, unlabeled: 6, val: 3 }, 40);
  store = Store.open(path.join(root, 'home'));
  const imported = await importDataset(store, {
    name: 'drill',
    folders: [
      { path: set.labeled, role: 'labeled' },
      { path: set.unlabeled, role: 'unlabeled' },
      { path: set.val, role: 'val' },
    ],
  });
  datasetId = imported.dataset.id;
  await importTeacher(store, { name: 't', path: FIXTURE, classes: ['cat', 'dog'], preprocessing: { range: '0-255' } });
});
afterAll(() => {
  setWriteFault(null);
  store?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const quiet: RunEvents = { progress: () => {}, info: () => {} };

function createRun(name: string, over: Partial<RunConfigInput>): number {
  const config = RunConfig.parse({
    name,
    dataset: String(datasetId),
    method: 'ce',
    student: { arch: 'refnet', inputSize: 32 },
    epochs: 2,
    batchSize: 8,
    seed: 7,
    optim: { lr: 0.003, warmupEpochs: 0 },
    ...over,
  });
  const teacher = config.teacher ? store.teachers.requireTeacher(config.teacher) : null;
  return store.runs.createRun({ config, datasetId, teacherId: teacher?.id ?? null }).id;
}

/** Runs to the end; with `cancelAtEpoch`, cancels at that epoch's first step and resumes from the checkpoint. */
async function runWithInterruption(runId: number, cancelAtEpoch?: number): Promise<void> {
  if (cancelAtEpoch !== undefined) {
    const abort = new AbortController();
    const events: RunEvents = {
      info: () => {},
      progress: (_d, _t, message) => {
        if (message.startsWith(`epoch ${cancelAtEpoch}/`)) abort.abort();
      },
    };
    await expect(executeRun(store, runId, { events, signal: abort.signal })).rejects.toThrow(/cancelled/);
    expect(store.runs.requireRun(runId).epochsDone).toBe(cancelAtEpoch - 1);
  }
  await executeRun(store, runId, { resume: cancelAtEpoch !== undefined, events: quiet });
  expect(store.runs.requireRun(runId).status).toBe('completed');
}

/** Step losses as [step, model, name, value], in order. */
function stepLosses(runId: number): [number, number, string, number][] {
  return store.metrics
    .getMetrics(runId, { scope: 'step' })
    .filter((m) => m.name === 'loss' || m.name.startsWith('loss/'))
    .map((m): [number, number, string, number] => [m.step, m.model, m.name, m.value])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
}

async function finalWeights(runId: number, students: number): Promise<Float32Array[]> {
  const last = store.checkpoints.lastCheckpoint(runId)!;
  const out: Float32Array[] = [];
  for (let i = 0; i < students; i++) {
    const m = await loadCheckpointStudent(last.dir, i);
    for (const w of m.getWeights()) out.push(w.dataSync() as Float32Array);
    m.dispose();
  }
  return out;
}

function expectSameWeights(a: Float32Array[], b: Float32Array[]): void {
  expect(b.length).toBe(a.length);
  a.forEach((w, i) => expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(w.buffer)), `weight tensor ${i}`).toBe(true));
}

describe('a resumed run equals the uninterrupted run (same seed, same steps)', () => {
  const cases: [string, Partial<RunConfigInput>, number][] = [
    ['ce', { method: 'ce' }, 1],
    ['ssld with the teacher cache', { method: 'ssld', teacher: 't', teacherCache: 'views', data: { useLabels: false } }, 1],
    ['kd (live teacher)', { method: 'kd', teacher: 't', teacherCache: 'off', loss: { temperature: 2, alpha: 0.7 } }, 1],
    ['dml', { method: 'dml', peers: [{ arch: 'refnet', inputSize: 32 }], data: { useLabels: true, useUnlabeled: true } }, 2],
  ];
  it.each(cases)('%s', async (label, over, students) => {
    const key = label.split(' ')[0]!;
    const whole = createRun(`${key}-whole`, over);
    await runWithInterruption(whole);
    const resumed = createRun(`${key}-resumed`, over);
    await runWithInterruption(resumed, 2);

    const a = stepLosses(whole);
    const b = stepLosses(resumed);
    expect(a.length).toBeGreaterThan(0);
    // Both epochs' steps are there, the redone epoch exactly once.
    expect(new Set(b.map((r) => `${r[0]}/${r[1]}/${r[2]}`)).size).toBe(b.length);
    expect(b).toEqual(a);
    expectSameWeights(await finalWeights(whole, students), await finalWeights(resumed, students));
  });
});

function enospc(target: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${target}'`), { code: 'ENOSPC' });
}

describe('disk full while a checkpoint is written', () => {
  it('keeps the previous checkpoint and every metric, fails naming the path, and resumes once space is back', async () => {
    const whole = createRun('disk-whole', {});
    await runWithInterruption(whole);

    const id = createRun('disk-full', {});
    const second = path.join(runDir(store, id), 'ckpt-epoch-0002');
    setWriteFault((target) => {
      if (target === second) throw enospc(target);
    });
    try {
      await expect(executeRun(store, id, { events: quiet })).rejects.toThrow(`could not write ${second}: ENOSPC: no space left on device`);
    } finally {
      setWriteFault(null);
    }
    const failed = store.runs.requireRun(id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(second);
    expect(failed.epochsDone).toBe(1);
    // The first checkpoint is whole and recorded; the failed one left neither a folder nor a temp.
    const ckpts = store.checkpoints.listCheckpoints(id);
    expect(ckpts.map((c) => path.basename(c.dir))).toEqual(['ckpt-epoch-0001']);
    expect(fs.readdirSync(runDir(store, id)).sort()).toEqual(['ckpt-epoch-0001']);
    const first = await loadCheckpointStudent(ckpts[0]!.dir, 0);
    first.dispose();
    // Every step of both epochs was logged before the write failed, and equals the healthy run's.
    expect(stepLosses(id)).toEqual(stepLosses(whole));

    await executeRun(store, id, { resume: true, events: quiet });
    expect(store.runs.requireRun(id)).toMatchObject({ status: 'completed', epochsDone: 2, error: null });
    expect(stepLosses(id)).toEqual(stepLosses(whole));
    expectSameWeights(await finalWeights(whole, 1), await finalWeights(id, 1));
  });
});

// A real full disk: the run folder on a 2 MiB tmpfs holds one refnet checkpoint (weights + Adam slots,
// ~1.7 MB) but not two. Needs mount rights (root, outside a locked-down container); else skipped.
const canMount = ((): string | null => {
  if (process.platform !== 'linux') return 'not Linux';
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return null;
  } catch {
    return 'mounting a tmpfs is not allowed here';
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
})();

describe.skipIf(canMount !== null)(`disk full on a real 2 MiB filesystem${canMount ? ` [skipped: ${canMount}]` : ''}`, () => {
  let mounted: string | null = null;
  afterAll(() => {
    if (mounted) execFileSync('umount', [mounted], { stdio: 'ignore' });
  });

  it('fails with ENOSPC naming the checkpoint, keeps the first, and resumes after the disk grows', async () => {
    const id = createRun('tmpfs-full', {});
    const dir = runDir(store, id);
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
    mounted = dir;
    await expect(executeRun(store, id, { events: quiet })).rejects.toThrow(/could not write .*ckpt-epoch-0002.*ENOSPC/);
    expect(store.runs.requireRun(id)).toMatchObject({ status: 'failed', epochsDone: 1 });
    expect(fs.readdirSync(dir).sort()).toEqual(['ckpt-epoch-0001']);
    const before = stepLosses(id).length;
    expect(before).toBeGreaterThan(0);

    execFileSync('mount', ['-o', 'remount,size=8m', dir]);
    await executeRun(store, id, { resume: true, events: quiet });
    expect(store.runs.requireRun(id)).toMatchObject({ status: 'completed', epochsDone: 2 });
    expect(stepLosses(id).length).toBe(before);
  });
});

describe('guardrails of the run loop', () => {
  it('an image that turns unreadable after the import is skipped in its batch and reported; the run completes', async () => {
    const victim = store.images.listImages(datasetId, { role: 'labeled' })[0]!;
    const saved = fs.readFileSync(victim.path);
    fs.writeFileSync(victim.path, 'no longer a JPEG');
    try {
      // A size no earlier run decoded, so the image is not already in the in-process decode cache.
      const id = createRun('unreadable', { epochs: 1, student: { arch: 'refnet', inputSize: 36 } });
      await executeRun(store, id, { events: quiet });
      const run = store.runs.requireRun(id);
      expect(run.status).toBe('completed');
      expect(run.flags.filter((f) => f.startsWith('unreadable-image:'))).toEqual([expect.stringContaining(victim.path)]);
    } finally {
      fs.writeFileSync(victim.path, saved);
    }
  });

  it('a non-finite loss stops the run before the update, naming epoch, step and lr; no checkpoint is written', async () => {
    // A teacher whose first kernel dequantizes to ±Infinity (its weights are uint8 with min/scale in
    // model.json): its logits are NaN, so the KD loss is NaN from the first step. That step must not
    // be applied, and no checkpoint may be written from the poisoned state.
    const poisoned = path.join(root, 'nan-teacher');
    fs.cpSync(FIXTURE, poisoned, { recursive: true });
    const mjPath = path.join(poisoned, 'model.json');
    const mj = JSON.parse(fs.readFileSync(mjPath, 'utf8')) as { weightsManifest: { weights: { quantization?: { min: number; scale: number } }[] }[] };
    mj.weightsManifest[0]!.weights[0]!.quantization = { ...mj.weightsManifest[0]!.weights[0]!.quantization!, min: -1e300, scale: 1e300 };
    fs.writeFileSync(mjPath, JSON.stringify(mj));
    await importTeacher(store, { name: 'nan', path: poisoned, classes: ['cat', 'dog'], preprocessing: { range: '0-255' } });
    const id = createRun('nan-loss', { method: 'kd', teacher: 'nan', teacherCache: 'off' });
    await expect(executeRun(store, id, { events: quiet })).rejects.toThrow(/the loss became NaN at epoch 1, step 1 \(lr 3\.00e-3\)/);
    const run = store.runs.requireRun(id);
    expect(run).toMatchObject({ status: 'failed', epochsDone: 0 });
    expect(store.checkpoints.listCheckpoints(id)).toEqual([]);
    expect(tf.memory().numTensors).toBeLessThan(10_000);
  });
});
