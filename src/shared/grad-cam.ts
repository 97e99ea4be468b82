// `distill explain --json`'s result: Grad-CAM maps (rows of [0, 1]) of a run's student and its teacher.
import { z } from 'zod';

const Cam = z.object({ label: z.string().nullable(), classIndex: z.number().int(), probs: z.array(z.number()), cam: z.array(z.array(z.number())) });

export const ExplainResult = z.object({
  image: z.string(),
  classes: z.array(z.string()),
  run: z.number().int(),
  student: Cam,
  teacher: z.union([Cam.extend({ name: z.string() }), z.object({ name: z.string(), unavailable: z.string() })]).nullable(),
});
export type ExplainResult = z.infer<typeof ExplainResult>;
export type CamMap = z.infer<typeof Cam>;
