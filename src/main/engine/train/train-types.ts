// The training loop's inputs and the sink it reports to: the loop knows nothing of SQLite or the CLI.
import type * as tf from '@tensorflow/tfjs';
import type { Predictor } from '../predict.js';
import type { RunConfig } from '../../../shared/run-config.js';
import type { FeatureAdapter } from './feature-adapter.js';
import type { TapWant } from '../models/feature-tap.js';
import type { HostTap } from '../teachers/host-tap.js';
import type { HintPlan } from './hint-plan.js';

export interface TrainItem {
  /** Stable key for caches (the image's content hash). */
  key: string;
  path: string;
  /** Class index, or null where the image has no label (unlabeled pool, or labels switched off). */
  label: number | null;
  imageId?: number;
}

export interface TapInfo {
  featureDim: number | null;
  /** Per hint layer (TapWant.hints): its output's [H, W, C]. */
  hintShapes?: [number, number, number][];
}

/** A frozen teacher: logits in the run's class order. */
export type Teacher = Predictor & {
  name: string;
  /** Logits with its pooled features [N, D], a spatial map [N, H, W, C] and/or hint maps (see TapWant), in one forward pass. */
  tapped?(x: tf.Tensor4D, want: TapWant): { logits: tf.Tensor2D; features?: tf.Tensor2D; map?: tf.Tensor4D; hints?: tf.Tensor4D[] };
  /**
   * The same for a teacher outside tfjs (onnxruntime), awaited before the step: `n` images [n,S,S,3] at
   * its input size in, host arrays out (the step makes constant tensors of them).
   */
  hostTapped?(pixels: Float32Array, n: number, want: TapWant): Promise<HostTap>;
  /**
   * Checks that `want` can be tapped (rejects with the reason) and gives the size of the features it reads.
   * Asynchronous because an ONNX teacher opens its tap here (a session with the tapped values as outputs).
   */
  tapInfo?(want: TapWant): Promise<TapInfo>;
  /** Grad-CAM for one image [1, S, S, 3] in [0, 255], classes in the run's order (layers teachers only). */
  explain?(x: tf.Tensor4D, classIndex?: number): { classIndex: number; probs: number[]; cam: number[][] };
  /** Frees the model's weights (a one-shot use such as eval; a run keeps its teacher to the end). */
  dispose?(): void;
};

export interface StepMetric {
  model: number;
  name: string;
  value: number;
}

export interface EpochReport {
  epoch: number;
  step: number;
  /** Per student: accuracy on val, confusion, teacher–student JS/KL. */
  metrics: StepMetric[];
  valAccuracy: number | null;
  confusion: number[][] | null;
  /** Predictions of student 0 on val, for drill-down (image id → predicted class, confidence). */
  predictions: { imageId: number; predicted: number; confidence: number; probs: number[] }[];
  meanLoss: Record<string, number>;
}

export type Control = 'run' | 'pause' | 'cancel';

export interface TrainSink {
  /** Called after each optimizer step (0-based) with that step's values; `epoch` is fractional (epochs done). */
  step(step: number, epoch: number, metrics: StepMetric[]): void;
  /** After each epoch's evaluation; writes the checkpoint (atomically) and records it. */
  epochEnd(report: EpochReport, save: (dir: string) => Promise<void>): Promise<void>;
  /** Polled between steps (pause / cancel from another process). */
  control(): Control;
  progress(done: number, total: number, message: string): void;
  flag(message: string): void;
  /** A line worth showing (e.g. how many teacher views came from the cache). */
  info?(message: string): void;
  /** Entering a phase between steps (for a watchdog): the epoch's evaluation. */
  phase?(name: 'evaluate', epoch: number): void;
  /** Progress inside such a phase (an evaluation batch): a slow machine is not a stuck one. */
  tick?(): void;
}

export interface LoopInput {
  config: RunConfig;
  classes: string[];
  train: TrainItem[];
  val: TrainItem[];
  students: tf.LayersModel[];
  optimizers: tf.Optimizer[];
  teacher: Teacher | null;
  /** Feature distillation (loss.feature): the adapter from student 0's features to the teacher's, trained alongside. */
  adapter?: FeatureAdapter;
  /** Matched-channel hints (loss.hint): the layers and the teacher's channels each student map holds. */
  hints?: HintPlan;
  /** Identity of the teacher's weights (teacherIdentity): with teacherCache 'views' its soft labels persist under cacheDir, keyed by it. */
  teacherId?: string;
  /** First epoch to run (0-based); epochs before it are in the checkpoint. */
  startEpoch: number;
  cacheDir: string;
  sink: TrainSink;
}

export class NonFiniteLossError extends Error {}
export class CancelledError extends Error {}
