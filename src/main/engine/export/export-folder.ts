// The one export folder contract every format writes (design.md "Exports"): the model file(s),
// labels.txt (one class per line, output order) and metadata.json, written as a whole folder
// atomically so a failed export never leaves a half folder or destroys the previous one.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeDirAtomic } from '../../util/atomic-write.js';

export const EXPORT_FORMATS = ['tfjs', 'onnx', 'tflite'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const ExportMetadataSchema = z.object({
  format: z.enum(EXPORT_FORMATS),
  quantize: z.string().min(1),
  inputSize: z.number().int().positive(),
  layout: z.literal('NHWC'),
  range: z.tuple([z.literal(0), z.literal(255)]),
  classes: z.array(z.string().min(1)).min(2),
  /** The run (or teacher / folder) name it was exported from. */
  run: z.string(),
  valAccuracy: z.number().min(0).max(1).nullable(),
});
export type ExportMetadata = z.infer<typeof ExportMetadataSchema>;

export const METADATA_FILE = 'metadata.json';
export const LABELS_FILE = 'labels.txt';

/** A file the format writes into the folder, by its name there. */
export interface ExportFile {
  name: string;
  data: Uint8Array | string;
}

/**
 * Writes `files` + labels.txt + metadata.json as the folder `dir`, replacing an earlier export there.
 * A non-empty folder that is not an export (no metadata.json) is refused, never overwritten.
 * Returns the absolute paths written.
 */
export async function writeExportFolder(dir: string, files: ExportFile[], metadata: ExportMetadata): Promise<string[]> {
  const meta = ExportMetadataSchema.parse(metadata);
  const out = path.resolve(dir);
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new Error(`${out}: exists and is not a folder`);
    const entries = fs.readdirSync(out);
    if (entries.length > 0 && !entries.includes(METADATA_FILE)) {
      throw new Error(`${out}: folder is not empty and holds no earlier export (${METADATA_FILE}); choose an empty or new --out folder`);
    }
  }
  const names = [...files.map((f) => f.name), LABELS_FILE, METADATA_FILE];
  for (const f of files) {
    if (f.name !== path.basename(f.name) || f.name === LABELS_FILE || f.name === METADATA_FILE) throw new Error(`export file name "${f.name}" is not allowed`);
  }
  if (meta.classes.some((c) => /[\r\n]/.test(c))) throw new Error('a class name holds a line break: labels.txt needs one class per line');
  await writeDirAtomic(out, (tmp) => {
    for (const f of files) fs.writeFileSync(path.join(tmp, f.name), f.data);
    fs.writeFileSync(path.join(tmp, LABELS_FILE), `${meta.classes.join('\n')}\n`);
    fs.writeFileSync(path.join(tmp, METADATA_FILE), `${JSON.stringify(meta, null, 2)}\n`);
  });
  return names.map((n) => path.join(out, n));
}

/** metadata.json of an export folder, validated; the error names the file and the problem. */
export function readExportMetadata(dir: string): ExportMetadata {
  const file = path.join(path.resolve(dir), METADATA_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${err instanceof SyntaxError ? `not valid JSON (${err.message})` : 'cannot be read'}`);
  }
  const r = ExportMetadataSchema.safeParse(raw);
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
