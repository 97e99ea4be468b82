// `distill run --config FILE` (or the same fields as flags), and `distill run --resume RUN`.
import fs from 'node:fs';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, numArg, parseFlags } from '../command.js';
import { CliError, type Output } from '../output.js';
import { openStore } from '../open-store.js';
import { RunConfig, ARCHS, FEATURE_LOSS_KINDS, METHODS, defaultRunConfig, type Method, type RunConfigInput } from '../../../shared/run-config.js';
import { parseParamBudget } from '../../engine/recipe/choose.js';
import type { Store } from '../../store/index.js';
import { DB_FILE } from '../../store/db.js';
import { RunWatchdog } from '../../jobs/run-watchdog.js';
import { startInterruptGuard } from '../../jobs/interrupt-guard.js';
import path from 'node:path';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  config: z.string().optional(),
  resume: z.string().optional(),
  name: z.string().optional(),
  dataset: z.string().optional(),
  method: z.enum(METHODS).optional(),
  teacher: z.string().optional(),
  arch: z.enum(ARCHS).optional(),
  width: numArg(z.number().positive()).optional(),
  size: intArg().optional(),
  epochs: intArg().optional(),
  batch: intArg().optional(),
  lr: numArg(z.number().positive()).optional(),
  seed: intArg().optional(),
  temperature: numArg(z.number().positive()).optional(),
  alpha: numArg(z.number().min(0)).optional(),
  beta: numArg(z.number().min(0)).optional(),
  gamma: numArg(z.number().min(0)).optional(),
  'dkd-warmup': numArg(z.number().min(0)).optional(),
  divergence: z.enum(['js', 'symkl']).optional(),
  peers: intArg().optional(),
  'no-labels': z.boolean().optional(),
  'no-unlabeled': z.boolean().optional(),
  'per-class': intArg().optional(),
  'teacher-cache': z.enum(['off', 'views']).optional(),
  'teacher-views': intArg().optional(),
  mixup: z.boolean().optional(),
  from: z.string().min(1).optional(),
  slim: z.string().min(1).optional(),
  'feature-layer': z.string().min(1).optional(),
  'feature-weight': numArg(z.number().min(0)).optional(),
  'feature-loss': z.enum(FEATURE_LOSS_KINDS).optional(),
  'hint-weight': numArg(z.number().min(0)).optional(),
  'hint-layers': z.string().min(1).optional(),
  params: z.string().optional(),
  minutes: numArg(z.number().positive()).optional(),
  backbone: z.string().min(1).optional(),
});
type Flags = z.infer<typeof Flags>;

