// Which pixel range a model expects (imported teachers, backbones); ours take [0,255] and normalize inside.
import { z } from 'zod';

export const InputRange = z.enum(['0-255', '0-1', '-1-1']);
export type InputRange = z.infer<typeof InputRange>;
