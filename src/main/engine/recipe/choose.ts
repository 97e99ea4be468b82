// The default recipe's rule (docs/DECISIONS.md "Default recipe"): given measured throughput per
// candidate student and a budget (parameters, minutes), pick the strongest student that gets enough
// epochs in the time. Pure: the numbers come from recipe/measure.ts.
import { DEFAULT_TEACHER_VIEWS, MAX_TEACHER_VIEWS, type StudentSpec } from '../../../shared/run-config.js';

export interface RecipeCandidate {
  student: StudentSpec;
  /** Trainable parameters with the head for the dataset's classes. */
  params: number;
  /** Measured training images per second (forward + backward + update) at its input size. */
  trainImgPerSec: number;
  /** Starts from pretrained weights (from/slim): stronger than any scratch student of its size. */
  pretrained: boolean;
}

export interface RecipeBudget {
  maxParams: number;
  minutes: number;
  /** Training images per epoch. */
  trainImages: number;
  /** Seconds spent outside the epochs: measuring the candidates, the teacher's pass over V views, the first decode. */
  overheadSeconds: number;
  /** Val images, evaluated after every epoch. */
  valImages: number;
}

/**
 * Epochs a student needs to be worth choosing. A pretrained student gains most of what it will in
 * about 8 epochs of distillation (then 1–2 points more over 30); a larger input that leaves fewer than
 * that loses to a smaller one that gets them. Scratch students need more to learn anything.
 */
export const MIN_EPOCHS = { pretrained: 8, scratch: 5 } as const;
/** Beyond this, extra epochs buy little for a distilled student; the rest of the budget stays unused. */
export const MAX_EPOCHS = 30;

export interface RecipeChoice {
  candidate: RecipeCandidate;
  epochs: number;
  expectedSeconds: number;
  /** One epoch of the chosen student with its evaluation, as budgeted. */
  secondsPerEpoch: number;
  /** Every candidate with its epochs in the budget and why it was or was not chosen. */
  table: { student: StudentSpec; params: number; trainImgPerSec: number; epochs: number; verdict: string }[];
}

/**
 * A run's step costs more than the measured one (random pixels, no data pipeline, no feature adapter):
 * decoding and augmentation share the cores, and the loss does more. Measured on cat/dog at 224 px with
 * feature distillation: 34.5 img/s in the run against ≈38 in the recipe's measurement.
 */
export const RUN_OVER_MEASURED = 1.1;

/** Inference runs ≈ 3× faster than a training step (distill bench): the per-epoch evaluation of a candidate. */
export const INFER_OVER_TRAIN = 3;

function secondsPerEpoch(c: RecipeCandidate, b: RecipeBudget): number {
  return ((b.trainImages / c.trainImgPerSec) * RUN_OVER_MEASURED) + b.valImages / (c.trainImgPerSec * INFER_OVER_TRAIN);
}

function epochsIn(c: RecipeCandidate, b: RecipeBudget): number {
  if (!(c.trainImgPerSec > 0)) return 0;
  return Math.max(0, Math.floor((b.minutes * 60 - b.overheadSeconds) / secondsPerEpoch(c, b)));
}

/** Strength order: pretrained first, then more parameters, then a larger input. */
function stronger(a: RecipeCandidate, b: RecipeCandidate): number {
  if (a.pretrained !== b.pretrained) return a.pretrained ? -1 : 1;
  if (a.params !== b.params) return b.params - a.params;
  return b.student.inputSize - a.student.inputSize;
}

export function chooseRecipe(candidates: readonly RecipeCandidate[], b: RecipeBudget): RecipeChoice {
  if (candidates.length === 0) throw new Error('recipe: no candidate students');
  const sorted = [...candidates].sort(stronger);
  const table: RecipeChoice['table'] = [];
  let chosen: RecipeCandidate | null = null;
  for (const c of sorted) {
    const epochs = Math.min(MAX_EPOCHS, epochsIn(c, b));
    const min = c.pretrained ? MIN_EPOCHS.pretrained : MIN_EPOCHS.scratch;
    let verdict: string;
    if (c.params > b.maxParams) verdict = `over the parameter budget`;
    else if (epochs < min) verdict = `only ${epochs} epoch(s) in ${b.minutes} min (needs ${min})`;
    else if (chosen) verdict = 'fits; a stronger one was chosen';
    else {
      chosen = c;
      verdict = 'chosen';
    }
    table.push({ student: c.student, params: c.params, trainImgPerSec: c.trainImgPerSec, epochs, verdict });
  }
  // Nothing reaches its minimum: the fastest student within the parameter budget, whatever epochs fit.
  if (!chosen) {
    const fit = candidates.filter((c) => c.params <= b.maxParams).sort((x, y) => y.trainImgPerSec - x.trainImgPerSec);
    if (fit.length === 0) throw new Error(`recipe: no candidate student has at most ${b.maxParams} parameters`);
    chosen = fit[0]!;
    const row = table.find((r) => r.student === chosen!.student)!;
    row.verdict = 'chosen (the fastest: none reaches its minimum epochs)';
  }
  const epochs = Math.max(1, Math.min(MAX_EPOCHS, epochsIn(chosen, b)));
  const expectedSeconds = b.overheadSeconds + epochs * secondsPerEpoch(chosen, b);
  return { candidate: chosen, epochs, expectedSeconds, secondsPerEpoch: secondsPerEpoch(chosen, b), table };
}

