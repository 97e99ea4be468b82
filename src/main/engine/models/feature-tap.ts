// The feature tap: a classifier's intermediate values alongside its output, as one model sharing the
// classifier's layers and weights. Two values are tapped, for every feature-based method:
//   pooled: the input of its final Dense layer, [N, D] (feature regression, FitNets, RKD, UDML);
//   map:    the input of its last global average pooling, [N, H, W, C] (attention transfer).
// A model without one of them cannot serve the methods that read it, and says why. Hints add the
// outputs of named intermediate layers (spatial maps) after those two.
import * as tf from '@tensorflow/tfjs';

export interface TapWant {
  pooled: boolean;
  map: boolean;
  /**
   * A named layer whose output is read instead of the default: for `map` it must be spatial
   * (rank 4); for `pooled` a rank-2 output is read as it is and a spatial one is averaged over positions.
   */
  layer?: string;
  /** Intermediate layers whose outputs (rank 4) are read too, in this order (matched-channel hints). */
  hints?: string[];
}

export interface TapModel {
  /** outputs: [classifier output, pooled?, map?, ...hints] in that order. Shares weights; never dispose it. */
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

/** The output of the layer `name`, or an error naming `what` and the layers it has. */
function namedOutput(model: tf.LayersModel, name: string, what: string): tf.SymbolicTensor {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) throw new Error(`${what} has no layer "${name}" (its last layers: ${model.layers.slice(-6).map((l) => l.name).join(', ')})`);
  const out = layer.output;
  if (Array.isArray(out)) throw new Error(`${what}: layer "${name}" has several outputs`);
  return out;
}

/** The values a tap reads (see TapWant), or an error naming `what` and the problem. */
export function tapValues(model: tf.LayersModel, want: TapWant, what: string): { pooled?: tf.SymbolicTensor; map?: tf.SymbolicTensor; hints?: tf.SymbolicTensor[] } {
  const named = want.layer !== undefined ? namedOutput(model, want.layer, what) : null;
  const out: { pooled?: tf.SymbolicTensor; map?: tf.SymbolicTensor; hints?: tf.SymbolicTensor[] } = {};
  if (want.pooled) {
    if (named && named.rank === 2) out.pooled = named;
    else if (named && named.rank === 4) out.pooled = tf.layers.globalAveragePooling2d({ name: `${model.name}_tap_pool_${named.name.replace(/[^A-Za-z0-9_]/g, '_')}` }).apply(named) as tf.SymbolicTensor;
    else if (named) throw new Error(`${what}: layer "${want.layer}" gives a rank-${named.rank} output, not features`);
    else {
      const p = pooledInput(model);
      if (!p) throw new Error(`${what} has no Dense head on pooled features, so its features cannot be tapped (name a layer to read)`);
      out.pooled = p;
    }
  }
  if (want.map) {
    if (named && named.rank !== 4) throw new Error(`${what}: layer "${want.layer}" gives a rank-${named.rank} output, not a spatial map`);
    const m = named ?? mapInput(model);
    if (!m) throw new Error(`${what} has no global average pooling after a spatial stage, so it has no attention map (name a layer to read)`);
    out.map = m;
  }
  if (want.hints?.length) {
    out.hints = want.hints.map((name) => {
      const h = namedOutput(model, name, what);
      if (h.rank !== 4) throw new Error(`${what}: layer "${name}" gives a rank-${h.rank} output, not a spatial map to hint`);
      return h;
    });
  }
  return out;
}

/** A tap for what `want` asks; the error names `what` and the missing layer. */
export function tapModel(model: tf.LayersModel, want: TapWant, what: string): TapModel {
  const v = tapValues(model, want, what);
  const outputs: tf.SymbolicTensor[] = [model.outputs[0]!, ...(v.pooled ? [v.pooled] : []), ...(v.map ? [v.map] : []), ...(v.hints ?? [])];
  const hints = v.hints?.length ? `h${v.hints.length}` : '';
  return { model: tf.model({ inputs: model.inputs, outputs, name: `${model.name}_tap_${want.pooled ? 'p' : ''}${want.map ? 'm' : ''}${hints}` }), want };
}

/** Runs a tap: the classifier output and the tapped values, named. */
export function applyTap(tap: TapModel, x: tf.Tensor4D, training: boolean): TapOutputs<tf.Tensor2D> {
  const outs = (training ? tap.model.apply(x, { training: true }) : tap.model.predict(x)) as tf.Tensor[];
  return splitTapOutputs(Array.isArray(outs) ? outs : [outs], tap.want);
}

export interface TapOutputs<Out> {
  out: Out;
  pooled?: tf.Tensor2D;
  map?: tf.Tensor4D;
  hints?: tf.Tensor4D[];
}

/** A tap model's outputs, named (see TapModel.outputs for the order). */
export function splitTapOutputs(list: tf.Tensor[], want: TapWant): TapOutputs<tf.Tensor2D> {
  let i = 1;
  return {
    out: list[0] as tf.Tensor2D,
    ...(want.pooled && { pooled: list[i++] as tf.Tensor2D }),
    ...(want.map && { map: list[i++] as tf.Tensor4D }),
    ...(want.hints?.length && { hints: list.slice(i, i + want.hints.length) as tf.Tensor4D[] }),
  };
}
