// One export, written and then measured by the runtime its format targets (export-runner.ts) against
// the float TF.js student on labeled images. The same path serves `distill export`, every cell of
// `distill export --all`, and the Export page; the job layer stores what this returns.
import path from 'node:path';
import { agreementFloor, type ExportMeasure } from '../../../shared/export-record.js';
import { loadModelDir } from '../model-io.js';
import { layersPredictor, predictProbs, type PredictItem, type Predictions } from '../predict.js';
import type { ExportFormat } from './export-folder.js';
import type { ExportQuantize } from './export-metadata.js';
import { writeExport, type ExportSource, type WrittenExport } from './export-format.js';
import { openExportFolder } from './export-runner.js';
import { checkExport } from './check-export.js';

export interface CheckedExport {
  written: WrittenExport;
  measure: ExportMeasure;
}

/** The float TF.js student's predictions on `items`: what every export of it is compared with. */
export async function studentReference(src: ExportSource, items: PredictItem[]): Promise<Predictions> {
  const student = await loadModelDir(src.dir);
  try {
    return await predictProbs(layersPredictor(student, src.inputSize), items);
  } finally {
    student.dispose();
  }
}

/** `data.reference`: studentReference(src, data.val) when the caller checks several exports of one student. */
export async function exportAndCheck(
  src: ExportSource,
  outDir: string,
  format: ExportFormat,
  quantize: ExportQuantize,
  data: { calibration: PredictItem[]; val: (PredictItem & { label: string })[]; reference?: Predictions },
  onStage?: (stage: 'write' | 'check') => void,
): Promise<CheckedExport> {
  onStage?.('write');
  const written = await writeExport(src, path.resolve(outDir), format, quantize, data.calibration);
  if (data.val.length === 0) {
    const measure = { bytes: written.bytes, n: 0, accuracy: null, agreement: null, maxAbsDiff: null, msPerImage: null, warning: 'not checked: no labeled images (the run has no val split; pass --data DIR)' };
    return { written, measure };
  }
  onStage?.('check');
  const reference = data.reference ?? (await studentReference(src, data.val));
  const opened = await openExportFolder(written.dir);
  try {
    const check = await checkExport(opened.runner, reference, src.classes, data.val);
    const floor = agreementFloor(quantize);
    const file = `${path.basename(written.files.find((f) => /model\.(onnx|tflite|json)$/.test(f)) ?? written.dir)} (${format}, ${quantize})`;
    const warning =
      check.n === 0
        ? `${file}: none of the ${data.val.length} labeled images could be read, so nothing was checked`
        : check.agreement < floor
          ? `${file} agrees with the float student on only ${(check.agreement * 100).toFixed(1)}% of ${check.n} images (expected ≥ ${(floor * 100).toFixed(1)}%)`
          : null;
    return { written, measure: { bytes: written.bytes, n: check.n, accuracy: check.accuracy, agreement: check.agreement, maxAbsDiff: check.maxAbsDiff, msPerImage: check.msPerImage, warning } };
  } finally {
    await opened.close();
  }
}
