// Backbone teacher training: features of the labeled images (each view) and of val (center view)
// through the feature cache, a class-balanced head on them, val accuracy per class from the same
// features, then one model (backbone + head: TF.js, or .onnx for an ONNX backbone) saved into the teacher's folder.
import * as tf from '@tensorflow/tfjs';
import { saveModelDir } from '../model-io.js';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { ONNX_TEACHER_FILE, writeTeacherInfo } from '../teacher-model.js';
import type { OnnxBackbone } from './onnx-backbone.js';
import { buildBackboneTeacherModel } from './backbone-teacher-model.js';
import type { FeatureCache } from './feature-cache.js';
import { headLogits, trainHead, type HeadKind } from './feature-head.js';
import { featurePass } from './feature-pass.js';
import { throttleProgress } from './throttle.js';
import type { TfjsBackbone } from './tfjs-backbone.js';

export interface LabeledImage {
  key: string;
  path: string;
  /** Index into `classes`. */
  label: number;
}

export interface BackboneTeacherInput {
  backbone: TfjsBackbone | OnnxBackbone;
  classes: string[];
  train: LabeledImage[];
  val: LabeledImage[];
  /** Views of each labeled image (1 = center crop, 2 = + its mirror, more = + random crops). */
  views: number;
  head: { kind: HeadKind; epochs: number; lr?: number; l2?: number; seed?: number };
  cache: FeatureCache | null;
  /** Where the teacher model is written (model.json, weights.bin, distill-teacher.json). */
  outDir: string;
  events: { progress(done: number, total: number, message: string): void; info(message: string): void };
}

export interface BackboneTeacherOutcome {
  valAccuracy: number | null;
  perClass: Record<string, number> | null;
  /** Backbone forward passes made / vectors read from the cache. */
  computed: number;
  cached: number;
  headLoss: number;
  skipped: { path: string; error: string }[];
}

function scoreFeatures(
  head: Awaited<ReturnType<typeof trainHead>>,
  features: Float32Array,
  dim: number,
  items: LabeledImage[],
  ok: boolean[],
  classes: string[],
): { accuracy: number; perClass: Record<string, number> } {
  const pred = tf.tidy(() => tf.argMax(headLogits(head, tf.tensor2d(features, [items.length, dim])), 1).dataSync());
  const right = classes.map(() => 0);
  const total = classes.map(() => 0);
  items.forEach((it, i) => {
    if (!ok[i]) return;
    total[it.label]!++;
    if (pred[i] === it.label) right[it.label]!++;
  });
  const n = total.reduce((a, b) => a + b, 0);
  const perClass: Record<string, number> = {};
  classes.forEach((c, k) => (perClass[c] = total[k] ? right[k]! / total[k]! : 0));
  return { accuracy: n ? right.reduce((a, b) => a + b, 0) / n : 0, perClass };
}

export async function trainBackboneTeacher(o: BackboneTeacherInput): Promise<BackboneTeacherOutcome> {
  const { backbone, classes } = o;
  const D = backbone.featureDim;
  const missing = classes.filter((_, k) => !o.train.some((t) => t.label === k));
  if (missing.length) throw new Error(`no labeled images for class(es) ${missing.join(', ')}`);
  const passes = [...Array.from({ length: o.views }, (_, v) => ({ items: o.train, view: v, what: `labeled view ${v + 1}/${o.views}` })), ...(o.val.length ? [{ items: o.val, view: 0, what: 'val' }] : [])];
  const total = passes.reduce((s, p) => s + p.items.length, 0);
  let before = 0;
  let computed = 0;
  let failedViews = 0;
  const skipped: BackboneTeacherOutcome['skipped'] = [];
  const trainX: Float32Array[] = [];
  const trainY: number[] = [];
  let valFeatures: Float32Array | null = null;
  let valOk: boolean[] = [];
  o.events.info(`features from ${backbone.name} (layer ${backbone.featureLayer}, ${D} values, ${backbone.inputSize}×${backbone.inputSize}) for ${total} image views`);
  for (const p of passes) {
    const report = throttleProgress((done) => o.events.progress(before + done, total, `features (${p.what})`));
    const r = await featurePass(backbone, p.items, p.view, o.cache, { onProgress: report });
    before += p.items.length;
    computed += r.computed;
    failedViews += r.failed.length;
    const bad = new Set(r.failed.map((f) => f.index));
    for (const f of r.failed) if (p.view === 0) skipped.push({ path: f.path, error: f.error });
    if (p.what === 'val') {
      valFeatures = r.features;
      valOk = p.items.map((_, i) => !bad.has(i));
    } else {
      p.items.forEach((it, i) => {
        if (bad.has(i)) return;
        trainX.push(r.features.subarray(i * D, (i + 1) * D));
        trainY.push(it.label);
      });
    }
  }
  o.events.info(`features: ${computed} computed, ${total - computed - failedViews} from the cache`);
  const X = new Float32Array(trainY.length * D);
  trainX.forEach((row, i) => X.set(row, i * D));
  const head = await trainHead(X, trainY, D, { kind: o.head.kind, classes: classes.length, epochs: o.head.epochs, lr: o.head.lr, l2: o.head.l2, seed: o.head.seed });
  o.events.info(`head (${o.head.kind}) trained on ${trainY.length} feature vectors: loss ${head.finalLoss.toFixed(4)}`);
  const score = valFeatures ? scoreFeatures(head, valFeatures, D, o.val, valOk, classes) : null;
  if ('kind' in backbone) {
    // An ONNX backbone's teacher is one .onnx file (the model cut at the feature, then the head), run by onnxruntime.
    fs.mkdirSync(o.outDir, { recursive: true });
    writeFileAtomic(path.join(o.outDir, ONNX_TEACHER_FILE), backbone.teacherModel(head));
  } else {
    const model = buildBackboneTeacherModel(backbone, head);
    try {
      await saveModelDir(model, o.outDir, {
        metadata: { classes, inputSize: backbone.inputSize, backbone: backbone.name, featureLayer: backbone.featureLayer, head: o.head.kind },
      });
    } finally {
      // The head's Dense layers only; the backbone's layers are shared with `backbone` and disposed with it.
      for (const l of model.layers.filter((l) => l.name.startsWith('distill_head_'))) l.dispose();
    }
  }
  writeTeacherInfo(o.outDir, {
    format: 'kind' in backbone ? 'onnx' : 'layers-model',
    inputRange: backbone.preprocessing.range,
    ...(backbone.preprocessing.mean ? { mean: backbone.preprocessing.mean } : {}),
    ...(backbone.preprocessing.std ? { std: backbone.preprocessing.std } : {}),
  });
  return {
    valAccuracy: score?.accuracy ?? null,
    perClass: score?.perClass ?? null,
    computed,
    cached: total - computed - failedViews,
    headLoss: head.finalLoss,
    skipped,
  };
}
