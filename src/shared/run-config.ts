// The one validated object that drives a run (design.md "Run config"). Shared by CLI, services and UI.
import { z } from 'zod';

export const METHODS = ['ce', 'kd', 'ssld', 'dml', 'udml', 'dkd', 'dist', 'wsl', 'rkd', 'at', 'fitnets'] as const;
export type Method = (typeof METHODS)[number];
/**
 * Methods the engine trains; a new run with any other (a stored run of a method a later version
 * dropped, say) is refused by the schema with the reason below. Every listed method trains today.
 */
export const IMPLEMENTED_METHODS = ['ce', 'kd', 'ssld', 'dml', 'udml', 'dkd', 'dist', 'wsl', 'rkd', 'at', 'fitnets'] as const satisfies readonly Method[];
export type ImplementedMethod = (typeof IMPLEMENTED_METHODS)[number];
export const NOT_IMPLEMENTED_REASON = 'is not trained by this version of the engine';

export function isImplementedMethod(m: string): m is ImplementedMethod {
  return (IMPLEMENTED_METHODS as readonly string[]).includes(m);
}

export const ARCHS = ['refnet', 'mobilenet_v2', 'resnet18'] as const;
export type Arch = (typeof ARCHS)[number];

/** A built-in architecture trained from its seeded initialization. */
export const BuiltinStudentSpec = z.object({
  arch: z.enum(ARCHS),
  /** Width multiplier (mobilenet_v2: 0.35, 0.5, 1.0). */
  width: z.number().positive().max(2).optional(),
  inputSize: z.number().int().min(32).max(224),
});

/**
 * A pretrained TF.js layers model (a model.json path or a bundled backbone name) cut at a feature
 * layer (default: its last global pooling), with a new Dense head for the dataset's classes.
 */
export const PretrainedStudentSpec = z.object({
  from: z.string().min(1),
  featureLayer: z.string().min(1).optional(),
  inputSize: z.number().int().min(32).max(224),
});

/**
 * A narrower copy of a pretrained backbone: per layer, the channels with the largest BatchNorm |γ|
 * (network slimming), their weights copied. `width` is relative to the source backbone's width.
 */
export const SlimStudentSpec = z.object({
  slim: z.string().min(1),
  width: z.number().gt(0).max(1),
  featureLayer: z.string().min(1).optional(),
  inputSize: z.number().int().min(32).max(224),
});

export const StudentSpec = z.union([BuiltinStudentSpec, PretrainedStudentSpec, SlimStudentSpec]);
export type StudentSpec = z.infer<typeof StudentSpec>;
export type BuiltinStudentSpec = z.infer<typeof BuiltinStudentSpec>;
export type PretrainedStudentSpec = z.infer<typeof PretrainedStudentSpec>;
export type SlimStudentSpec = z.infer<typeof SlimStudentSpec>;

/** A short human label: `mobilenet_v2 ×0.35`, `from mobilenet_v1_075`, `slim mobilenet_v1_075 ×0.25`. */
export function studentLabel(s: StudentSpec): string {
  if ('arch' in s) return s.width ? `${s.arch} ×${s.width}` : s.arch;
  if ('from' in s) return `from ${shortSource(s.from)}`;
  return `slim ${shortSource(s.slim)} ×${s.width}`;
}

function shortSource(src: string): string {
  const parts = src.split(/[\\/]/).filter((p) => p && p !== 'model.json');
  return parts[parts.length - 1] ?? src;
}

export const FEATURE_LOSS_KINDS = ['mse', 'cosine'] as const;

/** Feature distillation: the student's pooled features, through a learned adapter, regress the teacher's. */
export const FeatureLoss = z.object({
  weight: z.number().min(0).default(1),
  kind: z.enum(FEATURE_LOSS_KINDS).default('mse'),
});

/**
 * Matched-channel hints: student 0's intermediate maps regress the teacher's maps of the same layers,
 * at the channels the student kept (a student cut or slimmed from the teacher's backbone).
 */
export const HintLoss = z.object({
  weight: z.number().min(0).default(1),
  /** Layer names shared by the student and the teacher; default: the last layer of each of the three smallest spatial stages. */
  layers: z.array(z.string().min(1)).min(1).max(8).optional(),
});

export const Temperature = z.union([
  z.number().positive(),
  z.object({ start: z.number().positive(), end: z.number().positive() }),
]);

/** Teacher views per image when a run names none (FKD's few fixed crops; never more than its epochs). */
export const DEFAULT_TEACHER_VIEWS = 4;
/** Most teacher views a run may ask for: one per epoch of a long run; the cache holds V rows per image. */
export const MAX_TEACHER_VIEWS = 64;

export const DIVERGENCES = ['js', 'symkl'] as const;

