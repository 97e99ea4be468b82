// The feature taps of an ONNX teacher: the values the feature methods read, as outputs of the graph.
//   pooled: the value named, or by default the data input of the last Gemm/MatMul before the logits
//           (the classifier's input); a spatial value is averaged over positions;
//   map:    the value named, or by default the input of the global average pooling before the logits
//           (the last spatial stage), returned NHWC like the layers teachers' maps.
// Values that are not graph outputs are added to graph.output in a copy of the model, and the tap opens
// one session on that copy: each batch is one run that returns the logits and the tapped values together.
// Shapes come from the graph's declarations, else onnxruntime's shape inference, else one blank batch.
import { classifierInput, declaredShape, globalPoolInput, graphOutputs, valueNames, withOutputs, type Dim } from '../onnx/model-proto.js';
import { pooled, spatialChannels, spatialLayout, toNhwc, type SpatialLayout } from '../onnx/spatial.js';
import type { TapWant } from '../models/feature-tap.js';
import type { HostTap } from './host-tap.js';
import { openOnnxImageModel, runOnnxImageOutputs, type LogitsReader, type OnnxImageModel } from './onnx-teacher.js';
import type { Preprocessing } from './preprocessing.js';

export interface OnnxTaps {
  /** Opens the tap for `want` and gives the pooled size; rejects naming the file and the value where it cannot be tapped. */
  info(want: TapWant): Promise<{ featureDim: number | null }>;
  /** Logits and the values `want` reads for `n` images [n,S,S,3] at the model's size, from one run. */
  run(pixels: Float32Array, n: number, want: TapWant): Promise<HostTap>;
  dispose(): void;
}

interface TappedValue {
  name: string;
  /** Space's axes where the value is rank 4; null for [N, D] features. */
  layout: SpatialLayout | null;
}

interface Tap {
  /** The session that returns the tapped values (the teacher's own where they are already outputs). */
  m: OnnxImageModel;
  own: boolean;
  pooled?: TappedValue;
  map?: TappedValue;
  featureDim: number | null;
}

const fmt = (dims: readonly (number | string | null)[]): string => `[${dims.map((d) => (typeof d === 'number' ? d : (d ?? '?'))).join(', ')}]`;

/** Dims [N, …] whose non-batch sizes are all known, else null. */
function concrete(dims: readonly Dim[] | readonly (number | string)[] | null | undefined): number[] | null {
  if (!dims || dims.length < 2) return null;
  const rest = dims.slice(1);
  return rest.every((d): d is number => typeof d === 'number' && d > 0) ? [1, ...rest] : null;
}

/**
 * The taps of the ONNX teacher `base` (its session stays the teacher's, for logits alone). `what` names
 * the teacher in errors; `read` turns its output rows into logits in the run's class order.
 */
