// The default recipe end to end: measure the candidates and the teacher on this machine, then apply
// the rule (choose.ts). Returns the student, epochs and loss to put in the run config, with the table
// it chose from, so the CLI and the New run page can show why.
import type { FeatureLoss, StudentSpec } from '../../../shared/run-config.js';
import type { z } from 'zod';
import type { Teacher } from '../train/train-types.js';
import { chooseRecipe, chooseViews, RUN_OVER_MEASURED, type RecipeCandidate, type RecipeChoice } from './choose.js';
import { candidateSpecs, measureCandidate, measureTeacherPass } from './measure.js';
import { DEFAULT_TEACHER_VIEWS } from '../../../shared/run-config.js';
import { teacherPooledDim } from '../train/feature-needs.js';

/** Decoding a 200×200 JPEG with sharp costs ≈ 4 ms of CPU (docs/DECISIONS.md "Decoding cost"), paid once per image. */
const DECODE_SECONDS_PER_IMAGE = 0.004;
/** Inference runs ≈ 3× faster than a training step (distill bench), for the per-epoch evaluation estimate. */
const INFER_OVER_TRAIN = 3;
/** The teacher cache's rows live in memory during a run (probabilities float32, features float16): its views stop here. */
const VIEW_CACHE_BYTES = 512 * 1024 * 1024;

export interface RecipeInput {
  maxParams: number;
  minutes: number;
  trainImages: number;
  valImages: number;
  classes: number;
  /** A pretrained backbone (bundled name or path), or null: mobilenet_v2 from scratch. */
  backbone: string | null;
  teacher: Teacher | null;
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface RecipePlan extends RecipeChoice {
  student: StudentSpec;
  feature: z.input<typeof FeatureLoss> | null;
  teacherImgPerSec: number | null;
  /** Teacher views per image (run config teacherViews): more when the budget has time the epochs cannot use. */
  views: number;
}

export async function planRecipe(o: RecipeInput): Promise<RecipePlan> {
  const started = performance.now();
  const specs = candidateSpecs(o.backbone);
  const measured: RecipeCandidate[] = [];
  for (const [i, spec] of specs.entries()) {
    o.onProgress?.(i, specs.length + 1, `measuring ${JSON.stringify(spec.student)}`);
    measured.push(await measureCandidate(spec, o.classes, { batch: 16, steps: 2, maxParams: o.maxParams }));
  }
  o.onProgress?.(specs.length, specs.length + 1, 'measuring the teacher');
  const featureDim = await teacherPooledDim(o.teacher);
  const teacherImgPerSec = o.teacher ? await measureTeacherPass(o.teacher, { batch: 16, steps: 2, features: featureDim !== null }) : null;
  // The run's pass also renders each crop at the teacher's size: the same allowance as a training step.
  const secondsPerView = teacherImgPerSec ? (o.trainImages / teacherImgPerSec) * RUN_OVER_MEASURED : 0;
  const teacherSeconds = secondsPerView * DEFAULT_TEACHER_VIEWS;
  const decodeSeconds = (o.trainImages + o.valImages) * DECODE_SECONDS_PER_IMAGE;
  const fastest = Math.max(...measured.map((m) => m.trainImgPerSec), 1);
  const choice = chooseRecipe(measured, {
    maxParams: o.maxParams,
    minutes: o.minutes,
    trainImages: o.trainImages,
    // Measuring is part of the run's minutes too.
    overheadSeconds: (performance.now() - started) / 1000 + teacherSeconds + decodeSeconds,
    evalSecondsPerEpoch: o.valImages / (fastest * INFER_OVER_TRAIN),
  });
  const bytesPerView = o.trainImages * (o.classes * 4 + (featureDim ?? 0) * 2);
  const baseViews = Math.min(choice.epochs, DEFAULT_TEACHER_VIEWS);
  const views = chooseViews({
    epochs: choice.epochs,
    spareSeconds: o.minutes * 60 - choice.expectedSeconds,
    secondsPerView,
    maxViews: Math.floor(VIEW_CACHE_BYTES / Math.max(1, bytesPerView)),
  });
  o.onProgress?.(specs.length + 1, specs.length + 1, 'recipe chosen');
  return {
    ...choice,
    expectedSeconds: choice.expectedSeconds + (views - baseViews) * secondsPerView,
    student: choice.candidate.student,
    feature: featureDim ? RECIPE_FEATURE_LOSS : null,
    teacherImgPerSec,
    views,
  };
}

/**
 * Feature distillation when the teacher exposes pooled features: a two-class soft label carries about
 * one bit per image, the teacher's feature vector hundreds of values. Its features are cached with the
 * soft labels (one teacher pass per view), so it adds only the adapter's cost to a step.
 */
export const RECIPE_FEATURE_LOSS = { weight: 1, kind: 'mse' } as const;
