// A checkpoint folder: every student (model.json + weights), every optimizer's slots, and where the
// loop stood. Written through writeDirAtomic, so a kill mid-write leaves the previous one intact.
import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { writeDirAtomic } from '../../util/atomic-write.js';
import { loadModelDir, loadOptimizerState, saveModelDir, saveOptimizerState } from '../model-io.js';

const CheckpointState = z.object({ epoch: z.number().int(), step: z.number().int(), students: z.number().int() });
export type CheckpointState = z.infer<typeof CheckpointState>;

export async function saveCheckpoint(
  dir: string,
  students: tf.LayersModel[],
  optimizers: tf.Optimizer[],
  at: { epoch: number; step: number },
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
    const state: CheckpointState = { epoch: at.epoch, step: at.step, students: students.length };
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
