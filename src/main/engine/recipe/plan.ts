// The default recipe end to end: measure the candidates and the teacher on this machine, then apply
// the rule (choose.ts). Returns the student, epochs and loss to put in the run config, with the table
// it chose from, so the CLI and the New run page can show why.
import type { FeatureLoss, StudentSpec } from '../../../shared/run-config.js';
import type { z } from 'zod';
import type { Teacher } from '../train/train-types.js';
import { chooseRecipe, type RecipeCandidate, type RecipeChoice } from './choose.js';
import { candidateSpecs, measureCandidate, measureInference } from './measure.js';
import { MAX_VIEWS } from '../train/teacher-cache.js';

/** Decoding a 200×200 JPEG with sharp costs ≈ 4 ms of CPU (docs/DECISIONS.md "Decoding cost"), paid once per image. */
const DECODE_SECONDS_PER_IMAGE = 0.004;
/** Inference runs ≈ 3× faster than a training step (distill bench), for the per-epoch evaluation estimate. */
const INFER_OVER_TRAIN = 3;

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
  const teacherImgPerSec = o.teacher ? measureInference(o.teacher, { batch: 16, steps: 2 }) : null;
  const teacherSeconds = teacherImgPerSec ? (o.trainImages * MAX_VIEWS) / teacherImgPerSec : 0;
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
  o.onProgress?.(specs.length + 1, specs.length + 1, 'recipe chosen');
  return {
    ...choice,
    student: choice.candidate.student,
    feature: (await givesPooledFeatures(o.teacher)) ? RECIPE_FEATURE_LOSS : null,
    teacherImgPerSec,
  };
}

/**
 * Feature distillation when the teacher exposes pooled features: a two-class soft label carries about
 * one bit per image, the teacher's feature vector hundreds of values. Its features are cached with the
 * soft labels (one teacher pass per view), so it adds only the adapter's cost to a step.
 */
export const RECIPE_FEATURE_LOSS = { weight: 1, kind: 'mse' } as const;

async function givesPooledFeatures(teacher: Teacher | null): Promise<boolean> {
  if (!teacher?.tapInfo) return false;
  try {
    return ((await teacher.tapInfo({ pooled: true, map: false })).featureDim ?? 0) > 0;
  } catch {
    return false;
  }
}
