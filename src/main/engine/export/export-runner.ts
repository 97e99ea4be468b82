// Runs an export folder with the runtime its format targets: ONNX files in onnxruntime, TFLite in
// LiteRT, TF.js folders in tfjs. Every runner takes the shared input contract (NHWC float32 RGB in [0,255]) and
// returns probabilities.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelDir } from '../model-io.js';
import { createSession, runFloat } from '../onnx/runtime.js';
import type { ProbabilityRunner } from '../predict.js';
import { MODEL_FILE, readExportFolder, type ExportQuantize } from './export-metadata.js';
import type { ExportMetadata } from './export-folder.js';
import { openTflite } from './tflite/litert-runtime.js';

export interface OpenedExport {
  meta: ExportMetadata & { quantize: ExportQuantize };
  runner: ProbabilityRunner;
  close(): Promise<void>;
}

export async function openExportFolder(dir: string): Promise<OpenedExport> {
  const meta = readExportFolder(dir);
  const s = meta.inputSize;
  const classes = meta.classes.length;
  const file = path.join(dir, MODEL_FILE[meta.format]);
  switch (meta.format) {
    case 'onnx': {
      const session = await createSession(file);
      return {
        meta,
        runner: { inputSize: s, classes, probabilities: async (x, n) => (await runFloat(session, { data: x, dims: [n, s, s, 3] })).data },
        close: () => session.release(),
      };
    }
    case 'tfjs': {
      const model = await loadModelDir(dir);
      return {
        meta,
        runner: {
          inputSize: s,
          classes,
          // The TF.js export keeps the student's logits output; softmax makes it comparable.
          probabilities: async (x, n) => {
            const p = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(x, [n, s, s, 3])) as tf.Tensor2D));
            const data = (await p.data()) as Float32Array;
            p.dispose();
            return data;
          },
        },
        close: async () => {
          model.dispose();
        },
      };
    }
    case 'tflite': {
      const session = await openTflite(new Uint8Array(fs.readFileSync(file)), file);
      if (session.inputSize !== s || session.classes !== classes) {
        session.close();
        throw new Error(`${file}: runs ${session.inputSize}px → ${session.classes} classes, but metadata.json says ${s}px → ${classes}`);
      }
      return { meta, runner: { inputSize: s, classes, probabilities: (x, n) => session.run(x, n) }, close: async () => session.close() };
    }
  }
}
