// The models take RGB in [0,255] and normalize inside, so every caller (trainer, eval, export,
// a phone app) feeds the same raw pixels. tfjs-layers 4.22 ships a serializable Rescaling layer,
// so model.json loads back anywhere with no custom class.
import * as tf from '@tensorflow/tfjs';
import { ap, type Sym } from './layers.js';

/** x/127.5 − 1: maps [0,255] to [−1,1]. */
export const INPUT_SCALE = 1 / 127.5;
export const INPUT_OFFSET = -1;

export function normalizeInput(x: Sym): Sym {
  return ap(tf.layers.rescaling({ scale: INPUT_SCALE, offset: INPUT_OFFSET, name: 'normalize' }), x);
}