export interface ViewBudget {
  /** Epochs of the chosen student. */
  epochs: number;
  /** The budget left after those epochs with the default views. */
  spareSeconds: number;
  /** The teacher's pass over one view of every training image. */
  secondsPerView: number;
  /** Most views the cache may hold (its size in memory). */
  maxViews: number;
}

/**
 * Teacher views per image: the default few, plus as many more as the spare budget pays for, up to one
 * per epoch. A run that outlasts its views memorizes them (measured on cat/dog at 30 epochs and 4 views:
 * train JS 0.005 against val JS 0.023), while each extra view costs only the teacher's pass over the
 * images, about half an epoch; so time the epochs cannot use (MAX_EPOCHS) goes to fresh crops.
 */
export function chooseViews(b: ViewBudget): number {
  const base = Math.max(1, Math.min(b.epochs, DEFAULT_TEACHER_VIEWS));
  const affordable = b.secondsPerView > 0 ? Math.floor(Math.max(0, b.spareSeconds) / b.secondsPerView) : 0;
  return Math.max(base, Math.min(b.epochs, b.maxViews, MAX_TEACHER_VIEWS, base + affordable));
}

export interface LiveTeacherBudget {
  /** The budget left for epochs: minutes less measuring and the first decode. */
  seconds: number;
  /** One epoch of the student with its evaluation. */
  secondsPerEpoch: number;
  /** The teacher's forward pass over the training images, once per epoch when it runs live. */
  teacherSecondsPerEpoch: number;
}

/** Live: `secondsPerEpoch` is one epoch with the teacher's pass (and the hints' extra work), as budgeted. */
export type TeacherPass = { mode: 'views'; epochs: number; views: number } | { mode: 'live'; epochs: number; secondsPerEpoch: number };

/**
 * A live epoch with hints costs more than one without: the student's maps get a second gradient and the
 * teacher's are gathered. Measured on cat/dog (slimmed MobileNet v1 ×0.5 at 224 px): 101 s an epoch
 * against 88 s budgeted without hints.
 */
export const HINTS_OVER_LIVE = 1.15;

/**
 * Cached views or the teacher live. When the budget buys a fresh cached view for every epoch, the
 * cache saves nothing (each view is one teacher pass, as a live epoch is) and costs more: its pass
 * renders every crop a second time and holds the rows in memory. Then the teacher runs live, with a
 * new crop every epoch, and the run ends sooner. Its epochs stop at MAX_EPOCHS too: on cat/dog, 46
 * live epochs ended at 93.9% against 93.5–94.7% for 30 (docs/BENCH.md).
 * With `hints` (the student matches the teacher's layers, hint-plan.ts) the teacher runs live whenever
 * that leaves a pretrained student its minimum epochs: hints need the live teacher's maps and pay more
 * than epochs do (on cat/dog, 6 live epochs with hints 93.1%, 15 cached epochs without 92.7%).
 */
export function chooseTeacherPass(cached: { epochs: number; views: number }, live: LiveTeacherBudget, hints = false): TeacherPass {
  const liveEpochs = (secondsPerEpoch: number): number => (secondsPerEpoch > 0 ? Math.min(MAX_EPOCHS, Math.floor(Math.max(0, live.seconds) / secondsPerEpoch)) : 0);
  if (hints) {
    const secondsPerEpoch = (live.secondsPerEpoch + live.teacherSecondsPerEpoch) * HINTS_OVER_LIVE;
    const epochs = liveEpochs(secondsPerEpoch);
    if (epochs >= MIN_EPOCHS.pretrained) return { mode: 'live', epochs, secondsPerEpoch };
  }
  if (cached.views < cached.epochs || cached.epochs <= DEFAULT_TEACHER_VIEWS) return { mode: 'views', ...cached };
  const secondsPerEpoch = live.secondsPerEpoch + live.teacherSecondsPerEpoch;
  const epochs = liveEpochs(secondsPerEpoch);
  return epochs >= cached.epochs ? { mode: 'live', epochs, secondsPerEpoch } : { mode: 'views', ...cached };
}

/** "0.5M", "500k", "500000" → 500000; the error names the value. */
export function parseParamBudget(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(text);
  if (!m) throw new Error(`--params: expected a count like 0.5M, 500k or 500000, got "${text}"`);
  const scale = m[2]!.toLowerCase() === 'm' ? 1e6 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1;
  return Math.round(Number(m[1]) * scale);
}
