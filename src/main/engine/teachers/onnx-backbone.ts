// An .onnx image model as a frozen backbone, run by onnxruntime. The feature layer is a value of the
// graph: the one named, or by default the input of the last Gemm/MatMul before the first output (the
// classifier's input). A value that is not a graph output is added to graph.output in a rewritten copy,
// and the session is created from those bytes. Spatial features are global-average-pooled; their layout
// is read from the shape (the two equal dims are space), or where that is ambiguous taken as the input's.
// The teacher it trains is saved as one .onnx file: this model cut at the feature, then the head.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { classifierInput, graphOutputs, readModelProto, valueNames, withDenseHead, withOutputs, type ModelProto } from '../onnx/model-proto.js';
import { pooled, spatialLayout } from '../onnx/spatial.js';
import type { Backbone } from './backbone.js';
import type { TrainedHead } from './feature-head.js';
import { imageInputOf, openOnnxImageModel, runOnnxImages, type OnnxImageModel } from './onnx-teacher.js';
import type { Preprocessing } from './preprocessing.js';

export interface OnnxBackbone extends Backbone {
  readonly kind: 'onnx';
  /** The teacher: this model cut at the feature layer, pooled, then `head`'s dense layers; its only output is the logits. */
  teacherModel(head: TrainedHead): Uint8Array;
}

export interface OnnxBackboneOptions {
  name: string;
  file: string;
  preprocessing: Preprocessing;
  featureLayer?: string;
  threads?: number;
}

/** The name of the logits output in a saved backbone teacher. */
export const TEACHER_LOGITS = 'distill_logits';

function pickFeature(file: string, model: ModelProto, wanted: string | undefined): string {
  const names = valueNames(model);
  if (wanted) {
    if (!names.includes(wanted)) {
      throw new Error(`${file}: feature layer "${wanted}" is not a value of the graph (its last values: ${names.slice(-8).join(', ')})`);
    }
    return wanted;
  }
  const out = graphOutputs(model)[0]!.name;
  const found = classifierInput(model, out);
  if (!found) {
    throw new Error(`${file}: no Gemm or MatMul leads to output "${out}", so there is no default feature layer; name one with --feature-layer (its last values: ${names.slice(-8).join(', ')})`);
  }
  return found;
}

export async function loadOnnxBackbone(o: OnnxBackboneOptions): Promise<OnnxBackbone> {
  const { model, bytes } = readModelProto(o.file);
  const input = imageInputOf(o.file, model);
  const feature = pickFeature(o.file, model, o.featureLayer);
  const exposed = graphOutputs(model).some((v) => v.name === feature) ? bytes : withOutputs(model, [feature]);
  const m: OnnxImageModel = await openOnnxImageModel(o.file, { bytes: exposed, output: feature, threads: o.threads });
  // One run on a blank batch gives the feature's shape.
  const probeN = m.input.fixedBatch ?? 1;
  const S = input.size;
  const probe = await runOnnxImages(m, new Float32Array(probeN * S * S * 3), probeN, o.preprocessing);
  const rank = probe.dims.length;
  if (rank !== 2 && rank !== 4) {
    void m.session.release();
    throw new Error(`${o.file}: feature layer "${feature}" has shape [${probe.dims.join(', ')}]; need [N, D] or a spatial [N, C, H, W] / [N, H, W, C]`);
  }
  const spatial = rank === 4 ? spatialLayout(probe.dims, input.layout) : null;
  const featureDim = spatial ? pooled(probe.rows, probe.dims, spatial).dim : probe.dims[1]!;
  const id = createHash('sha1').update(fs.readFileSync(o.file)).update(`\0${feature}\0${JSON.stringify(o.preprocessing)}`).digest('hex');
  return {
    kind: 'onnx',
    name: o.name,
    id,
    inputSize: S,
    featureDim,
    featureLayer: feature,
    preprocessing: o.preprocessing,
    async features(x: tf.Tensor4D): Promise<Float32Array> {
      const n = x.shape[0];
      const px = (await x.data()) as Float32Array;
      const r = await runOnnxImages(m, px, n, o.preprocessing);
      return spatial ? pooled(r.rows, r.dims, spatial).data : r.rows;
    },
    teacherModel(head: TrainedHead): Uint8Array {
      return withDenseHead(model, feature, spatial, head.layers, TEACHER_LOGITS);
    },
    dispose() {
      void m.session.release();
    },
  };
}
