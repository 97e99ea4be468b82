// The default recipe's plan as `distill recipe --json` reports it and the New run page shows it:
// the chosen student, epochs and expected time, with every candidate and why it was or was not chosen.
import { z } from 'zod';
import { FeatureLoss, StudentSpec } from './run-config.js';

export const RecipeCandidateRow = z.object({
  student: StudentSpec,
  params: z.number().int(),
  trainImgPerSec: z.number(),
  epochs: z.number().int(),
  verdict: z.string(),
});

export const RecipePlanResult = z.object({
  student: StudentSpec,
  epochs: z.number().int().positive(),
  expectedMinutes: z.number().nonnegative(),
  feature: FeatureLoss.nullable(),
  teacherImgPerSec: z.number().nullable(),
  /** Teacher views per image (run config teacherViews). */
  views: z.number().int().positive(),
  table: z.array(RecipeCandidateRow),
});
export type RecipePlanResult = z.infer<typeof RecipePlanResult>;

export const RecipeRequest = z.object({
  dataset: z.string().min(1),
  teacher: z.string().min(1),
  /** "0.5M", "500k" or a plain count. */
  params: z.string().default('0.5M'),
  minutes: z.number().positive().max(24 * 60).default(20),
  useLabels: z.boolean().default(true),
  useUnlabeled: z.boolean().default(true),
});
export type RecipeRequest = z.infer<typeof RecipeRequest>;