function configFromFlags(f: Flags): RunConfigInput {
  let base: Record<string, unknown> = {};
  if (f.config) {
    try {
      base = JSON.parse(fs.readFileSync(f.config, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`--config ${f.config}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const pick = <T>(v: T | undefined, fallback: unknown) => (v === undefined ? fallback : v);
  if ([f.arch, f.from, f.slim].filter(Boolean).length > 1) throw new CliError('give one of --arch, --from and --slim', 2);
  let student = { ...((base.student as object) ?? {}) } as Record<string, unknown>;
  // A student kind named by a flag replaces the config file's student of another kind.
  if (f.arch) student = { arch: f.arch, width: 'arch' in student ? student.width : undefined, inputSize: student.inputSize };
  if (f.from) student = { from: f.from, inputSize: student.inputSize };
  if (f.slim) student = { slim: f.slim, width: 'slim' in student ? student.width : undefined, inputSize: student.inputSize };
  if (f.width) student.width = f.width;
  if (f.size) student.inputSize = f.size;
  if (f['feature-layer']) student.featureLayer = f['feature-layer'];
  if (!('from' in student) && !('slim' in student)) student.arch ??= 'mobilenet_v2';
  if (student.arch === 'mobilenet_v2') student.width ??= 0.35;
  if ('slim' in student) student.width ??= 0.25;
  student.inputSize ??= 96;
  const data = { ...((base.data as object) ?? {}) } as Record<string, unknown>;
  if (f['no-labels']) data.useLabels = false;
  if (f['no-unlabeled']) data.useUnlabeled = false;
  if (f['per-class']) data.mining = { perClass: f['per-class'] };
  if (f.mixup) data.augment = { ...((data.augment as object) ?? {}), mixup: true };
  const method = pick(f.method, base.method);
  if (method === 'ce' || method === 'kd') data.useUnlabeled ??= false;
  if (method === 'ssld' && f['no-labels']) data.useLabels = false;
  // The method's own starting point (the New run form's), then the config file, then the flags.
  const methodLoss = method && (METHODS as readonly string[]).includes(String(method)) ? (defaultRunConfig(method as Method, '').loss ?? {}) : {};
  const loss = { ...methodLoss, ...((base.loss as object) ?? {}) } as Record<string, unknown>;
  if (f.temperature) loss.temperature = f.temperature;
  if (f.alpha !== undefined) loss.alpha = f.alpha;
  if (f.beta !== undefined) loss.beta = f.beta;
  if (f.gamma !== undefined) loss.gamma = f.gamma;
  if (f['dkd-warmup'] !== undefined) loss.dkdWarmupEpochs = f['dkd-warmup'];
  if (f.divergence) loss.divergence = f.divergence;
  if (f['feature-weight'] !== undefined || f['feature-loss']) {
    loss.feature = { ...((loss.feature as object) ?? {}), ...(f['feature-weight'] !== undefined && { weight: f['feature-weight'] }), ...(f['feature-loss'] && { kind: f['feature-loss'] }) };
  }
  if (f['hint-weight'] !== undefined || f['hint-layers']) {
    const layers = f['hint-layers']?.split(',').map((l) => l.trim()).filter(Boolean);
    loss.hint = { ...((loss.hint as object) ?? {}), ...(f['hint-weight'] !== undefined && { weight: f['hint-weight'] }), ...(layers && { layers }) };
  }
  const optim = { ...((base.optim as object) ?? {}) } as Record<string, unknown>;
  if (f.lr) optim.lr = f.lr;
  let peers = base.peers;
  if (f.peers) peers = Array.from({ length: f.peers }, () => ({ ...student }));
  if ((method === 'dml' || method === 'udml') && !peers) peers = [{ ...student }];
  return {
    ...base,
    name: pick(f.name, base.name ?? `${String(method ?? 'run')}-${Date.now().toString(36)}`),
    dataset: pick(f.dataset, base.dataset),
    method,
    teacher: pick(f.teacher, base.teacher),
    student,
    peers,
    data,
    loss,
    optim,
    epochs: pick(f.epochs, base.epochs ?? 10),
    batchSize: pick(f.batch, base.batchSize),
    seed: pick(f.seed, base.seed),
    teacherCache: pick(f['teacher-cache'], base.teacherCache),
    teacherViews: pick(f['teacher-views'], base.teacherViews),
  } as RunConfigInput;
}

/** The run's log: what the watchdog saw when it stalled (phase, epoch, step, the stuck stack). */
export function runLogFile(home: string, runId: number): string {
  return path.join(home, 'runs', String(runId), 'run.log');
}

export async function startRun(store: Store, out: Output, runRef: number | string, resume: boolean): Promise<number> {
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const rec = store.runs.requireRun(runRef);
  const logFile = runLogFile(store.home, rec.id);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  // Both live outside the main thread's event loop: they act even while a step is stuck inside WASM.
  const watchdog = new RunWatchdog({ dbFile: path.join(store.home, DB_FILE), runId: rec.id, runName: rec.name, logFile });
  const guard = startInterruptGuard(rec.id);
  try {
    // Loaded here, after the run row exists and its id is printed: tfjs takes seconds to import.
    const { executeRun } = await import('../../jobs/run-job.js');
    const outcome = await executeRun(store, runRef, {
      resume,
      signal: ac.signal,
      liveness: watchdog,
      events: {
        progress: (done, total, message) =>
          out.event({ type: 'progress', phase: 'train', done, total, message }, `${message}: step ${done}/${total}`),
        info: (message) => out.event({ type: 'info', message }, message),
        epoch: (epoch, valAccuracy, wallSeconds) =>
          out.event({ type: 'epoch', epoch, valAccuracy, wallSeconds }, `epoch ${epoch}: val accuracy ${fmt(valAccuracy)} after ${wallSeconds.toFixed(0)} s`),
      },
    });
    const result = {
      run: outcome.run.id,
      name: outcome.run.name,
      valAccuracy: outcome.valAccuracy,
      bestValAccuracy: outcome.run.bestValAccuracy,
      epochs: outcome.epochs,
      backend: outcome.backend.active,
      threads: outcome.backend.threads,
      imgPerSec: outcome.imgPerSec,
    };
    out.result(
      result,
      `run ${result.run} "${result.name}": val accuracy ${fmt(result.valAccuracy)} (best ${fmt(result.bestValAccuracy)}) after ${result.epochs} epochs, ` +
        `${result.imgPerSec?.toFixed(1) ?? '?'} img/s on ${result.backend} (${result.threads} thread(s))`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await watchdog.stop();
    guard.stop();
  }
}

const fmt = (v: number | null | undefined) => (v == null ? '—' : (v * 100).toFixed(1) + '%');

export const runCommand: Command = {
  ...commandInfo('run'),
  details:
    'Flags: --arch refnet|mobilenet_v2|resnet18 --width W --size S --epochs E --batch B --lr LR --seed N --temperature T --alpha A\n' +
    '       --divergence js|symkl --peers K (dml) --no-labels --no-unlabeled --per-class K (train on the latest mining)\n' +
    '       --beta B (dml/udml: peers; dkd: NCKD; dist: inter-class; fitnets: hint; rkd: distance; at: attention) --gamma G (dist: intra-class;\n' +
    '       rkd: angle; udml: peer features) --dkd-warmup E (dkd: epochs to full weight); each method starts from its own defaults\n' +
    '       --alpha A (kd: soft-term weight in [0,1]; dkd: TCKD weight; wsl: soft-term weight)\n' +
    '       --teacher-cache views|off (views: the teacher labels fixed crops of each image once, reused by later runs)\n' +
    '       --teacher-views V (crops per image, default min(epochs, 4): more views, less memorizing on long runs)\n' +
    '       --mixup (blend each image with another of its batch, the teacher labelling the blend; needs --teacher-cache off)\n' +
    'Pretrained students: --from MODEL (a TF.js layers model.json or bundled backbone, cut at --feature-layer L, default its last pooling)\n' +
    '       --slim MODEL --width W (network slimming: each layer keeps the fraction W of its channels with the largest BatchNorm |γ|)\n' +
    'Feature distillation: --feature-weight W --feature-loss mse|cosine (student features → adapter → the teacher\'s pooled features; part feat)\n' +
    '       the feature methods read a TF.js layers or an ONNX teacher (graph values as extra outputs; loss.featureLayers names others)\n' +
    'Hints: --hint-weight W [--hint-layers a,b,c] (a --from/--slim student\'s intermediate maps regress the same layers of a teacher\n' +
    '       built on its backbone, at the channels it kept; part hint; default layers: the ends of the three smallest stages; teacher live)\n' +
    'Default recipe: an ssld run with a teacher and no student named (no --arch/--from/--slim) measures candidate students here and picks\n' +
    '       the strongest that fits --params N (default 0.5M) and --minutes M (default 20): slimmed --backbone B (default: the bundled\n' +
    '       one if installed) else mobilenet_v2; it sets the student and epochs (unless --epochs).\n' +
    'Ctrl-C marks the run cancelled and keeps its checkpoints (a trainer that cannot stop within 10 s is ended: interrupted);\n' +
    '--resume RUN continues from the last checkpoint. A watchdog ends a run with no progress for max(60 s, 20 × the median\n' +
    'step time) (5 min before steps are timed): the run is marked stalled, where it hung goes to <home>/runs/RUN/run.log.\n' +
    'Env: DISTILL_STALL_SECONDS (the 60 s minimum), DISTILL_INTERRUPT_GRACE_SECONDS (the 10 s grace).',
  async run(args, out) {
    const { values } = parseFlags(
      args,
      {
        config: { type: 'string' }, resume: { type: 'string' }, name: { type: 'string' }, dataset: { type: 'string' },
        method: { type: 'string' }, teacher: { type: 'string' }, arch: { type: 'string' }, width: { type: 'string' },
        size: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
        seed: { type: 'string' }, temperature: { type: 'string' }, alpha: { type: 'string' }, divergence: { type: 'string' },
        beta: { type: 'string' }, gamma: { type: 'string' }, 'dkd-warmup': { type: 'string' },
        peers: { type: 'string' }, 'no-labels': { type: 'boolean' }, 'no-unlabeled': { type: 'boolean' }, 'per-class': { type: 'string' },
        'teacher-cache': { type: 'string' }, 'teacher-views': { type: 'string' }, mixup: { type: 'boolean' }, from: { type: 'string' }, slim: { type: 'string' }, 'feature-layer': { type: 'string' },
        'feature-weight': { type: 'string' }, 'feature-loss': { type: 'string' }, 'hint-weight': { type: 'string' }, 'hint-layers': { type: 'string' }, params: { type: 'string' }, minutes: { type: 'string' },
        backbone: { type: 'string' },
      },
      Flags,
    );
    const store = openStore(values.home);
    try {
      if (values.resume) {
        const run = store.runs.getRun(/^\d+$/.test(values.resume) ? Number(values.resume) : values.resume);
        if (!run) throw new CliError(`no run "${values.resume}"`);
        if (run.status === 'completed') throw new CliError(`run "${run.name}" is already completed`);
        out.event({ type: 'run', run: run.id }, `resuming run ${run.id} "${run.name}"`);
        return await startRun(store, out, run.id, true);
      }
      const input = configFromFlags(values);
      const fileConfig = values.config ? (JSON.parse(fs.readFileSync(values.config, 'utf8')) as Record<string, unknown>) : {};
      const studentNamed = Boolean(values.arch || values.from || values.slim || fileConfig.student);
      // No student named for an SSLD run with a teacher: the default recipe picks one for the budget.
      if (!studentNamed && input.method === 'ssld' && input.teacher && input.dataset) {
        const { runRecipe } = await import('./run-recipe.js');
        let maxParams: number;
        try {
          maxParams = parseParamBudget(values.params ?? '0.5M');
        } catch (err) {
          throw new CliError(err instanceof Error ? err.message : String(err), 2);
        }
        const plan = await runRecipe(store, out, {
          dataset: input.dataset,
          teacher: input.teacher,
          maxParams,
          minutes: values.minutes ?? 20,
          backbone: values.backbone,
          useLabels: input.data?.useLabels !== false,
          useUnlabeled: input.data?.useUnlabeled !== false,
        });
        input.student = plan.student;
        if (values.epochs === undefined && fileConfig.epochs === undefined) input.epochs = plan.epochs;
        // The plan's teacher pass, unless the config or flags chose one.
        if (input.teacherCache === undefined && input.teacherViews === undefined) input.teacherCache = plan.teacherCache;
        if (input.teacherCache !== 'off' && input.teacherViews === undefined && plan.views !== null) input.teacherViews = plan.views;
        const loss = { ...(input.loss ?? {}) };
        if (plan.feature && loss.feature === undefined) loss.feature = plan.feature;
        // Hints read the live teacher: only where the plan runs it live.
        if (plan.hint && loss.hint === undefined && input.teacherCache === 'off') loss.hint = plan.hint;
        input.loss = loss;
      }
      const parsed = RunConfig.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new CliError(`run config: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 2);
      }
      const config = parsed.data;
      const datasetId = store.datasets.requireDatasetId(/^\d+$/.test(config.dataset) ? Number(config.dataset) : config.dataset);
      const teacherId = config.teacher ? store.teachers.requireTeacher(config.teacher).id : null;
      const run = store.runs.createRun({ config, datasetId, teacherId });
      out.event({ type: 'run', run: run.id }, `run ${run.id} "${run.name}" created`);
      return await startRun(store, out, run.id, false);
    } finally {
      store.close();
    }
  },
};
