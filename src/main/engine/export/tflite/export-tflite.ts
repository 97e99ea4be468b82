// `distill export --format tflite`: the student lowered (lower.ts), calibrated for int8 on training
// images, written as model.tflite in the shared export folder, then checked by the real runtime:
// LiteRT runs the written file over the val images and is compared with the float TF.js student.
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadModelDir } from '../../model-io.js';
import { predictFolded } from '../../models/inference-plan.js';
import { evalViews } from '../../train/batches.js';
import { calibrateRanges, calibrateRangesWithModel } from '../calibrate.js';
import { writeExportFolder } from '../export-folder.js';
import { lowerModel } from '../lower.js';
import { openTflite } from './litert-runtime.js';
import { writeTflite, type TfliteQuantize } from './write-tflite.js';

export interface ExportSource {
  dir: string;
  inputSize: number;
  classes: string[];
  name: string;
  valAccuracy: number | null;
}

export interface ImageItem {
  key: string;
  path: string;
  /** Class name (val images); null where unknown. */
  label: string | null;
}

export interface ExportCheck {
  files: string[];
  bytes: number;
  /** Top-1 accuracy of the written file on the val images (null without labeled val images). */
  accuracy: number | null;
  /** Top-1 agreement of the written file with the float TF.js student on the same images. */
  agreement: number;
  /** Largest |probability difference| to the float TF.js student. */
  maxAbsDiff: number;
  msPerImage: number;
  /** Images checked. */
  n: number;
  format: 'tflite';
  quantize: TfliteQuantize;
  /** Set when agreement is below what the quantization should keep. */
  warning?: string;
}

/** Agreement below this is flagged: int8 may move a few borderline images, float formats should not. */
export function agreementFloor(quantize: TfliteQuantize): number {
  return quantize === 'int8' ? 0.98 : 0.999;
}

/** Images used to calibrate int8 activation ranges (min/max per value over these). */
export const CALIBRATION_IMAGES = 200;

async function decode(items: ImageItem[], size: number): Promise<{ x: Float32Array; n: number; items: ImageItem[] }[]> {
  const out: { x: Float32Array; n: number; items: ImageItem[] }[] = [];
  for await (const b of evalViews(items, size, { batchSize: 16 })) {
    if (b.indices.length > 0) out.push({ x: b.x, n: b.indices.length, items: b.indices.map((i) => items[i]!) });
  }
  return out;
}

/** Evenly spread picks, so calibration sees every class folder of a sorted list. */
function spread<T>(items: T[], k: number): T[] {
  if (items.length <= k) return items;
  return Array.from({ length: k }, (_, i) => items[Math.floor((i * items.length) / k)]!);
}

export async function exportTflite(
  src: ExportSource,
  outDir: string,
  quantize: TfliteQuantize,
  data: { calibration: ImageItem[]; val: ImageItem[] },
  onProgress?: (stage: string) => void,
): Promise<ExportCheck> {
  const model = await loadModelDir(src.dir);
  try {
    const graph = lowerModel(model);
    if (graph.input.size !== src.inputSize) throw new Error(`model input is ${graph.input.size} px, its record says ${src.inputSize}`);
    if (graph.output.classes !== src.classes.length) throw new Error(`model has ${graph.output.classes} outputs for ${src.classes.length} classes`);
    let ranges;
    if (quantize === 'int8') {
      const picks = spread(data.calibration, CALIBRATION_IMAGES);
      if (picks.length === 0) throw new Error('int8 export needs calibration images (the run\'s training images); none are readable');
      onProgress?.(`calibrating int8 ranges on ${picks.length} training images`);
      const batches = await decode(picks, src.inputSize);
      ranges = calibrateRangesWithModel(model, graph, batches) ?? calibrateRanges(graph, batches);
    }
    onProgress?.('writing model.tflite');
    const bytes = writeTflite(graph, { quantize, ranges, description: `Distill Studio: ${src.name}` });
    const files = await writeExportFolder(outDir, [{ name: 'model.tflite', data: bytes }], {
      format: 'tflite', quantize, inputSize: src.inputSize, layout: 'NHWC', range: [0, 255], classes: src.classes, run: src.name, valAccuracy: src.valAccuracy,
    });
    onProgress?.(`checking model.tflite in LiteRT on ${data.val.length} val images`);
    const written = new Uint8Array(fs.readFileSync(files[0]!));
    const check = await checkTflite(written, model, src, data.val);
    const result: ExportCheck = { files, bytes: files.reduce((n, f) => n + fs.statSync(f).size, 0), ...check, format: 'tflite', quantize };
    const floor = agreementFloor(quantize);
    if (check.agreement < floor) {
      result.warning = `model.tflite (${quantize}) agrees with the float student on only ${(check.agreement * 100).toFixed(1)}% of ${check.n} images (expected ≥ ${(floor * 100).toFixed(1)}%)`;
    }
    return result;
  } finally {
    model.dispose();
  }
}

/** Runs the file in LiteRT next to the float TF.js model on `val` (random images when there are none). */
export async function checkTflite(
  file: Uint8Array,
  model: tf.LayersModel,
  src: Pick<ExportSource, 'inputSize' | 'classes'>,
  val: ImageItem[],
): Promise<Pick<ExportCheck, 'accuracy' | 'agreement' | 'maxAbsDiff' | 'msPerImage' | 'n'>> {
  const session = await openTflite(file);
  try {
    const K = src.classes.length;
    const batches = val.length > 0
      ? await decode(val, src.inputSize)
      : [{ x: tf.tidy(() => tf.randomUniform([32, src.inputSize, src.inputSize, 3], 0, 255, 'float32', 1).dataSync() as Float32Array), n: 32, items: [] as ImageItem[] }];
    let n = 0;
    let agree = 0;
    let correct = 0;
    let labeled = 0;
    let maxAbsDiff = 0;
    let ms = 0;
    for (const b of batches) {
      const t0 = performance.now();
      const ours = await session.run(b.x, b.n);
      ms += performance.now() - t0;
      const ref = tf.tidy(() => tf.softmax(predictFolded(model, tf.tensor4d(b.x, [b.n, src.inputSize, src.inputSize, 3]))).dataSync() as Float32Array);
      for (let i = 0; i < b.n; i++) {
        const a = argmax(ours, i, K);
        if (a === argmax(ref, i, K)) agree++;
        const label = b.items[i]?.label;
        if (label != null) {
          labeled++;
          if (src.classes[a] === label) correct++;
        }
        for (let k = 0; k < K; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i * K + k]! - ref[i * K + k]!));
      }
      n += b.n;
    }
    if (n === 0) throw new Error('no val image could be decoded for the runtime check');
    return { accuracy: labeled > 0 ? correct / labeled : null, agreement: agree / n, maxAbsDiff, msPerImage: ms / n, n };
  } finally {
    session.close();
  }
}

function argmax(p: Float32Array, row: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (p[row * k + c]! > p[row * k + best]!) best = c;
  return best;
}
