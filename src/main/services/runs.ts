// runs.*: start a run as a trainer child (`distill run --config FILE`), control it through the runs
// table, read its metrics, confusion, comparison and agreement with its teacher.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Confusion, RunRecord } from '../../shared/domain.js';
import type { ImageRow } from '../../shared/api.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';
import { configDiff } from '../../shared/config-diff.js';
import { etaSeconds, stepsPerEpochFrom, type StepSample } from './eta.js';
import { pidAlive } from '../util/pid-alive.js';
import type { RunMonitor } from './run-monitor.js';
import type { JobInfo } from '../../shared/api.js';

type RunMethods =
  | 'runs.list'
  | 'runs.get'
  | 'runs.start'
  | 'runs.pause'
  | 'runs.resume'
  | 'runs.cancel'
  | 'runs.metrics'
  | 'runs.confusion'
  | 'runs.compare'
  | 'runs.agreement'
  | 'runs.export'
  | 'runs.exportCheck'
  | 'runs.plan'
  | 'runs.exports';

const ACTIVE = new Set<RunRecord['status']>(['queued', 'running', 'paused']);

export function runHandlers(ctx: ServiceContext, monitor: RunMonitor): HandlerGroup<RunMethods> {
  const { store, jobs } = ctx;
  const requireRun = (ref: number | string): RunRecord => {
    const run = store.runs.getRun(ref);
    if (!run) throw new ApiError(`run "${ref}" not found`, 404);
    return run;
  };

  /** A trainer (ours or another process) is working on the run right now. */
  const trainerAlive = (run: RunRecord): boolean => {
    if (jobs.jobForRun(run.id)) return true;
    const pid = store.runs.getRunPid(run.id);
    return pid !== null && pidAlive(pid);
  };

  /**
   * Spawns the trainer and settles once the run row exists (its id), or rejects with the CLI's error
   * if it exits before. After that the child is on its own: a crash marks the run failed.
   */
  const spawnTrainer = (args: string[], knownRunId?: number, cleanup?: () => void): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      let runId = knownRunId;
      let settled = false;
      if (runId !== undefined) {
        monitor.watch(runId);
        settled = true;
        resolve(runId);
      }
      jobs.spawnCli('run', args, {
        onRun: (id) => {
          runId = id;
          monitor.watch(id);
          if (!settled) {
            settled = true;
            resolve(id);
          }
        },
        onExit: (info, detail) => {
          cleanup?.();
          if (runId === undefined) {
            if (!settled) reject(new ApiError(info.message || `the trainer exited with code ${detail.code}`, 400));
            return;
          }
          afterTrainerExit(runId, info, detail);
        },
      });
    });

  const afterTrainerExit = (runId: number, info: JobInfo, detail: { signal: NodeJS.Signals | null }): void => {
    try {
      let run = store.runs.getRun(runId);
      if (!run) return;
      // The trainer is gone, so an unsettled run reads 'interrupted': settle it with what its exit says.
      if (ACTIVE.has(run.status) || run.status === 'interrupted') {
        // Killed by a signal we did not send (kill -9, the OOM killer): interrupted, resumable from the last checkpoint.
        if (info.status === 'failed' && detail.signal) run = store.runs.setRunStatus(runId, 'interrupted', info.message);
        else if (info.status === 'failed') run = store.runs.setRunStatus(runId, 'failed', info.message);
        else if (info.status === 'cancelled') run = store.runs.setRunStatus(runId, 'cancelled');
        else run = store.runs.setRunStatus(runId, 'failed', 'the trainer exited without finishing the run');
      }
      store.runControl.setRunControl(runId, null);
      monitor.poll();
      monitor.unwatch(runId);
      monitor.emitStatusIfChanged(run);
    } catch (e) {
      process.stderr.write(`distill: after trainer exit: ${(e as Error).message}\n`);
    }
  };

  const eta = (run: RunRecord): number | null => {
    if (run.status !== 'running') return null;
    const job = jobs.jobForRun(run.id);
    if (job) {
      const p = jobs.lastProgress(job.id);
      if (p && p.phase === 'train' && p.total > 0) return etaSeconds(jobs.samples(job.id), p.total);
    }
    // Not ours: steps per epoch from the epoch rows, rate from the recent step rows.
    const epochRows = store.db
      .prepare(`SELECT step, epoch FROM metrics WHERE run_id = ? AND scope = 'epoch' ORDER BY id DESC LIMIT 1`)
      .all(run.id) as { step: number; epoch: number }[];
    const perEpoch = stepsPerEpochFrom(epochRows);
    if (perEpoch === null) return null;
    const recent = (
      store.db
        .prepare(`SELECT MAX(step) AS step, MAX(time) AS t FROM metrics WHERE run_id = ? AND scope = 'step' GROUP BY step ORDER BY step DESC LIMIT 200`)
        .all(run.id) as { step: number; t: number }[]
    ).reverse();
    const samples: StepSample[] = recent.map((r) => ({ t: r.t, done: r.step + 1 }));
    return etaSeconds(samples, perEpoch * run.config.epochs);
  };

  const classesOf = (run: RunRecord): string[] => store.runs.getRunClasses(run.id) ?? store.datasets.datasetClasses(run.datasetId);
  const confusionOf = (run: RunRecord): Confusion | null => store.runPredictions.runConfusion(run.id, classesOf(run));

  return {
    'runs.list': () => store.runs.listRuns(),

    'runs.get': ({ id }) => {
      const run = requireRun(id);
      return { run, checkpoints: store.checkpoints.listCheckpoints(run.id), etaSeconds: eta(run) };
    },

    'runs.start': async ({ config }) => {
      if (store.datasets.findDatasetId(config.dataset) === null) throw new ApiError(`dataset "${config.dataset}" not found`, 404);
      if (config.teacher !== undefined && store.teachers.findTeacherId(config.teacher) === null) {
        throw new ApiError(`teacher "${config.teacher}" not found`, 404);
      }
      if (store.runs.findRunId(config.name) !== null) throw new ApiError(`a run named "${config.name}" already exists`, 409);
      const file = path.join(ctx.home, 'tmp', `run-config-${randomUUID()}.json`);
      writeFileAtomic(file, JSON.stringify(config, null, 2));
      const runId = await spawnTrainer(['run', '--config', file], undefined, () => fs.rmSync(file, { force: true }));
      return store.runs.requireRun(runId);
    },

    'runs.pause': ({ id }) => {
      const run = requireRun(id);
      if (!ACTIVE.has(run.status)) throw new ApiError(`run "${run.name}" is ${run.status}; only an active run can be paused`, 409);
      store.runControl.setRunControl(run.id, 'pause');
      return store.runs.requireRun(run.id);
    },

    'runs.resume': async ({ id }) => {
      const run = requireRun(id);
      if (run.status === 'completed') throw new ApiError(`run "${run.name}" is already completed`, 409);
      if (ACTIVE.has(run.status) && trainerAlive(run)) {
        // Paused (or about to pause): the trainer waits on the control column.
        store.runControl.setRunControl(run.id, null);
        return store.runs.requireRun(run.id);
      }
      // Cancelled, failed, or active with no trainer left: continue from the last checkpoint.
      store.runControl.setRunControl(run.id, null);
      // The old trainer's pid goes with it, or the queued run would read as interrupted until the new one starts.
      store.runs.updateRun(run.id, { pid: null });
      store.runs.setRunStatus(run.id, 'queued', null);
      await spawnTrainer(['run', '--resume', String(run.id)], run.id);
      const now = store.runs.requireRun(run.id);
      monitor.emitStatusIfChanged(now);
      return now;
    },

    'runs.cancel': ({ id }) => {
      const run = requireRun(id);
      if (!ACTIVE.has(run.status)) throw new ApiError(`run "${run.name}" is ${run.status}; nothing to cancel`, 409);
      store.runControl.setRunControl(run.id, 'cancel');
      const job = jobs.jobForRun(run.id);
      // Ours: SIGINT as well, which also reaches a trainer still loading data (the CLI cancels on it).
      if (job) jobs.cancel(job.id);
      else if (!trainerAlive(run)) {
        const cancelled = store.runs.setRunStatus(run.id, 'cancelled');
        store.runControl.setRunControl(run.id, null);
        monitor.emitStatusIfChanged(cancelled);
        return cancelled;
      }
      return store.runs.requireRun(run.id);
    },

    'runs.metrics': ({ id, afterId }) => {
      const run = requireRun(id);
      return store.metrics.getMetrics(run.id, { afterId });
    },

    'runs.confusion': ({ id }) => confusionOf(requireRun(id)),

    'runs.compare': ({ ids }) => {
      const runs = ids.map(requireRun);
      return {
        runs,
        configDiff: configDiff(runs.map((r) => r.config)),
        confusions: runs.map(confusionOf),
      };
    },

    'runs.agreement': ({ id }) => {
      const run = requireRun(id);
      if (run.teacherId === null) throw new ApiError(`run "${run.name}" has no teacher to compare with`, 409);
      return agreement(ctx, run.id, run.teacherId);
    },

    'runs.export': ({ id, format, quantize }) => {
      const run = requireRun(id);
      if (run.status !== 'completed' && store.checkpoints.listCheckpoints(run.id).length === 0) {
        throw new ApiError(`run "${run.name}" has no checkpoint to export yet`, 409);
      }
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
      const out = path.join(ctx.home, 'exports', `${safeName(run.name)}-${format}-${quantize}-${stamp}`);
      return jobs.spawnCli('export', ['export', String(run.id), '--format', format, '--quantize', quantize, '--out', out]);
    },

    'runs.plan': ({ dataset, teacher, params, minutes, useLabels, useUnlabeled }) => {
      if (store.datasets.findDatasetId(dataset) === null) throw new ApiError(`dataset "${dataset}" not found`, 404);
      if (store.teachers.findTeacherId(teacher) === null) throw new ApiError(`teacher "${teacher}" not found`, 404);
      const args = ['recipe', '--dataset', dataset, '--teacher', teacher, '--params', params, '--minutes', String(minutes)];
      if (!useLabels) args.push('--no-labels');
      if (!useUnlabeled) args.push('--no-unlabeled');
      return jobs.spawnCli('recipe', args);
    },

    'runs.exportCheck': ({ id }) => {
      const run = requireRun(id);
      if (run.status !== 'completed' && store.checkpoints.listCheckpoints(run.id).length === 0) {
        throw new ApiError(`run "${run.name}" has no checkpoint to export yet`, 409);
      }
      return jobs.spawnCli('export', ['export', String(run.id), '--all']);
    },

    'runs.exports': ({ id }) => {
      const run = requireRun(id);
      return { checks: store.exports.latestChecks(run.id), exports: store.exports.listExports(run.id, 'export') };
    },
  };
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'run';
}

