// A model's input contract beyond the [0,255] RGB NHWC batch every part of the engine passes around:
// the pixel range it was trained on and an optional per-channel mean/std (in that range). Imported
// teachers and backbones carry it; our own models take [0,255] and normalize inside.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

import { InputRange } from '../../../shared/input-range.js';

export { InputRange };

const Rgb = z.tuple([z.number(), z.number(), z.number()]);

export const Preprocessing = z.object({
  range: InputRange,
  /** Subtracted after scaling to `range`, per channel (R, G, B). */
  mean: Rgb.optional(),
  /** Divided by after subtracting `mean`, per channel; every value > 0. */
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).optional(),
});
export type Preprocessing = z.infer<typeof Preprocessing>;

export const RAW_PIXELS: Preprocessing = { range: '0-255' };

/** [0,255] RGB NHWC → what the model expects. */
export function applyPreprocessing(x: tf.Tensor4D, p: Preprocessing): tf.Tensor4D {
  return tf.tidy(() => {
    let y: tf.Tensor4D = x;
    if (p.range === '0-1') y = tf.div(y, 255);
    else if (p.range === '-1-1') y = tf.sub(tf.div(y, 127.5), 1);
    if (p.mean) y = tf.sub(y, tf.tensor1d(p.mean));
    if (p.std) y = tf.div(y, tf.tensor1d(p.std));
    return y;
  });
}
