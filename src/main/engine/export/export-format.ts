// The one place that maps an export format to its writer. Every format ends as one folder written
// by export-folder.ts (model file(s), labels.txt, metadata.json); checking the result is separate
// (check-export.ts), so the CLI and the Export page measure every format the same way.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModelDir } from '../model-io.js';
import { sampleViews } from '../data/sample-views.js';
import type { PredictItem } from '../predict.js';
import { lowerModel } from './lower.js';
import { exportTfjs } from './export-model.js';
import { writeExportFolder, type ExportFile, type ExportFormat } from './export-folder.js';
import { MODEL_FILE, type ExportQuantize } from './export-metadata.js';
import { writeOnnx } from './onnx/write-onnx.js';
import { onnxActivationRanges } from './onnx/calibrate-onnx.js';
import { writeTflite } from './tflite/write-tflite.js';
import { calibrateRanges, calibrateRangesWithModel } from './calibrate.js';

export interface ExportSource {
  /** The student's TF.js layers folder. */
  dir: string;
  inputSize: number;
  classes: string[];
  /** The run (or teacher / folder) it came from. */
  name: string;
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
export const CALIBRATION_IMAGES = 200;

/** Decodes calibration images (the eval view every runtime sees) into NHWC [n,S,S,3] batches. */
async function calibrationBatches(items: PredictItem[], size: number): Promise<{ x: Float32Array; n: number }[]> {
  const out = await sampleViews(items, CALIBRATION_IMAGES, size);
  if (out.length === 0) throw new Error('int8 export needs calibration images, and none could be read');
  return out;
}

async function modelFiles(src: ExportSource, format: ExportFormat, quantize: ExportQuantize, calibration: PredictItem[]): Promise<ExportFile[]> {
  if (format === 'tfjs') {
    // TF.js stores 8-bit weights as affine uint8 (dequantized on load); activations stay float.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-tfjs-'));
    try {
      const r = await exportTfjs({ ...src, name: src.name }, tmp, quantize === 'int8' ? 'uint8' : quantize);
      return r.files.map((f) => ({ name: path.basename(f), data: new Uint8Array(fs.readFileSync(f)) }));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const model = await loadModelDir(src.dir);
  try {
    const graph = lowerModel(model);
    if (graph.input.size !== src.inputSize) throw new Error(`${src.dir}: the model's input is ${graph.input.size} px, its record says ${src.inputSize}`);
    if (graph.output.classes !== src.classes.length) throw new Error(`${src.dir}: the model has ${graph.output.classes} outputs for ${src.classes.length} classes`);
    const batches = quantize === 'int8' ? await calibrationBatches(calibration, src.inputSize) : [];
    if (format === 'onnx') {
      const ranges = quantize === 'int8' ? await onnxActivationRanges(graph, batches.map((b) => b.x)) : undefined;
      const meta = { classes: JSON.stringify(src.classes), inputSize: String(src.inputSize) };
      return [{ name: MODEL_FILE.onnx, data: writeOnnx(graph, { quantize, ranges, metadata: meta }) }];
    }
    // tfjs's own layer outputs give the ranges fast; the plain-JS interpreter covers graphs it cannot map.
    const ranges = quantize === 'int8' ? (calibrateRangesWithModel(model, graph, batches) ?? calibrateRanges(graph, batches)) : undefined;
    return [{ name: MODEL_FILE.tflite, data: writeTflite(graph, { quantize, ranges, description: `Distill Studio: ${src.name}` }) }];
  } finally {
    model.dispose();
  }
}

export async function writeExport(
  src: ExportSource,
  outDir: string,
  format: ExportFormat,
  quantize: ExportQuantize,
  calibration: PredictItem[],
): Promise<WrittenExport> {
  const files = await modelFiles(src, format, quantize, calibration);
  const written = await writeExportFolder(outDir, files, {
    format, quantize, inputSize: src.inputSize, layout: 'NHWC', range: [0, 255], classes: src.classes, run: src.name, valAccuracy: src.valAccuracy,
  });
  return { dir: path.resolve(outDir), files: written, bytes: written.reduce((n, f) => n + fs.statSync(f).size, 0), format, quantize };
}