const RunConfigObject = z
  .object({
    name: z.string().min(1).max(120),
    dataset: z.string().min(1),
    method: z.enum(METHODS),
    teacher: z.string().min(1).optional(),
    student: StudentSpec,
    peers: z.array(StudentSpec).max(7).optional(),
    data: z
      .object({
        useLabels: z.boolean().default(true),
        useUnlabeled: z.boolean().default(true),
        /** Use a stored mining's selection (id or the newest for the teacher when omitted) instead of the whole pool. */
        mining: z
          .object({ perClass: z.number().int().positive(), minConfidence: z.number().min(0).max(1).default(0) })
          .optional(),
        augment: z
          .object({
            flip: z.boolean().default(true),
            cropScaleMin: z.number().min(0.05).max(1).default(0.5),
            /** Blend each image with another of its batch (λ ~ U(0, 1)), teacher and student on the same blend ("function matching"). Needs the teacher live. */
            mixup: z.boolean().default(false),
          })
          .prefault({}),
      })
      .prefault({}),
    loss: z
      .object({
        temperature: Temperature.default(1),
        /** KD: weight of the teacher term (1-alpha goes to CE, so ≤ 1); DKD: weight of TCKD; WSL: weight of the soft term. */
        alpha: z.number().min(0).max(100).default(0.9),
        /**
         * DML/UDML: weight of the peer divergence; DKD: weight of NCKD; DIST: weight of the inter-class
         * relation; FitNets: weight of the hint; RKD: weight of the distance relation; AT: weight of the attention term.
         */
        beta: z.number().min(0).max(10_000).default(1),
        /** DIST: weight of the intra-class relation; RKD: weight of the angle relation; UDML: weight of the peer feature distance. */
        gamma: z.number().min(0).max(10_000).default(1),
        /** DKD: epochs over which the DKD weight ramps linearly from 0 to 1 (0: none). */
        dkdWarmupEpochs: z.number().min(0).max(10_000).default(0),
        divergence: z.enum(DIVERGENCES).default('js'),
        /** Extra weight per named loss part, e.g. {"ce": 1, "ssld": 1}. */
        weights: z.record(z.string(), z.number().min(0)).optional(),
        /** Feature distillation into student 0 (part `feat`); needs a TF.js layers teacher with a Dense head. */
        feature: FeatureLoss.optional(),
        /** Matched-channel hints (part `hint`); needs a TF.js layers teacher built on the student's source backbone. Runs the teacher live. */
        hint: HintLoss.optional(),
        /**
         * The layers the feature methods read, by name (default: the input of the Dense head, or for AT
         * the last spatial stage). A spatial layer read as features is averaged over positions.
         */
        featureLayers: z.object({ student: z.string().min(1).optional(), teacher: z.string().min(1).optional() }).optional(),
      })
      .prefault({}),
    optim: z
      .object({
        name: z.enum(['adam', 'sgd', 'momentum']).default('adam'),
        lr: z.number().positive().max(10).default(0.002),
        schedule: z.enum(['cosine', 'step', 'constant']).default('cosine'),
        warmupEpochs: z.number().min(0).default(1),
        weightDecay: z.number().min(0).default(0),
      })
      .prefault({}),
    epochs: z.number().int().min(1).max(10_000),
    batchSize: z.number().int().min(1).max(1024).default(32),
    seed: z.number().int().min(0).default(0),
    teacherCache: z.enum(['off', 'views']).default('views'),
    /** Fixed crops per training image the cached teacher labels; default min(epochs, 4). More views, less memorizing of each. */
    teacherViews: z.number().int().min(1).max(MAX_TEACHER_VIEWS).optional(),
  });

type RunConfigShape = z.infer<typeof RunConfigObject>;

/** Rules between fields, true of any run ever stored. */
function checkConsistency(c: RunConfigShape, ctx: z.RefinementCtx): void {
  const needsTeacher = c.method !== 'ce' && c.method !== 'dml' && c.method !== 'udml';
  if (needsTeacher && !c.teacher) {
    ctx.addIssue({ code: 'custom', path: ['teacher'], message: `method "${c.method}" needs a teacher` });
  }
  if ((c.method === 'dml' || c.method === 'udml') && (!c.peers || c.peers.length === 0)) {
    ctx.addIssue({ code: 'custom', path: ['peers'], message: `method "${c.method}" needs at least one peer student` });
  }
  if ((c.method === 'ce' || c.method === 'kd') && !c.data.useLabels) {
    ctx.addIssue({ code: 'custom', path: ['data', 'useLabels'], message: `method "${c.method}" needs labels` });
  }
  if (c.method === 'ssld' && !c.data.useLabels && !c.data.useUnlabeled) {
    ctx.addIssue({ code: 'custom', path: ['data'], message: 'an SSLD run needs labeled or unlabeled images' });
  }
  if (c.loss.feature && !c.teacher) {
    ctx.addIssue({ code: 'custom', path: ['loss', 'feature'], message: 'feature distillation needs a teacher' });
  }
  if (c.loss.hint && !c.teacher) {
    ctx.addIssue({ code: 'custom', path: ['loss', 'hint'], message: 'hints need a teacher' });
  }
  if (c.loss.hint && !('from' in c.student || 'slim' in c.student)) {
    ctx.addIssue({ code: 'custom', path: ['loss', 'hint'], message: 'hints need a student cut (from) or slimmed (slim) from the teacher\'s backbone: its channels must be the teacher\'s' });
  }
  const readsFeatures = ['fitnets', 'rkd', 'at', 'udml'].includes(c.method) || c.loss.feature !== undefined;
  if (c.loss.featureLayers && !readsFeatures) {
    ctx.addIssue({ code: 'custom', path: ['loss', 'featureLayers'], message: `method "${c.method}" reads no features (fitnets, rkd, at, udml or loss.feature do)` });
  }
  // Every method but ce reads a teacher when one is named (DML and UDML optionally).
  if (c.data.augment.mixup && c.teacher && c.method !== 'ce' && c.teacherCache === 'views') {
    ctx.addIssue({ code: 'custom', path: ['data', 'augment', 'mixup'], message: 'mixup needs the teacher to label the blended images: set teacherCache to "off"' });
  }
  if (c.method === 'kd' && c.loss.alpha > 1) {
    ctx.addIssue({ code: 'custom', path: ['loss', 'alpha'], message: 'KD alpha must be in [0, 1] (1 − alpha weights CE)' });
  }
}

