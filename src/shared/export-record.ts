// A measured export of a run's student, as the store keeps it and the API carries it. A "check" is one
// cell of the Export page's format × quantization table (written to a scratch folder, measured by its
// runtime, then removed); an "export" is a folder the user asked for, kept where it was written.
import { z } from 'zod';

export const EXPORT_FORMATS = ['tfjs', 'onnx', 'tflite'] as const;
export const ExportFormatName = z.enum(EXPORT_FORMATS);
export const EXPORT_QUANTIZATIONS = ['none', 'float16', 'int8'] as const;
export const ExportQuantizeName = z.enum(EXPORT_QUANTIZATIONS);

export const ExportKind = z.enum(['check', 'export']);
export type ExportKind = z.infer<typeof ExportKind>;

/** What the runtime measured on the labeled images (absent when there were none to check on). */
export const ExportMeasure = z.object({
  bytes: z.number().int().nonnegative(),
  /** Images the runtime ran. */
  n: z.number().int().nonnegative(),
  accuracy: z.number().nullable(),
  /** Share of images where the file's top-1 equals the float student's. */
  agreement: z.number().nullable(),
  maxAbsDiff: z.number().nullable(),
  msPerImage: z.number().nullable(),
  /** Set when the agreement is below the floor for its quantization, or when nothing was checked. */
  warning: z.string().nullable(),
});
export type ExportMeasure = z.infer<typeof ExportMeasure>;

export const ExportRecord = ExportMeasure.extend({
  id: z.number().int(),
  runId: z.number().int(),
  kind: ExportKind,
  format: ExportFormatName,
  quantize: ExportQuantizeName,
  /** The folder (exports only; a check's scratch folder is gone). */
  dir: z.string().nullable(),
  createdAt: z.string(),
});
export type ExportRecord = z.infer<typeof ExportRecord>;

/** The least top-1 agreement with the float student that passes: a float file must match it almost everywhere. */
export function agreementFloor(quantize: z.infer<typeof ExportQuantizeName>): number {
  return quantize === 'int8' ? 0.98 : 0.999;
}
