// Students that start pretrained: a TF.js layers model cut at its feature layer ("from"), or a
// slimmed copy of it ("slim"), with our Rescaling in front and a new Dense head for the dataset's
// classes. The result is one flat model of standard layers (no nesting, no custom classes), so
// checkpoints, resume, eval, export and Compare treat it like the built-in architectures.
import * as tf from '@tensorflow/tfjs';
import type { PretrainedStudentSpec, SlimStudentSpec } from '../../../shared/run-config.js';
import { loadModelDir } from '../model-io.js';
import { resolveBackboneFile } from './backbones.js';
import { SeedStream, smallNormal } from './init.js';
import { ap, type Sym } from './layers.js';
import { cutAt, defaultFeatureLayer, freshName, readTopology, studentTopologyJson, type Topology } from './pretrained-topology.js';
import { planSlim, slimTopology, slimWeights, type SlimPlan } from './slim.js';

export interface PretrainedStudent {
  model: tf.LayersModel;
  /** The source layer whose (pooled) output feeds the head. */
  featureLayer: string;
  /** Slim students: the source channels each layer kept. */
  plan?: SlimPlan;
}

/** The plan each slimmed student was built with, so asking for it again reads no weights. */
const builtPlans = new WeakMap<tf.LayersModel, SlimPlan>();

/**
 * The channels a slimmed student kept, layer by layer, as its build chose them: the plan `built` was
 * made with, else chosen again from the source (the choice depends only on the source's weights, so it
 * is the same); null for a student cut whole (`from`).
 */
export async function studentSlimPlan(spec: PretrainedStudentSpec | SlimStudentSpec, built?: tf.LayersModel): Promise<SlimPlan | null> {
  if (!('slim' in spec)) return null;
  const known = built && builtPlans.get(built);
  if (known) return known;
  const file = resolveBackboneFile(spec.slim);
  const full = readTopology(file);
  const topo = cutAt(full, spec.featureLayer ?? defaultFeatureLayer(full));
  const source = await loadModelDir(file);
  try {
    return planSlim(topo, source, spec.width);
  } finally {
    source.dispose();
  }
}

export async function buildPretrainedStudent(
  spec: PretrainedStudentSpec | SlimStudentSpec,
  classes: number,
  seed?: number,
): Promise<PretrainedStudent> {
  const sourceRef = 'from' in spec ? spec.from : spec.slim;
  const file = resolveBackboneFile(sourceRef);
  const full = readTopology(file);
  const featureLayer = spec.featureLayer ?? defaultFeatureLayer(full);
  let topo: Topology = cutAt(full, featureLayer);
  const source = await loadModelDir(file);
  try {
    const plan = 'slim' in spec ? planSlim(topo, source, spec.width) : undefined;
    if (plan) topo = slimTopology(topo, plan);
    const name = 'slim' in spec ? `slim_${Math.round(spec.width * 100)}` : 'pretrained';
    // The JSON is ours (pretrained-topology.ts), built from a model.json that zod validated.
    const topology = studentTopologyJson(topo, featureLayer, spec.inputSize, `${name}_base`);
    const base = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as Parameters<typeof tf.models.modelFromJSON>[0]);
    for (const layer of base.layers) {
      if (layer.weights.length === 0) continue;
      const src = source.getLayer(layer.name).getWeights();
      if (plan) {
        const sliced = slimWeights(layer.getClassName(), src, plan.inChannels.get(layer.name) ?? null, plan.outChannels.get(layer.name) ?? null);
        layer.setWeights(sliced);
        tf.dispose(sliced);
      } else {
        layer.setWeights(src);
      }
    }
    let x = base.outputs[0] as Sym;
    if (x.rank === 4) x = ap(tf.layers.globalAveragePooling2d({ name: freshName(topo, 'pool') }), x);
    if (x.rank !== 2) throw new Error(`${file}: feature layer "${featureLayer}" has rank ${x.rank}; expected a 4-D feature map or a pooled vector`);
    const logits = ap(
      tf.layers.dense({ units: classes, name: freshName(topo, 'logits'), kernelInitializer: smallNormal(new SeedStream(seed)), biasInitializer: 'zeros' }),
      x,
    );
    const model = tf.model({ inputs: base.inputs, outputs: logits, name });
    if (plan) builtPlans.set(model, plan);
    return { model, featureLayer, plan };
  } finally {
    source.dispose();
  }
}
