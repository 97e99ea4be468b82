// Whether a layer's input can carry a gradient to anything trained. The first convolution of a
// net sees only the image (through Rescaling and padding, which hold no weights): the gradient with
// respect to its input reaches no variable, yet tfjs's conv gradients compute it on every step
// (the fused conv's gradient is eager) — 9% of a refnet step, the stem's input being the largest
// map of the net. The training patches (fast-conv-relu.ts) skip it where this says so.
import type * as tf from '@tensorflow/tfjs';

interface NodeLike {
  inboundLayers: tf.layers.Layer[];
}
type LayerWithNodes = tf.layers.Layer & { inboundNodes?: NodeLike[] };

/**
 * False when every layer upstream of `layer` (its single call site, walked back to the inputs) has no
 * trainable weights, so no gradient with respect to its input is ever used; true otherwise, and for
 * shared layers or any shape this cannot read. Read at every call: a layer made trainable later
 * counts at once (the walk stops at the first trainable layer, so a deep layer answers at once).
 */
export function inputNeedsGradient(layer: tf.layers.Layer): boolean {
  const seen = new Set<tf.layers.Layer>();
  const stack: LayerWithNodes[] = [layer as LayerWithNodes];
  while (stack.length > 0) {
    const l = stack.pop()!;
    const nodes = l.inboundNodes;
    if (!nodes || nodes.length !== 1) return true;
    for (const up of nodes[0]!.inboundLayers) {
      if (seen.has(up)) continue;
      seen.add(up);
      if (up.trainableWeights.length > 0) return true;
      stack.push(up as LayerWithNodes);
    }
  }
  return false;
}