/**
 * A config as stored with a run, including runs of methods refused today (kept readable, never lost).
 * Reading the registry uses this; starting anything uses RunConfig.
 */
export const StoredRunConfig = RunConfigObject.superRefine(checkConsistency);

/** A config a new run may start with: StoredRunConfig's rules, and only methods the engine trains. */
export const RunConfig = RunConfigObject.superRefine(checkConsistency).superRefine((c, ctx) => {
  if (!isImplementedMethod(c.method)) {
    ctx.addIssue({
      code: 'custom',
      path: ['method'],
      message: `method "${c.method}" ${NOT_IMPLEMENTED_REASON} (trainable: ${IMPLEMENTED_METHODS.join(', ')})`,
    });
  }
});
export type RunConfig = z.infer<typeof RunConfig>;
export type RunConfigInput = z.input<typeof RunConfig>;

/** Sensible starting points per method, used by the New-run form and `distill run` flags. */
export function defaultRunConfig(method: Method, dataset: string, teacher?: string): RunConfigInput {
  const base: RunConfigInput = {
    name: `${method}-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '')}`,
    dataset,
    method,
    student: { arch: 'mobilenet_v2', width: 0.35, inputSize: 96 },
    epochs: 10,
    batchSize: 32,
  };
  switch (method) {
    case 'ce':
      return { ...base, data: { useLabels: true, useUnlabeled: false } };
    case 'kd':
      return { ...base, teacher, loss: { temperature: 4, alpha: 0.9 }, data: { useLabels: true, useUnlabeled: false } };
    case 'ssld':
      return { ...base, teacher, loss: { temperature: 1, divergence: 'js' }, data: { useLabels: false, useUnlabeled: true } };
    case 'dml':
      return {
        ...base,
        peers: [{ arch: 'mobilenet_v2', width: 0.35, inputSize: 96 }],
        loss: { temperature: 1, beta: 1, divergence: 'js' },
        data: { useLabels: true, useUnlabeled: true },
      };
    case 'dkd':
      // The paper's CIFAR setting (α 1, β 8, τ 4) with a one-epoch warm-up for short runs.
      return { ...base, teacher, loss: { temperature: 4, alpha: 1, beta: 8, dkdWarmupEpochs: 1 }, data: { useLabels: true, useUnlabeled: true } };
    case 'dist':
      return { ...base, teacher, loss: { temperature: 1, beta: 1, gamma: 1 }, data: { useLabels: true, useUnlabeled: true } };
    case 'wsl':
      // The paper's ImageNet setting: α 2.25, τ 2.
      return { ...base, teacher, loss: { temperature: 2, alpha: 2.25 }, data: { useLabels: true, useUnlabeled: true } };
    case 'udml':
      return {
        ...base,
        peers: [{ arch: 'mobilenet_v2', width: 0.35, inputSize: 96 }],
        loss: { temperature: 1, beta: 1, gamma: 1, divergence: 'js' },
        data: { useLabels: true, useUnlabeled: true },
      };
    case 'fitnets':
      return { ...base, teacher, loss: { beta: 1 }, data: { useLabels: true, useUnlabeled: true } };
    case 'rkd':
      // The paper's weights: distance 25, angle 50.
      return { ...base, teacher, loss: { beta: 25, gamma: 50 }, data: { useLabels: true, useUnlabeled: true } };
    case 'at':
      // The paper's β = 1000 (with the mean over positions, as torchdistill writes it).
      return { ...base, teacher, loss: { beta: 1000 }, data: { useLabels: true, useUnlabeled: true } };
    default:
      return { ...base, teacher };
  }
}

export function temperatureAt(t: z.infer<typeof Temperature>, progress: number): number {
  if (typeof t === 'number') return t;
  const p = Math.min(1, Math.max(0, progress));
  return t.start + (t.end - t.start) * p;
}
