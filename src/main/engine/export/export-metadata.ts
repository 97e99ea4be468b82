// The contract every export folder keeps, whatever the format: the model file(s), labels.txt (one
// class per line, in output order) and metadata.json describing the input and where it came from.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const ExportFormat = z.enum(['onnx', 'tflite', 'tfjs']);
export type ExportFormat = z.infer<typeof ExportFormat>;
export const ExportQuantize = z.enum(['none', 'float16', 'int8']);
export type ExportQuantize = z.infer<typeof ExportQuantize>;

export const ExportMetadata = z.object({
  format: ExportFormat,
  quantize: ExportQuantize,
  inputSize: z.number().int().positive(),
  layout: z.literal('NHWC'),
  range: z.tuple([z.literal(0), z.literal(255)]),
  classes: z.array(z.string()).min(1),
  run: z.string().nullable(),
  valAccuracy: z.number().min(0).max(1).nullable(),
});
export type ExportMetadata = z.infer<typeof ExportMetadata>;

export const METADATA_FILE = 'metadata.json';
export const LABELS_FILE = 'labels.txt';

/** The model file of each format, inside the folder. */
export const MODEL_FILE: Record<ExportFormat, string> = { onnx: 'model.onnx', tflite: 'model.tflite', tfjs: 'model.json' };

export function isExportFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, METADATA_FILE)) && fs.existsSync(path.join(dir, LABELS_FILE));
}

/** Writes labels.txt and metadata.json; returns their paths. */
export function writeExportMetadata(dir: string, meta: ExportMetadata): string[] {
  const m = ExportMetadata.parse(meta);
  const labels = path.join(dir, LABELS_FILE);
  const metadata = path.join(dir, METADATA_FILE);
  fs.writeFileSync(labels, m.classes.join('\n') + '\n');
  fs.writeFileSync(metadata, JSON.stringify(m, null, 2) + '\n');
  return [labels, metadata];
}

/** Reads and checks an export folder's metadata.json against its labels.txt and model file. */
export function readExportMetadata(dir: string): ExportMetadata {
  const file = path.join(dir, METADATA_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const parsed = ExportMetadata.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || 'metadata'}: ${issue.message}`);
  }
  const meta = parsed.data;
  const labelsFile = path.join(dir, LABELS_FILE);
  if (fs.existsSync(labelsFile)) {
    const labels = fs.readFileSync(labelsFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    if (labels.join('\n') !== meta.classes.join('\n')) throw new Error(`${labelsFile}: its classes (${labels.join(', ')}) differ from metadata.json (${meta.classes.join(', ')})`);
  }
  const model = path.join(dir, MODEL_FILE[meta.format]);
  if (!fs.existsSync(model)) throw new Error(`${dir}: metadata.json says ${meta.format}, but ${MODEL_FILE[meta.format]} is missing`);
  return meta;
}
