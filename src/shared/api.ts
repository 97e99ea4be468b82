// The app's one API contract: the same methods and events over Electron IPC (preload → main) and over
// the `distill serve` WebSocket. Every request is validated with its schema on the receiving side.
// Add methods freely; never change the meaning of an existing one.
import { z } from 'zod';
import { ExportFormatName, ExportQuantizeName, ExportRecord } from './export-record.js';
import { RecipeRequest } from './recipe-plan.js';
import {
  BackendReport,
  CheckpointRecord,
  Confusion,
  DatasetSummary,
  FolderRole,
  MetricRow,
  MiningRecord,
  RunRecord,
  TeacherRecord,
} from './domain.js';
import { RunConfig } from './run-config.js';
import { InputRange } from './input-range.js';
import { SweepGrid } from './sweep.js';
import { SweepDetail, SweepRecord } from './sweep-record.js';

const Id = z.union([z.number().int(), z.string().min(1)]);

export const ImageQuery = z.object({
  dataset: Id,
  role: FolderRole.optional(),
  label: z.string().optional(),
  /** Filter by the teacher's predicted class (needs a mining or teacher predictions). */
  teacherLabel: z.string().optional(),
  confidenceMin: z.number().min(0).max(1).optional(),
  confidenceMax: z.number().min(0).max(1).optional(),
  mined: z.boolean().optional(),
  /** Images of this run's val predictions with this true/predicted pair (confusion-cell drill-down). */
  run: Id.optional(),
  trueLabel: z.string().optional(),
  predictedLabel: z.string().optional(),
  /** Only wrong predictions of `run`, most confident first. */
  mistakesOnly: z.boolean().optional(),
  sort: z.enum(['path', 'confidence-desc', 'confidence-asc']).default('path'),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(5000).default(200),
});
export type ImageQuery = z.input<typeof ImageQuery>;

export const ImageRow = z.object({
  id: z.number().int(),
  path: z.string(),
  role: FolderRole,
  label: z.string().nullable(),
  teacherLabel: z.string().nullable(),
  teacherConfidence: z.number().nullable(),
  mined: z.boolean(),
  predictedLabel: z.string().nullable().optional(),
  predictedConfidence: z.number().nullable().optional(),
});
export type ImageRow = z.infer<typeof ImageRow>;

export const Probabilities = z.object({ source: z.string(), classes: z.array(z.string()), probs: z.array(z.number()) });

export const FolderGuess = z.object({
  path: z.string(),
  role: FolderRole,
  classes: z.array(z.string()),
  images: z.number().int(),
});

export const BackboneInfo = z.object({
  name: z.string(),
  inputSize: z.number().int(),
  featureDim: z.number().int(),
  featureLayer: z.string(),
  license: z.string(),
});
export type BackboneInfo = z.infer<typeof BackboneInfo>;

/** The last line of `distill teacher train --json`: what the Teachers page shows when a training job ends. */
export const TeacherTrainResult = z.object({
  teacher: z.number().int(),
  valAccuracy: z.number().nullable(),
  perClass: z.record(z.string(), z.number()).nullable(),
  seconds: z.number().optional(),
});
export type TeacherTrainResult = z.infer<typeof TeacherTrainResult>;

export const JobInfo = z.object({
  id: z.string(),
  kind: z.enum(['import', 'teacher-train', 'mine', 'run', 'export', 'eval', 'recipe', 'explain']),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  progress: z.number().min(0).max(1),
  message: z.string(),
  result: z.unknown().optional(),
});
export type JobInfo = z.infer<typeof JobInfo>;

export const Agreement = z.object({
  run: z.number().int(),
  teacher: z.number().int(),
  val: z.object({ agree: z.number().int(), n: z.number().int() }),
  unlabeled: z.object({ agree: z.number().int(), n: z.number().int() }),
  disagreements: z.array(ImageRow),
});

function method<I extends z.ZodType, O extends z.ZodType>(input: I, output: O) {
  return { input, output };
}

