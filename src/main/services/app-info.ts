// app.info: version, home, and the compute backend a trainer gets here. The probe runs in a CLI child
// (`distill --version --json`) once: loading tfjs into the server itself would cost it hundreds of MB.
import { BackendReport } from '../../shared/domain.js';
import { VERSION } from '../cli/version.js';
import type { HandlerGroup, ServiceContext } from './context.js';

const UNKNOWN: BackendReport = { active: 'unknown', threads: 0, simd: null, forcedBy: null, candidates: [] };

export function appInfoHandlers(ctx: ServiceContext): HandlerGroup<'app.info'> {
  let probe: Promise<BackendReport> | null = null;
  const probeBackend = (): Promise<BackendReport> => {
    probe ??= (async () => {
      const job = ctx.jobs.spawnCli('eval', ['--version'], { untracked: true });
      const done = await ctx.jobs.wait(job.id);
      const found = findReport(done.result);
      if (!found) {
        probe = null; // try again next time (the CLI may have been mid-install)
        return { ...UNKNOWN, candidates: [{ name: 'unknown', available: false, reason: done.status === 'done' ? 'the CLI did not report a backend' : done.message }] };
      }
      return found;
    })();
    return probe;
  };
  return {
    'app.info': async () => ({ version: VERSION, backend: await probeBackend(), home: ctx.home }),
  };
}

/** The report itself, or under a `backend` key. */
function findReport(result: unknown): BackendReport | null {
  const direct = BackendReport.safeParse(result);
  if (direct.success) return direct.data;
  if (result && typeof result === 'object' && 'backend' in result) {
    const nested = BackendReport.safeParse((result as { backend: unknown }).backend);
    if (nested.success) return nested.data;
  }
  return null;
}
