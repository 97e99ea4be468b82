// sweeps.*: start a sweep as one trainer child (`distill sweep --config FILE --grid …`), list and read
// sweeps for the Compare page. The child's runs are followed live like any run.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expandSweep, type SweepGrid } from '../../shared/sweep.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { HandlerGroup, ServiceContext } from './context.js';
import type { RunMonitor } from './run-monitor.js';
import { ApiError } from './types.js';

type SweepMethods = 'sweeps.list' | 'sweeps.get' | 'sweeps.start';

const ACTIVE = new Set(['queued', 'running', 'paused']);

/** The grid as `--grid` flags: every value as JSON, which the CLI reads back as the same value. */
export function gridFlags(grid: SweepGrid): string[] {
  return grid.flatMap((a) => ['--grid', `${a.path}=${a.values.map((v) => JSON.stringify(v)).join(',')}`]);
}

export function sweepHandlers(ctx: ServiceContext, monitor: RunMonitor): HandlerGroup<SweepMethods> {
  const { store, jobs } = ctx;
  const requireSweep = (id: number) => {
    const s = store.sweeps.getSweep(id);
    if (!s) throw new ApiError(`sweep ${id} not found`, 404);
    return s;
  };

  /** After the child exits: runs it left active and a sweep it left running were interrupted. */
  const afterExit = (sweepId: number | null, message: string): void => {
    if (sweepId === null) return;
    try {
      for (const r of store.sweeps.sweepDetail(sweepId).runs) {
        if (ACTIVE.has(r.status)) store.runs.setRunStatus(r.run, 'failed', message || 'the trainer exited without finishing the run');
        monitor.unwatch(r.run);
      }
      if (store.sweeps.requireSweep(sweepId).status === 'running') store.sweeps.setSweepStatus(sweepId, 'failed', message || 'the sweep process exited');
      monitor.poll();
    } catch (e) {
      process.stderr.write(`distill: after sweep exit: ${(e as Error).message}\n`);
    }
  };

  return {
    'sweeps.list': () => store.sweeps.listSweeps(),
    'sweeps.get': ({ id }) => {
      requireSweep(id);
      return store.sweeps.sweepDetail(id);
    },
    'sweeps.start': ({ config, grid }) => {
      if (store.datasets.findDatasetId(config.dataset) === null) throw new ApiError(`dataset "${config.dataset}" not found`, 404);
      if (config.teacher !== undefined && store.teachers.findTeacherId(config.teacher) === null) {
        throw new ApiError(`teacher "${config.teacher}" not found`, 404);
      }
      try {
        expandSweep(config, grid); // every point valid before a process starts
      } catch (e) {
        throw new ApiError((e as Error).message, 400);
      }
      const file = path.join(ctx.home, 'tmp', `sweep-config-${randomUUID()}.json`);
      writeFileAtomic(file, JSON.stringify(config, null, 2));
      return new Promise((resolve, reject) => {
        let sweepId: number | null = null;
        jobs.spawnCli('run', ['sweep', '--config', file, ...gridFlags(grid)], {
          onRun: (runId) => {
            monitor.watch(runId);
            if (sweepId === null) {
              sweepId = store.sweeps.sweepOfRun(runId);
              if (sweepId !== null) resolve(store.sweeps.requireSweep(sweepId));
            }
          },
          onExit: (info) => {
            fs.rmSync(file, { force: true });
            if (sweepId === null) reject(new ApiError(info.message || 'the sweep exited before its first run', 400));
            else afterExit(sweepId, info.status === 'done' ? '' : info.message);
          },
        });
      });
    },
  };
}