export const api = {
  'app.info': method(z.object({}), z.object({ version: z.string(), backend: BackendReport, home: z.string() })),

  'datasets.list': method(z.object({}), z.array(DatasetSummary)),
  'datasets.get': method(z.object({ id: Id }), DatasetSummary),
  'datasets.inspectFolder': method(z.object({ path: z.string().min(1) }), FolderGuess),
  'datasets.create': method(
    z.object({ name: z.string().min(1).max(120), folders: z.array(z.object({ path: z.string().min(1), role: FolderRole })).min(1) }),
    JobInfo,
  ),
  'datasets.rescan': method(z.object({ id: Id }), JobInfo),
  'datasets.remove': method(z.object({ id: Id }), z.object({ ok: z.literal(true) })),

  'images.query': method(ImageQuery, z.object({ total: z.number().int(), items: z.array(ImageRow) })),
  'images.detail': method(z.object({ id: z.number().int() }), z.object({ image: ImageRow, probabilities: z.array(Probabilities) })),
  /** Grad-CAM of a run's student and its teacher on one image (`distill explain`); run: else the newest finished one. */
  'images.gradCam': method(z.object({ id: z.number().int(), run: z.number().int().optional() }), JobInfo),

  'teachers.list': method(z.object({}), z.array(TeacherRecord)),
  'teachers.train': method(
    z.object({
      name: z.string().min(1),
      dataset: Id,
      arch: z.string().min(1),
      size: z.number().int().min(32).max(224).default(96),
      epochs: z.number().int().min(1).max(1000).default(10),
    }),
    JobInfo,
  ),
  'teachers.import': method(
    z.object({ name: z.string().min(1), path: z.string().min(1), classes: z.array(z.string().min(1)).min(2), inputRange: InputRange.optional() }),
    TeacherRecord,
  ),
  /** Pretrained backbones shipped with the app (resources/backbones). */
  'teachers.backbones': method(z.object({}), z.array(BackboneInfo)),
  /** A teacher = a frozen pretrained backbone (bundled name or a TF.js model.json path) + a head trained on its features. */
  'teachers.trainBackbone': method(
    z.object({
      name: z.string().min(1),
      dataset: Id,
      backbone: z.string().min(1),
      featureLayer: z.string().min(1).optional(),
      inputRange: InputRange.optional(),
      head: z.enum(['linear', 'mlp']).default('linear'),
      epochs: z.number().int().min(1).max(10000).default(60),
    }),
    JobInfo,
  ),

  'mining.list': method(z.object({ dataset: Id }), z.array(MiningRecord)),
  'mining.run': method(
    z.object({ dataset: Id, teacher: Id, perClass: z.number().int().positive(), minConfidence: z.number().min(0).max(1).default(0) }),
    JobInfo,
  ),

  'runs.list': method(z.object({}), z.array(RunRecord)),
  'runs.get': method(z.object({ id: Id }), z.object({ run: RunRecord, checkpoints: z.array(CheckpointRecord), etaSeconds: z.number().nullable() })),
  'runs.start': method(z.object({ config: RunConfig }), RunRecord),
  'runs.pause': method(z.object({ id: Id }), RunRecord),
  'runs.resume': method(z.object({ id: Id }), RunRecord),
  'runs.cancel': method(z.object({ id: Id }), RunRecord),
  'runs.metrics': method(z.object({ id: Id, afterId: z.number().int().default(0) }), z.array(MetricRow)),
  'runs.confusion': method(z.object({ id: Id }), Confusion.nullable()),
  'runs.compare': method(
    z.object({ ids: z.array(Id).min(2).max(8) }),
    z.object({
      runs: z.array(RunRecord),
      configDiff: z.array(z.object({ path: z.string(), values: z.array(z.unknown()), differs: z.boolean() })),
      confusions: z.array(Confusion.nullable()),
    }),
  ),
  'runs.agreement': method(z.object({ id: Id }), Agreement),
  'runs.export': method(
    z.object({ id: Id, format: ExportFormatName, quantize: ExportQuantizeName.default('none') }),
    JobInfo,
  ),
  /** The default recipe's plan for an SSLD run (`distill recipe`): student, epochs, expected time. */
  'runs.plan': method(RecipeRequest, JobInfo),
  /** Measures every format × quantization of the run's student (`distill export RUN --all`). */
  'runs.exportCheck': method(z.object({ id: Id }), JobInfo),
  /** The newest measurement of each format × quantization, and the folders written, newest first. */
  'runs.exports': method(z.object({ id: Id }), z.object({ checks: z.array(ExportRecord), exports: z.array(ExportRecord) })),

  'sweeps.list': method(z.object({}), z.array(SweepRecord)),
  'sweeps.get': method(z.object({ id: z.number().int().positive() }), SweepDetail),
  'sweeps.start': method(z.object({ config: RunConfig, grid: SweepGrid }), SweepRecord),

  'jobs.list': method(z.object({}), z.array(JobInfo)),
  'jobs.get': method(z.object({ id: z.string() }), JobInfo),
} as const;

export type Api = typeof api;
export type MethodName = keyof Api;
export type Params<M extends MethodName> = z.input<Api[M]['input']>;
export type Result<M extends MethodName> = z.infer<Api[M]['output']>;

/** Server → client pushes. */
export const events = {
  'job.progress': JobInfo,
  'run.metrics': z.object({ runId: z.number().int(), rows: z.array(MetricRow) }),
  'run.status': RunRecord,
  'dataset.changed': z.object({ id: z.number().int() }),
} as const;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

/** Wire format shared by the WebSocket and IPC transports. */
export const RequestMessage = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export const ResponseMessage = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string() }),
]);
export const EventMessage = z.object({ event: z.string(), data: z.unknown() });

/** What the preload exposes on window.distill, and what the WebSocket client implements too. */
export interface DistillApi {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}
