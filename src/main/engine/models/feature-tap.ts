// The feature tap: a classifier's intermediate values alongside its output, as one model sharing the
// classifier's layers and weights. Two values are tapped, for every feature-based method:
//   pooled: the input of its final Dense layer, [N, D] (feature regression, FitNets, RKD, UDML);
//   map:    the input of its last global average pooling, [N, H, W, C] (attention transfer).
// A model without one of them cannot serve the methods that read it, and says why.
import * as tf from '@tensorflow/tfjs';

export interface TapWant {
  pooled: boolean;
  map: boolean;
}

export interface TapModel {
  /** outputs: [classifier output, pooled?, map?] in that order. Shares weights; never dispose it. */
  model: tf.LayersModel;
  want: TapWant;
}

/** The input of the last Dense layer when it is one 2-D tensor fed once. */
function pooledInput(model: tf.LayersModel): tf.SymbolicTensor | null {
  const dense = [...model.layers].reverse().find((l) => l.getClassName() === 'Dense');
  if (!dense || dense.inboundNodes.length !== 1) return null;
  const input = dense.input;
  if (Array.isArray(input) || input.rank !== 2 || typeof input.shape[1] !== 'number') return null;
  return input;
}

/** The input of the last global average pooling when it is one 4-D tensor fed once. */
function mapInput(model: tf.LayersModel): tf.SymbolicTensor | null {
  const gap = [...model.layers].reverse().find((l) => l.getClassName() === 'GlobalAveragePooling2D');
  if (!gap || gap.inboundNodes.length !== 1) return null;
  const input = gap.input;
  if (Array.isArray(input) || input.rank !== 4 || typeof input.shape[3] !== 'number') return null;
  return input;
}

/** Size of the pooled features, or null where the model has no Dense head on them. */
export function pooledDim(model: tf.LayersModel): number | null {
  return (pooledInput(model)?.shape[1] as number | undefined) ?? null;
}

/** Whether the model has a spatial stage before a global average pooling (attention maps). */
export function hasSpatialMap(model: tf.LayersModel): boolean {
  return mapInput(model) !== null;
}

/** A tap for what `want` asks; the error names `what` and the missing layer. */
export function tapModel(model: tf.LayersModel, want: TapWant, what: string): TapModel {
  const outputs: tf.SymbolicTensor[] = [model.outputs[0]!];
  if (want.pooled) {
    const p = pooledInput(model);
    if (!p) throw new Error(`${what} has no Dense head on pooled features, so its features cannot be tapped`);
    outputs.push(p);
  }
  if (want.map) {
    const m = mapInput(model);
    if (!m) throw new Error(`${what} has no global average pooling after a spatial stage, so it has no attention map`);
    outputs.push(m);
  }
  return { model: tf.model({ inputs: model.inputs, outputs, name: `${model.name}_tap_${want.pooled ? 'p' : ''}${want.map ? 'm' : ''}` }), want };
}

/** Runs a tap: the classifier output and the tapped values, named. */
export function applyTap(tap: TapModel, x: tf.Tensor4D, training: boolean): { out: tf.Tensor2D; pooled?: tf.Tensor2D; map?: tf.Tensor4D } {
  const outs = (training ? tap.model.apply(x, { training: true }) : tap.model.predict(x)) as tf.Tensor[];
  const list = Array.isArray(outs) ? outs : [outs];
  let i = 1;
  return {
    out: list[0] as tf.Tensor2D,
    ...(tap.want.pooled && { pooled: list[i++] as tf.Tensor2D }),
    ...(tap.want.map && { map: list[i++] as tf.Tensor4D }),
  };
}
