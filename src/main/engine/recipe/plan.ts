// The default recipe end to end: measure the candidates and the teacher on this machine, then apply
// the rule (choose.ts). Returns the student, epochs and loss to put in the run config, with the table
// it chose from, so the CLI and the New run page can show why.
import type { FeatureLoss, HintLoss, StudentSpec } from '../../../shared/run-config.js';
import type { z } from 'zod';
import type { Teacher } from '../train/train-types.js';
import { chooseRecipe, chooseTeacherPass, chooseViews, RUN_OVER_MEASURED, type RecipeCandidate, type RecipeChoice } from './choose.js';
import { candidateSpecs, measureCandidate, measureTeacherPass } from './measure.js';
import { DEFAULT_TEACHER_VIEWS } from '../../../shared/run-config.js';
import { teacherPooledDim } from '../train/feature-needs.js';
import { planHints } from '../train/hint-plan.js';
import { createStudent } from '../models/index.js';

/** Decoding a 200×200 JPEG with sharp costs ≈ 4 ms of CPU (docs/DECISIONS.md "Decoding cost"), paid once per image. */
const DECODE_SECONDS_PER_IMAGE = 0.004;
/**
 * The teacher cache's pass over a view costs more than the teacher's measured forward: it renders each
 * crop at the teacher's size and stores the rows. Measured on cat/dog (30 views of 2,200 images at
 * 224 px): 17–19 minutes against 12.6 from the measured img/s.
 */
const VIEW_PASS_OVER_MEASURED = 1.35;
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
  /** Matched-channel hints, with the teacher live, where the student is slimmed from the teacher's backbone. */
  hint: z.input<typeof HintLoss> | null;
  teacherImgPerSec: number | null;
  /**
   * 'views': the teacher labels `views` stored crops per image once (run config teacherViews), more
   * when the budget has time the epochs cannot use; 'off': the teacher runs live, a fresh crop every
   * epoch (chosen when the cache would hold one view per epoch anyway).
   */
  teacherCache: 'views' | 'off';
  views: number | null;
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
  const teacherForwardSeconds = teacherImgPerSec ? o.trainImages / teacherImgPerSec : 0;
  const secondsPerView = teacherForwardSeconds * VIEW_PASS_OVER_MEASURED;
  const decodeSeconds = (o.trainImages + o.valImages) * DECODE_SECONDS_PER_IMAGE;
  // Measuring is part of the run's minutes too.
  const fixedSeconds = (performance.now() - started) / 1000 + decodeSeconds;
  const choice = chooseRecipe(measured, {
    maxParams: o.maxParams,
    minutes: o.minutes,
    trainImages: o.trainImages,
    overheadSeconds: fixedSeconds + secondsPerView * DEFAULT_TEACHER_VIEWS,
    valImages: o.valImages,
  });
  const bytesPerView = o.trainImages * (o.classes * 4 + (featureDim ?? 0) * 2);
  const baseViews = Math.min(choice.epochs, DEFAULT_TEACHER_VIEWS);
  const views = chooseViews({
    epochs: choice.epochs,
    spareSeconds: o.minutes * 60 - choice.expectedSeconds,
    secondsPerView,
    maxViews: Math.floor(VIEW_CACHE_BYTES / Math.max(1, bytesPerView)),
  });
  const teacherSecondsPerEpoch = teacherForwardSeconds * RUN_OVER_MEASURED;
  const hints = o.teacher !== null && (await hintsFit(choice.candidate.student, o.classes, o.teacher));
  const pass = o.teacher
    ? chooseTeacherPass({ epochs: choice.epochs, views }, { seconds: o.minutes * 60 - fixedSeconds, secondsPerEpoch: choice.secondsPerEpoch, teacherSecondsPerEpoch }, hints)
    : ({ mode: 'views', epochs: choice.epochs, views } as const);
  o.onProgress?.(specs.length + 1, specs.length + 1, 'recipe chosen');
  const common = { ...choice, student: choice.candidate.student, feature: featureDim ? RECIPE_FEATURE_LOSS : null, hint: null, teacherImgPerSec };
  if (pass.mode === 'live') {
    const hint = hints ? RECIPE_HINT_LOSS : null;
    // The table shows the chosen student's epochs as planned.
    const table = choice.table.map((r) => (r.student === choice.candidate.student ? { ...r, epochs: pass.epochs, verdict: `${r.verdict} (teacher live)` } : r));
    return { ...common, hint, epochs: pass.epochs, expectedSeconds: fixedSeconds + pass.epochs * pass.secondsPerEpoch, teacherCache: 'off', views: null, table };
  }
  return { ...common, expectedSeconds: choice.expectedSeconds + (views - baseViews) * secondsPerView, teacherCache: 'views', views };
}

/**
 * Feature distillation when the teacher exposes pooled features: a two-class soft label carries about
 * one bit per image, the teacher's feature vector hundreds of values. Its features come from the same
 * teacher pass as the soft labels (cached per view, or live), so it adds only the adapter's cost to a step.
 */
export const RECIPE_FEATURE_LOSS = { weight: 1, kind: 'mse' } as const;

/**
 * Matched-channel hints when the student is slimmed (or cut) from the teacher's own backbone: its
 * intermediate maps regress the teacher's at the channels it kept, many values per image from the
 * live teacher's pass (which the plan then prefers, choose.ts). Measured on cat/dog (slimmed MobileNet
 * v1 ×0.5 at 224 px, teacher live, 6 epochs, same seed): 93.1% with hints against 90.9% without.
 */
export const RECIPE_HINT_LOSS = { weight: 1 } as const;

/** Whether hints can match this student to the teacher (its layers, channels kept from the same backbone). */
async function hintsFit(student: StudentSpec, classes: number, teacher: Teacher): Promise<boolean> {
  if ('arch' in student) return false;
  const model = await createStudent(student, classes, 0);
  try {
    await planHints(student, model, teacher, undefined);
    return true;
  } catch {
    return false;
  } finally {
    model.dispose();
  }
}
