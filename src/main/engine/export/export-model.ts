// `distill export`: the student as a TF.js layers model for mobile/web (model.json + weights.bin,
// optionally quantized), verified by loading the written files back and comparing outputs.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelDir, saveModelDir } from '../model-io.js';
import { quantizeWeights, type Quantize } from './quantize.js';

export interface ExportResult {
  files: string[];
  bytes: number;
  maxAbsDiff: number;
  format: 'tfjs';
  quantize: Quantize;
}

export async function exportTfjs(
  src: { dir: string; inputSize: number; classes: string[]; name: string },
  outDir: string,
  quantize: Quantize,
  seed = 1,
): Promise<ExportResult> {
  const model = await loadModelDir(src.dir);
  try {
    const files = await saveModelDir(model, outDir, {
      metadata: {
        classes: src.classes,
        inputSize: src.inputSize,
        input: 'NHWC float32 RGB in [0,255]; normalization is inside the model',
        output: 'logits (apply softmax for probabilities)',
        source: src.name,
        quantize,
      },
      transformWeights: (specs, data) => quantizeWeights(specs, data, quantize),
    });
    // Verify: the exported files load and agree with the source model on random images.
    const back = await loadModelDir(outDir);
    const x = tf.randomUniform([4, src.inputSize, src.inputSize, 3], 0, 255, 'float32', seed);
    const a = model.predict(x) as tf.Tensor;
    const b = back.predict(x) as tf.Tensor;
    const maxAbsDiff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0]!;
    tf.dispose([x, a, b]);
    back.dispose();
    const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
    return { files: files.map((f) => path.resolve(f)), bytes, maxAbsDiff, format: 'tfjs', quantize };
  } finally {
    model.dispose();
  }
}
