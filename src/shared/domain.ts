// Records as they cross process boundaries (store → services → UI/CLI). Plain data, no Node or DOM.
import { z } from 'zod';
import { StoredRunConfig } from './run-config.js';

export const FOLDER_ROLES = ['labeled', 'unlabeled', 'val'] as const;
export const FolderRole = z.enum(FOLDER_ROLES);
export type FolderRole = z.infer<typeof FolderRole>;

export const SkippedFile = z.object({ file: z.string(), reason: z.string() });
export type SkippedFile = z.infer<typeof SkippedFile>;

export const DatasetFolder = z.object({ id: z.number().int(), path: z.string(), role: FolderRole });
export type DatasetFolder = z.infer<typeof DatasetFolder>;

export const DatasetSummary = z.object({
  id: z.number().int(),
  name: z.string(),
  createdAt: z.string(),
  classes: z.array(z.string()),
  folders: z.array(DatasetFolder),
  /** Image counts: labeled and val per class, unlabeled as a total. */
  labeled: z.record(z.string(), z.number().int()),
  unlabeled: z.number().int(),
  val: z.record(z.string(), z.number().int()),
  skipped: z.array(SkippedFile),
});
export type DatasetSummary = z.infer<typeof DatasetSummary>;

export const IMAGE_STATUSES = ['ok', 'skipped', 'duplicate', 'missing'] as const;
export const ImageRecord = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  folderId: z.number().int(),
  role: FolderRole,
  path: z.string(),
  hash: z.string(),
  bytes: z.number().int(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  label: z.string().nullable(),
  status: z.enum(IMAGE_STATUSES),
  error: z.string().nullable(),
});
export type ImageRecord = z.infer<typeof ImageRecord>;

export const TeacherRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  kind: z.enum(['trained', 'imported']),
  arch: z.string(),
  inputSize: z.number().int(),
  classes: z.array(z.string()),
  datasetId: z.number().int().nullable(),
  valAccuracy: z.number().nullable(),
  /** Folder holding model.json + weights. */
  modelDir: z.string(),
  createdAt: z.string(),
  perClass: z.record(z.string(), z.number()).nullable(),
});
export type TeacherRecord = z.infer<typeof TeacherRecord>;

/**
 * 'stalled': the watchdog ended a trainer that made no progress for too long; 'interrupted': the trainer
 * process is gone (killed, crashed) while the run was active. Both resume from the last checkpoint.
 */
export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'stalled', 'interrupted'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

export const BackendCandidate = z.object({
  name: z.string(),
  available: z.boolean(),
  reason: z.string().nullable(),
});
export const BackendReport = z.object({
  active: z.string(),
  threads: z.number().int(),
  simd: z.boolean().nullable(),
  /** WASM: whether the project's GEMM uses relaxed SIMD's fused multiply-add, and why (absent on older rows). */
  relaxedSimd: z.object({ on: z.boolean(), reason: z.string() }).nullable().optional(),
  forcedBy: z.string().nullable(),
  candidates: z.array(BackendCandidate),
});
export type BackendReport = z.infer<typeof BackendReport>;

export const RunRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  datasetId: z.number().int(),
  teacherId: z.number().int().nullable(),
  method: z.string(),
  config: StoredRunConfig,
  status: RunStatus,
  backend: BackendReport.nullable(),
  error: z.string().nullable(),
  flags: z.array(z.string()),
  epochsDone: z.number().int(),
  bestValAccuracy: z.number().nullable(),
  lastValAccuracy: z.number().nullable(),
  imgPerSec: z.number().nullable(),
  params: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  wallSeconds: z.number().nullable(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** One logged value: per step (loss parts, lr, img/s) or per epoch (val accuracy, JS, KL). */
export const MetricRow = z.object({
  id: z.number().int(),
  runId: z.number().int(),
  /** Which student (0 = main, 1.. = DML peers). */
  model: z.number().int(),
  scope: z.enum(['step', 'epoch']),
  step: z.number().int(),
  epoch: z.number(),
  name: z.string(),
  value: z.number(),
  time: z.number(),
});
export type MetricRow = z.infer<typeof MetricRow>;

export const CheckpointRecord = z.object({
  id: z.number().int(),
  runId: z.number().int(),
  epoch: z.number().int(),
  step: z.number().int(),
  dir: z.string(),
  valAccuracy: z.number().nullable(),
  createdAt: z.string(),
});
export type CheckpointRecord = z.infer<typeof CheckpointRecord>;

export const MiningRecord = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  teacherId: z.number().int(),
  perClass: z.number().int(),
  minConfidence: z.number(),
  selected: z.number().int(),
  perClassSelected: z.record(z.string(), z.number().int()),
  shortfall: z.record(z.string(), z.number().int()),
  excludedDuplicates: z.number().int(),
  createdAt: z.string(),
});
export type MiningRecord = z.infer<typeof MiningRecord>;

export const Confusion = z.object({
  classes: z.array(z.string()),
  /** matrix[true][predicted] */
  matrix: z.array(z.array(z.number().int())),
});
export type Confusion = z.infer<typeof Confusion>;

export const EvalResult = z.object({
  accuracy: z.number(),
  n: z.number().int(),
  perClass: z.record(z.string(), z.number()),
  confusion: Confusion,
});
export type EvalResult = z.infer<typeof EvalResult>;
