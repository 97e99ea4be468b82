// Activation ranges for int8 export, measured by the runtime that will run the file: the float
// ONNX model, written with every computed value as an extra output, runs over calibration batches.
import type { ExportGraph, ValueName } from '../graph.js';
import { createSession, loadOrt } from '../../onnx/runtime.js';
import { exposedValueNames, writeOnnx, type ValueRange } from './write-onnx.js';

/** Min/max of every value the graph computes over `batches` (each NHWC [n,S,S,3] float32 in [0,255]). */
export async function onnxActivationRanges(graph: ExportGraph, batches: Iterable<Float32Array>): Promise<Record<ValueName, ValueRange>> {
  const ort = loadOrt();
  const session = await createSession(writeOnnx(graph, { quantize: 'none', exposeValues: true }));
  const names = exposedValueNames(graph);
  const ranges: Record<ValueName, ValueRange> = {};
  for (const v of names) ranges[v] = { min: Infinity, max: -Infinity };
  const s = graph.input.size;
  let seen = 0;
  try {
    for (const batch of batches) {
      const n = batch.length / (s * s * 3);
      if (!Number.isInteger(n) || n < 1) throw new Error(`calibration batch of ${batch.length} floats is not [n,${s},${s},3]`);
      const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', batch, [n, s, s, 3]) }, names);
      for (const v of names) {
        const data = out[v]!.data as Float32Array;
        const r = ranges[v]!;
        for (let i = 0; i < data.length; i++) {
          const x = data[i]!;
          if (x < r.min) r.min = x;
          if (x > r.max) r.max = x;
        }
      }
      seen += n;
    }
  } finally {
    await session.release();
  }
  if (seen === 0) throw new Error('int8 calibration needs at least one image');
  return ranges;
}
