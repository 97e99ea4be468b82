// `distill teacher import`: a TF.js layers or graph model.json (with its weight files) copied into the
// home folder as a frozen teacher, after checking that it loads and that its output matches the classes.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TeacherRecord } from '../../shared/domain.js';
import type { Store } from '../store/index.js';
import { initBackend } from './backend/select.js';
import { readModelJson } from './model-io.js';
import { teachersDir } from './teacher-train.js';
import { loadTeacher, writeTeacherInfo, type InputRange } from './teacher-model.js';

export async function importTeacher(
  store: Store,
  o: { name: string; path: string; classes: string[]; inputRange: InputRange; mean?: [number, number, number]; std?: [number, number, number] },
): Promise<TeacherRecord> {
  if (store.teachers.getTeacher(o.name)) throw new Error(`teacher "${o.name}" already exists`);
  if (new Set(o.classes).size !== o.classes.length || o.classes.length < 2) throw new Error('--classes needs at least two distinct names');
  const src = path.resolve(o.path);
  if (src.toLowerCase().endsWith('.onnx')) {
    throw new Error(`${src}: ONNX teachers are not supported yet; convert it to TF.js (tensorflowjs_converter) and import the model.json`);
  }
  const mj = readModelJson(src);
  const format = mj.format ?? 'layers-model';
  const dir = teachersDir(store, o.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(src.endsWith('.json') ? src : path.join(src, 'model.json'), path.join(dir, 'model.json'));
  for (const g of mj.weightsManifest) {
    for (const p of g.paths) {
      const from = path.join(mj.dir, p);
      if (!fs.existsSync(from)) throw new Error(`${src}: weight file ${p} is missing`);
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.copyFileSync(from, path.join(dir, p));
    }
  }
  // Input size from the model's input shape [null, S, S, 3].
  const topo = JSON.stringify(mj.modelTopology);
  const m = /"batch_input_shape":\[null,(\d+),(\d+),3\]/.exec(topo) ?? /"shape":\{"dim":\[\{"size":"-1"\},\{"size":"(\d+)"\},\{"size":"(\d+)"\},\{"size":"3"\}\]/.exec(topo);
  if (!m || m[1] !== m[2]) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${src}: cannot find a square NHWC RGB input shape [null, S, S, 3] in the model`);
  }
  const inputSize = Number(m[1]);
  writeTeacherInfo(dir, { format: format === 'graph-model' ? 'graph-model' : 'layers-model', inputRange: o.inputRange, mean: o.mean, std: o.std });
  const rec = {
    name: o.name,
    kind: 'imported' as const,
    arch: `imported-${format}`,
    inputSize,
    classes: o.classes,
    datasetId: null,
    valAccuracy: null,
    perClass: null,
    modelDir: dir,
  };
  // Check it runs and predicts exactly |classes| outputs before registering it.
  await initBackend();
  const t = await loadTeacher({ ...rec, name: o.name }, o.classes);
  const outShape = tf.tidy(() => t.logits(tf.zeros([1, inputSize, inputSize, 3]) as tf.Tensor4D).shape);
  if (outShape[1] !== o.classes.length) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${src}: the model has ${outShape[1]} outputs but --classes names ${o.classes.length}`);
  }
  return store.teachers.createTeacher(rec);
}
