// What the CLI and the runners need beyond the folder contract itself (export-folder.ts): the
// quantization names, each format's model file, and a read that checks a folder is whole.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LABELS_FILE, METADATA_FILE, readExportMetadata, type ExportFormat, type ExportMetadata } from './export-folder.js';

export const ExportFormatFlag = z.enum(['onnx', 'tflite', 'tfjs']);
export const ExportQuantize = z.enum(['none', 'float16', 'int8']);
export type ExportQuantize = z.infer<typeof ExportQuantize>;

/** The model file of each format, inside the folder. */
export const MODEL_FILE: Record<ExportFormat, string> = { onnx: 'model.onnx', tflite: 'model.tflite', tfjs: 'model.json' };

export function isExportFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, METADATA_FILE));
}

/** metadata.json, checked against labels.txt and the model file it names. */
export function readExportFolder(dir: string): ExportMetadata & { quantize: ExportQuantize } {
  const meta = readExportMetadata(dir);
  const q = ExportQuantize.safeParse(meta.quantize);
  if (!q.success) throw new Error(`${path.join(dir, METADATA_FILE)}: quantize "${meta.quantize}" is not one of ${ExportQuantize.options.join(', ')}`);
  const labelsFile = path.join(dir, LABELS_FILE);
  if (!fs.existsSync(labelsFile)) throw new Error(`${dir}: ${LABELS_FILE} is missing`);
  const labels = fs.readFileSync(labelsFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  if (labels.join('\n') !== meta.classes.join('\n')) throw new Error(`${labelsFile}: its classes (${labels.join(', ')}) differ from metadata.json (${meta.classes.join(', ')})`);
  if (!fs.existsSync(path.join(dir, MODEL_FILE[meta.format]))) throw new Error(`${dir}: metadata.json says ${meta.format}, but ${MODEL_FILE[meta.format]} is missing`);
  return { ...meta, quantize: q.data };
}
