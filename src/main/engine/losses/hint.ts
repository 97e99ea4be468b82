// Matched-channel hints: a student cut or slimmed from the teacher's own backbone keeps, layer by
// layer, a known subset of the teacher's channels, so its intermediate maps can regress the teacher's
// maps at those channels directly (FitNets' hints without an adapter). Part `hint`: per layer
//   ‖s − t‖² / ‖t‖²  (over the batch, positions and kept channels)
// averaged over the layers, so every layer counts alike whatever its size and the weight is scale-free;
// 0 when the student reproduces the teacher, 1 when it outputs zeros. The teacher's maps are a fixed target.
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './detach.js';
import type { LossParts } from './types.js';

/** Guards a teacher map that is all zeros (a dead ReLU layer). */
export const HINT_EPS = 1e-8;

/** `teacher[k]` holds only the channels student map k kept, in the same order, at the same size. */
export function hintLoss(student: tf.Tensor4D[], teacher: tf.Tensor4D[]): LossParts {
  if (student.length === 0 || student.length !== teacher.length) throw new Error(`hint loss: ${student.length} student maps vs ${teacher.length} teacher maps`);
  const terms = student.map((s, k) => {
    const t = stopGradient(teacher[k]!);
    if (s.shape.join() !== t.shape.join()) throw new Error(`hint loss: layer ${k}: student map ${JSON.stringify(s.shape)} vs teacher ${JSON.stringify(t.shape)}`);
    return tf.div(tf.sum(tf.square(tf.sub(s, t))), tf.add(tf.sum(tf.square(t)), HINT_EPS));
  });
  return { hint: tf.mean(tf.stack(terms)) as tf.Scalar };
}
