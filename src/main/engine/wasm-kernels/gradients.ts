// Gradients of Sum and Mean without a full-size tensor of ones. tfjs 4.22 computes both as
// dy (reshaped) × ones(x.shape): the ones are built as a JS array and uploaded on every call —
// for BatchNorm's moments in MobileNetV2 that is ~170 ms of a training step. Broadcasting dy
// (a Tile, see elementwise.ts) gives the same numbers (×1 is exact). Gradients are global in tfjs,
// so this applies to every backend.
import * as tf from '@tensorflow/tfjs';

function expanded(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const shape = x.shape.slice();
  for (const a of tf.util.parseAxisParam(axis, x.shape)) shape[a] = 1;
  const e = tf.reshape(dy, shape);
  return tf.broadcastTo(e.dtype === 'float32' ? e : tf.cast(e, 'float32'), x.shape);
}

let registered = false;

export function registerReductionGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const { axis } = attrs as unknown as tf.SumAttrs;
      return { x: () => expanded(dy as tf.Tensor, x, axis) };
    },
  });
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const { axis } = attrs as unknown as tf.MeanAttrs;
      const reduceSize = tf.util.parseAxisParam(axis, x.shape).reduce((n, a) => n * x.shape[a]!, 1);
      return { x: () => tf.div(expanded(dy as tf.Tensor, x, axis), reduceSize) };
    },
  });
}
