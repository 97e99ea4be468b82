// The one place that maps an export format to its writer. Every writer produces a folder with the
// model file(s), labels.txt and metadata.json (export-metadata.ts); checking the result is separate
// (check-export.ts), so the CLI and the Export page measure every format the same way.
import fs from 'node:fs';
import path from 'node:path';
import { loadModelDir } from '../model-io.js';
import { evalViews } from '../train/batches.js';
import type { PredictItem } from '../predict.js';
import { lowerModel } from './lower.js';
import { exportTfjs } from './export-model.js';
import { writeExportMetadata, MODEL_FILE, type ExportFormat, type ExportQuantize } from './export-metadata.js';
import { writeOnnx } from './onnx/write-onnx.js';
import { onnxActivationRanges } from './onnx/calibrate-onnx.js';

export interface ExportSource {
  /** The student's TF.js layers folder. */
  dir: string;
  inputSize: number;
  classes: string[];
  /** The run it came from (null for a teacher or a model path). */
  run: string | null;
  valAccuracy: number | null;
}

export interface WrittenExport {
  dir: string;
  files: string[];
  bytes: number;
  format: ExportFormat;
  quantize: ExportQuantize;
}

/** Images for int8 calibration: enough to see the activations' spread, few enough to stay quick. */
export const CALIBRATION_IMAGES = 128;

/** Decodes calibration images (the eval view every runtime sees) into NHWC [n,S,S,3] batches. */
async function calibrationBatches(items: PredictItem[], size: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const b of evalViews(items.slice(0, CALIBRATION_IMAGES), size, { batchSize: 32 })) {
    if (b.indices.length) out.push(Float32Array.from(b.x.subarray(0, b.indices.length * size * size * 3)));
  }
  if (out.length === 0) throw new Error('int8 export needs calibration images, and none could be read');
  return out;
}

export async function writeExport(
  src: ExportSource,
  outDir: string,
  format: ExportFormat,
  quantize: ExportQuantize,
  calibration: PredictItem[],
): Promise<WrittenExport> {
  fs.mkdirSync(outDir, { recursive: true });
  let modelFiles: string[];
  switch (format) {
    case 'onnx': {
      const model = await loadModelDir(src.dir);
      try {
        const graph = lowerModel(model);
        const ranges = quantize === 'int8' ? await onnxActivationRanges(graph, await calibrationBatches(calibration, src.inputSize)) : undefined;
        const file = path.join(outDir, MODEL_FILE.onnx);
        fs.writeFileSync(file, writeOnnx(graph, { quantize, ranges, metadata: { classes: JSON.stringify(src.classes), inputSize: String(src.inputSize) } }));
        modelFiles = [file];
      } finally {
        model.dispose();
      }
      break;
    }
    case 'tfjs': {
      // TF.js stores 8-bit weights as affine uint8 (dequantized on load); activations stay float.
      const r = await exportTfjs({ ...src, name: src.run ?? path.basename(src.dir) }, outDir, quantize === 'int8' ? 'uint8' : quantize);
      modelFiles = r.files;
      break;
    }
    case 'tflite':
      throw new Error('--format tflite is not available in this build yet: export --format onnx or tfjs');
  }
  const files = [...modelFiles, ...writeExportMetadata(outDir, {
    format, quantize, inputSize: src.inputSize, layout: 'NHWC', range: [0, 255], classes: src.classes, run: src.run, valAccuracy: src.valAccuracy,
  })].map((f) => path.resolve(f));
  return { dir: path.resolve(outDir), files, bytes: files.reduce((n, f) => n + fs.statSync(f).size, 0), format, quantize };
}
