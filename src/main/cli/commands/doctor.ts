// `distill doctor` / `distill --version`: the version and the compute backends — which one is active,
// with how many threads, and why each better one is not.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { VERSION } from '../version.js';
import { initBackend } from '../../engine/backend/select.js';
import { cacheReport } from '../../engine/cache-report.js';
import { resolveHome } from '../../store/db.js';

const Flags = z.object({ home: z.string().optional(), json: z.boolean().optional(), version: z.boolean().optional() });

export const doctorCommand: Command = {
  ...commandInfo('doctor'),
  async run(args, out) {
    const { values } = parseFlags(args, { version: { type: 'boolean' } }, Flags);
    const b = await initBackend();
    const home = resolveHome(values.home);
    const caches = cacheReport(home);
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
    const lines = [
      `distill ${VERSION} (node ${process.version})`,
      `backend: ${b.active}, ${b.threads} thread(s)${b.simd == null ? '' : b.simd ? ', SIMD' : ', no SIMD'}${b.relaxedSimd ? `, relaxed SIMD ${b.relaxedSimd.reason}` : ''}${b.forcedBy ? ` (forced by ${b.forcedBy})` : ''}`,
      ...b.candidates.map((c) => `  ${c.available ? '✓' : '✗'} ${c.name.padEnd(15)} ${c.reason ?? (c.name === b.active ? 'active' : '')}`),
      `caches (${home}):`,
      ...caches.map((c) => `  ${c.name.padEnd(24)} ${c.bytes === null ? 'in-process' : `${mb(c.bytes)} in ${c.files} file(s)`}; bound ${c.bound} (${c.where})`),
    ];
    out.result({ version: VERSION, node: process.version, backend: b, home, caches }, lines.join('\n'));
    return 0;
  },
};
