// `distill export RUN --format tfjs|onnx|tflite [--quantize none|float16|uint8] --out DIR`
import path from 'node:path';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { resolveModel } from '../../engine/model-ref.js';
import { exportTfjs } from '../../engine/export/export-model.js';
import { initBackend } from '../../engine/backend/select.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  format: z.enum(['tfjs', 'onnx', 'tflite']).default('tfjs'),
  quantize: z.enum(['none', 'float16', 'uint8']).default('none'),
  out: z.string({ message: 'is required' }),
});

export const exportCommand: Command = {
  ...commandInfo('export'),
  async run(args, out) {
    const { values, positionals } = parseFlags(args, { format: { type: 'string' }, quantize: { type: 'string' }, out: { type: 'string' } }, Flags);
    const ref = positionals[0];
    if (!ref) throw new CliError('export needs a RUN', 2);
    if (values.format !== 'tfjs') {
      throw new CliError(`--format ${values.format} is not available yet: export --format tfjs (TF.js runs on mobile through React Native / WebView), or convert the TF.js model with tensorflowjs_converter`);
    }
    const store = openStore(values.home);
    try {
      await initBackend();
      const m = resolveModel(store, ref);
      const r = await exportTfjs(m, path.resolve(values.out), values.quantize);
      out.result(
        { files: r.files, bytes: r.bytes, maxAbsDiff: r.maxAbsDiff, format: r.format, quantize: r.quantize },
        `exported ${m.kind} "${m.name}" to ${values.out}: ${r.files.map((f) => path.basename(f)).join(', ')} (${(r.bytes / 1024).toFixed(0)} KiB), max |diff| ${r.maxAbsDiff.toExponential(2)}`,
      );
      return 0;
    } finally {
      store.close();
    }
  },
};
