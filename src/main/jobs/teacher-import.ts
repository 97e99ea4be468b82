// `distill teacher import`: a TF.js layers or graph model.json (with its weight files) or an .onnx file
// copied into the home folder as a frozen teacher, after checking that it loads, takes an RGB image and
// that its output matches the classes.
import fs from 'node:fs';
import path from 'node:path';
import type { TeacherRecord } from '../../shared/domain.js';
import type { Store } from '../store/index.js';
import { initBackend } from '../engine/backend/select.js';
import { predictorLogits } from '../engine/predict.js';
import { readModelJson } from '../engine/model-io.js';
import { teachersDir } from './teacher-train.js';
import { loadTeacher, ONNX_TEACHER_FILE, writeTeacherInfo } from '../engine/teacher-model.js';
import type { Preprocessing } from '../engine/teachers/preprocessing.js';
import { openOnnxImageModel, runOnnxImages } from '../engine/teachers/onnx-teacher.js';

export interface ImportTeacherOptions {
  name: string;
  path: string;
  classes: string[];
  preprocessing: Preprocessing;
}

const fmtDims = (d: readonly (number | string | null)[] | null): string => (d ? `[${d.map((v) => v ?? '?').join(', ')}]` : '[undeclared]');

/** An .onnx image classifier: checked from the source file (input, then one run for the output), then copied. */
async function importOnnx(store: Store, o: ImportTeacherOptions, src: string): Promise<TeacherRecord> {
  const m = await openOnnxImageModel(src);
  const probeBatch = m.input.fixedBatch ?? 1;
  const S = m.input.size;
  const { width } = await runOnnxImages(m, new Float32Array(probeBatch * S * S * 3), probeBatch, o.preprocessing);
  if (width !== o.classes.length) {
    throw new Error(
      `${src}: output "${m.output.name}" (declared shape ${fmtDims(m.output.dims)}) gives ${width} values per image but --classes names ${o.classes.length} ` +
        `(${o.classes.join(', ')}); input "${m.input.name}" has shape ${fmtDims(m.input.dims)}`,
    );
  }
  const dir = teachersDir(store, o.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(src, path.join(dir, ONNX_TEACHER_FILE));
  writeTeacherInfo(dir, { format: 'onnx', inputRange: o.preprocessing.range, mean: o.preprocessing.mean, std: o.preprocessing.std });
  return store.teachers.createTeacher({
    name: o.name,
    kind: 'imported',
    arch: `imported-onnx-${m.input.layout.toLowerCase()}`,
    inputSize: S,
    classes: o.classes,
    datasetId: null,
    valAccuracy: null,
    perClass: null,
    modelDir: dir,
  });
}

export async function importTeacher(store: Store, o: ImportTeacherOptions): Promise<TeacherRecord> {
  if (store.teachers.getTeacher(o.name)) throw new Error(`teacher "${o.name}" already exists`);
  if (new Set(o.classes).size !== o.classes.length || o.classes.length < 2) throw new Error('--classes needs at least two distinct names');
  const src = path.resolve(o.path);
  if (src.toLowerCase().endsWith('.onnx')) return importOnnx(store, o, src);
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
  writeTeacherInfo(dir, {
    format: format === 'graph-model' ? 'graph-model' : 'layers-model',
    inputRange: o.preprocessing.range,
    mean: o.preprocessing.mean,
    std: o.preprocessing.std,
  });
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
  const t = await loadTeacher(rec, o.classes);
  const probe = await predictorLogits(t, new Float32Array(inputSize * inputSize * 3), 1);
  const outShape = probe.shape;
  probe.dispose();
  if (outShape[1] !== o.classes.length) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${src}: the model has ${outShape[1]} outputs but --classes names ${o.classes.length}`);
  }
  return store.teachers.createTeacher(rec);
}
