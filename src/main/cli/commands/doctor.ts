// `distill doctor` / `distill --version`: the version and the compute backends — which one is active,
// with how many threads, and why each better one is not.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { VERSION } from '../version.js';
import { initBackend } from '../../engine/backend/select.js';

const Flags = z.object({ home: z.string().optional(), json: z.boolean().optional(), version: z.boolean().optional() });

export const doctorCommand: Command = {
  ...commandInfo('doctor'),
  async run(args, out) {
    const { values } = parseFlags(args, { version: { type: 'boolean' } }, Flags);
    void values;
    const b = await initBackend();
    const lines = [
      `distill ${VERSION} (node ${process.version})`,
      `backend: ${b.active}, ${b.threads} thread(s)${b.simd == null ? '' : b.simd ? ', SIMD' : ', no SIMD'}${b.forcedBy ? ` (forced by ${b.forcedBy})` : ''}`,
      ...b.candidates.map((c) => `  ${c.available ? '✓' : '✗'} ${c.name.padEnd(15)} ${c.reason ?? (c.name === b.active ? 'active' : '')}`),
    ];
    out.result({ version: VERSION, node: process.version, backend: b }, lines.join('\n'));
    return 0;
  },
};