const DISAGREEMENTS_LIMIT = 500;

/** Student 0 vs the teacher, on every image both predicted: val, and the unlabeled pool. */
function agreement(ctx: ServiceContext, runId: number, teacherId: number) {
  const db = ctx.store.db;
  const counts = db
    .prepare(
      `SELECT i.role AS role, SUM(rp.label = tp.label) AS agree, COUNT(*) AS n
       FROM run_predictions rp
       JOIN teacher_predictions tp ON tp.image_id = rp.image_id AND tp.teacher_id = @teacher
       JOIN images i ON i.id = rp.image_id
       WHERE rp.run_id = @run AND rp.model = 0 GROUP BY i.role`,
    )
    .all({ run: runId, teacher: teacherId }) as { role: string; agree: number | null; n: number }[];
  const pick = (role: string) => {
    const r = counts.find((c) => c.role === role);
    return { agree: r?.agree ?? 0, n: r?.n ?? 0 };
  };
  const rows = db
    .prepare(
      `SELECT i.id, i.path, i.role, i.label, tp.label AS teacherLabel, tp.confidence AS teacherConfidence,
              rp.label AS predictedLabel, rp.confidence AS predictedConfidence, ms.image_id IS NOT NULL AS mined
       FROM run_predictions rp
       JOIN teacher_predictions tp ON tp.image_id = rp.image_id AND tp.teacher_id = @teacher
       JOIN images i ON i.id = rp.image_id
       LEFT JOIN mining_selections ms ON ms.image_id = i.id AND ms.mining_id =
         (SELECT m.id FROM minings m WHERE m.dataset_id = i.dataset_id AND m.teacher_id = @teacher ORDER BY m.id DESC LIMIT 1)
       WHERE rp.run_id = @run AND rp.model = 0 AND rp.label != tp.label
       ORDER BY MAX(rp.confidence, tp.confidence) DESC, i.path LIMIT ${DISAGREEMENTS_LIMIT}`,
    )
    .all({ run: runId, teacher: teacherId }) as (Omit<ImageRow, 'mined'> & { mined: number })[];
  return {
    run: runId,
    teacher: teacherId,
    val: pick('val'),
    unlabeled: pick('unlabeled'),
    disagreements: rows.map((r) => ({ ...r, mined: r.mined === 1 })),
  };
}
