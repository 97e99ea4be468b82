// Saving and loading tf.LayersModel folders (model.json + weights.bin, the TF.js layers format) and
// optimizer state, with plain fs: the file:// handler exists only in tfjs-node, which is optional here.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.js';
import './models/index.js'; // registers the project's custom layers before any model.json is read

export const WEIGHTS_FILE = 'weights.bin';

const ModelJson = z.object({
  format: z.string().optional(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(
    z.object({ paths: z.array(z.string()), weights: z.array(z.record(z.string(), z.unknown())) }),
  ),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
});

function joinWeightData(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error('model.save produced no artifacts');
  return artifacts;
}

/** Writes model.json + weights.bin into `dir` (each file atomically). */
export interface SaveModelOptions {
  metadata?: Record<string, unknown>;
  /** File names inside the folder (a checkpoint holds several models side by side). */
  jsonName?: string;
  weightsName?: string;
  transformWeights?: (
    specs: tf.io.WeightsManifestEntry[],
    data: ArrayBuffer,
  ) => { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer };
}

export async function saveModelDir(model: tf.LayersModel, dir: string, opts: SaveModelOptions = {}): Promise<string[]> {
  const { metadata = {}, jsonName = 'model.json', weightsName = WEIGHTS_FILE, transformWeights } = opts;
  const a = await modelArtifacts(model);
  let specs = a.weightSpecs ?? [];
  let data = joinWeightData(a.weightData ?? new ArrayBuffer(0));
  if (transformWeights) ({ specs, data } = transformWeights(specs, data));
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'Distill Studio',
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: [weightsName], weights: specs }],
    userDefinedMetadata: metadata,
  };
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, weightsName), new Uint8Array(data));
  writeFileAtomic(path.join(dir, jsonName), JSON.stringify(json));
  return [path.join(dir, jsonName), path.join(dir, weightsName)];
}

export function readModelJson(dirOrFile: string): z.infer<typeof ModelJson> & { dir: string } {
  const file = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, 'model.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read model.json (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = ModelJson.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: not a TF.js layers model.json (${parsed.error.issues[0]?.message})`);
  return { ...parsed.data, dir: path.dirname(file) };
}

/** Loads a TF.js layers model folder (or model.json path) written by us or by the TF.js converter. */
export async function loadModelDir(dirOrFile: string): Promise<tf.LayersModel> {
  const mj = readModelJson(dirOrFile);
  const buffers: ArrayBuffer[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of mj.weightsManifest) {
    for (const p of group.paths) {
      const buf = fs.readFileSync(path.join(mj.dir, p));
      buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    }
    specs.push(...(group.weights as unknown as tf.io.WeightsManifestEntry[]));
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: mj.modelTopology,
      weightSpecs: specs,
      weightData: tf.io.concatenateArrayBuffers(buffers),
    }),
  );
}

export function modelMetadata(dirOrFile: string): Record<string, unknown> {
  return readModelJson(dirOrFile).userDefinedMetadata ?? {};
}

/** Optimizer slots (Adam moments, iteration) → one binary file + its specs, written atomically. */
export async function saveOptimizerState(optimizer: tf.Optimizer, file: string): Promise<void> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  // getWeights() makes a fresh 'iter' scalar each call; the slots themselves are the optimizer's variables.
  for (const { tensor } of named) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  writeFileAtomic(file, new Uint8Array(joinWeightData(data)));
  writeFileAtomic(file + '.json', JSON.stringify(specs));
}

export async function loadOptimizerState(optimizer: tf.Optimizer, file: string): Promise<void> {
  const specs = JSON.parse(fs.readFileSync(file + '.json', 'utf8')) as tf.io.WeightsManifestEntry[];
  const buf = fs.readFileSync(file);
  const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), specs);
  // Order matters: optimizers match slots to variables by position.
  await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: map[s.name]! })));
}