export function onnxTaps(base: OnnxImageModel, pre: Preprocessing, read: LogitsReader, what: string): OnnxTaps {
  const { file, model } = base;
  const logits = base.output.name;
  const who = `${what} (${file})`;
  const taps = new Map<string, Promise<Tap>>();

  const valueFor = (want: TapWant, kind: 'pooled' | 'map'): string => {
    if (want.layer !== undefined) {
      const names = valueNames(model);
      if (!names.includes(want.layer)) throw new Error(`${who} has no value "${want.layer}" in its graph (its last values: ${names.slice(-8).join(', ')})`);
      return want.layer;
    }
    const found = kind === 'pooled' ? classifierInput(model, logits) : globalPoolInput(model, logits);
    if (!found) {
      throw new Error(
        kind === 'pooled'
          ? `${who} has no Gemm or MatMul before its output "${logits}", so its features cannot be tapped (name a value of its graph to read)`
          : `${who} has no global average pooling before its output "${logits}", so it has no attention map (name a value of its graph to read)`,
      );
    }
    return found;
  };

  const open = async (want: TapWant): Promise<Tap> => {
    const names = [...new Set([...(want.pooled ? [valueFor(want, 'pooled')] : []), ...(want.map ? [valueFor(want, 'map')] : [])])];
    const outputs = new Set(graphOutputs(model).map((o) => o.name));
    const own = names.some((n) => !outputs.has(n));
    const m = own ? await openOnnxImageModel(file, { bytes: withOutputs(model, names) }) : base;
    try {
      // Shapes: declared, else inferred by onnxruntime, else measured on one blank batch.
      const inferred = new Map(m.session.outputMetadata.map((o) => [o.name, o.isTensor ? o.shape : null] as const));
      const shapes = new Map(names.map((n) => [n, concrete(declaredShape(model, n)) ?? concrete(inferred.get(n))]));
      const unknown = names.filter((n) => !shapes.get(n));
      if (unknown.length) {
        const k = m.input.fixedBatch ?? 1;
        const S = m.input.size;
        const outs = await runOnnxImageOutputs(m, new Float32Array(k * S * S * 3), k, pre, unknown);
        unknown.forEach((n, j) => shapes.set(n, [...outs[j]!.dims]));
      }
      const value = (name: string, ranks: readonly number[], role: string): TappedValue => {
        const dims = shapes.get(name)!;
        if (!ranks.includes(dims.length)) throw new Error(`${who}: value "${name}" has shape ${fmt(dims.map((d, i) => (i === 0 ? 'N' : d)))}, not ${role}`);
        return { name, layout: dims.length === 4 ? spatialLayout(dims, base.input.layout) : null };
      };
      const tap: Tap = { m, own, featureDim: null };
      if (want.pooled) {
        tap.pooled = value(valueFor(want, 'pooled'), [2, 4], 'features ([N, D], or a spatial [N, C, H, W] / [N, H, W, C] averaged over positions)');
        const dims = shapes.get(tap.pooled.name)!;
        tap.featureDim = tap.pooled.layout ? spatialChannels(dims, tap.pooled.layout) : dims[1]!;
      }
      if (want.map) tap.map = value(valueFor(want, 'map'), [4], 'a spatial map ([N, C, H, W] or [N, H, W, C])');
      return tap;
    } catch (err) {
      if (own) void m.session.release();
      throw err;
    }
  };

  // One tap per want, opened once (a failed one keeps its reason).
  const tapFor = (want: TapWant): Promise<Tap> => {
    if (want.hints?.length) {
      // Hints match layers by name and channels kept from a TF.js backbone; an ONNX graph's values are neither.
      return Promise.reject(new Error(`${who} is an ONNX model: hints read the layers of a TF.js layers teacher built on the student's backbone`));
    }
    const key = `${want.pooled}|${want.map}|${want.layer ?? ''}`;
    let t = taps.get(key);
    if (!t) {
      t = open(want);
      taps.set(key, t);
    }
    return t;
  };

  return {
    info: async (want) => ({ featureDim: (await tapFor(want)).featureDim }),
    run: async (pixels, n, want) => {
      const tap = await tapFor(want);
      if (n === 0) return { logits: new Float32Array(0) };
      const names = [logits, ...(tap.pooled ? [tap.pooled.name] : []), ...(tap.map ? [tap.map.name] : [])];
      const outs = await runOnnxImageOutputs(tap.m, pixels, n, pre, names);
      const head = outs[0]!;
      const out: HostTap = { logits: read(head.rows, head.rows.length / n, n) };
      let j = 1;
      if (tap.pooled) {
        const v = outs[j++]!;
        const p = pooled(v.rows, v.dims, tap.pooled.layout ?? base.input.layout);
        out.features = { data: p.data, dim: p.dim };
      }
      if (tap.map) {
        const v = outs[j++]!;
        out.map = toNhwc(v.rows, v.dims, tap.map.layout!);
      }
      return out;
    },
    dispose: () => {
      for (const t of taps.values()) t.then((tap) => void (tap.own && tap.m.session.release()), () => undefined);
      taps.clear();
    },
  };
}
