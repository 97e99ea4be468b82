// A checkpoint folder: every student (model.json + weights), every optimizer's slots, and where the
// loop stood. Written through writeDirAtomic, so a kill mid-write leaves the previous one intact.
import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { writeDirAtomic } from '../../util/atomic-write.js';
import { loadModelDir, loadOptimizerState, saveModelDir, saveOptimizerState } from '../model-io.js';
import type { FeatureAdapter } from './feature-adapter.js';

const ADAPTER_JSON = 'adapter.model.json';
const ADAPTER_OPTIMIZER = 'adapter-optimizer.bin';

const CheckpointState = z.object({
  epoch: z.number().int(),
  step: z.number().int(),
  students: z.number().int(),
  /** Feature distillation's adapter is saved beside the students (adapter.model.json), never inside one. */
  adapter: z.boolean().optional(),
});
export type CheckpointState = z.infer<typeof CheckpointState>;

export async function saveCheckpoint(
  dir: string,
  students: tf.LayersModel[],
  optimizers: tf.Optimizer[],
  at: { epoch: number; step: number },
  adapter?: FeatureAdapter,
): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    for (let i = 0; i < students.length; i++) {
      // Flat layout (student-0.model.json / .weights.bin) keeps writeDirAtomic's one-level fsync simple.
      await saveModelDir(students[i]!, tmp, {
        jsonName: `student-${i}.model.json`,
        weightsName: `student-${i}.weights.bin`,
      });
      await saveOptimizerState(optimizers[i]!, path.join(tmp, `optimizer-${i}.bin`));
    }
    if (adapter) {
      await saveModelDir(adapter.model, tmp, { jsonName: ADAPTER_JSON, weightsName: 'adapter.weights.bin' });
      await saveOptimizerState(adapter.optimizer, path.join(tmp, ADAPTER_OPTIMIZER));
    }
    const state: CheckpointState = { epoch: at.epoch, step: at.step, students: students.length, ...(adapter && { adapter: true }) };
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(state));
  });
}

export function readCheckpointState(dir: string): CheckpointState {
  return CheckpointState.parse(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')));
}

/** Loads student i of a checkpoint as a standalone model folder view. */
export async function loadCheckpointStudent(dir: string, i: number): Promise<tf.LayersModel> {
  return loadModelDir(path.join(dir, `student-${i}.model.json`));
}

/** Restores a feature adapter's weights and optimizer slots; false when the checkpoint has none. */
export async function restoreAdapter(dir: string, adapter: FeatureAdapter): Promise<boolean> {
  if (!fs.existsSync(path.join(dir, ADAPTER_JSON))) return false;
  const saved = await loadModelDir(path.join(dir, ADAPTER_JSON));
  adapter.model.setWeights(saved.getWeights());
  saved.dispose();
  await loadOptimizerState(adapter.optimizer, path.join(dir, ADAPTER_OPTIMIZER));
  return true;
}

export async function restoreOptimizer(dir: string, i: number, optimizer: tf.Optimizer): Promise<void> {
  await loadOptimizerState(optimizer, path.join(dir, `optimizer-${i}.bin`));
}

/** Copies student i out of a checkpoint as a normal model folder (model.json + weights.bin). */
export function extractStudent(dir: string, i: number, outDir: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  const mj = JSON.parse(fs.readFileSync(path.join(dir, `student-${i}.model.json`), 'utf8')) as {
    weightsManifest: { paths: string[] }[];
  };
  mj.weightsManifest[0]!.paths = ['weights.bin'];
  fs.copyFileSync(path.join(dir, `student-${i}.weights.bin`), path.join(outDir, 'weights.bin'));
  fs.writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(mj));
}
