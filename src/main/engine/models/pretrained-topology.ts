// Surgery on a TF.js layers model.json topology (Keras 2 JSON): cut it at a feature layer (keeping
// only what that layer depends on), give it a new input size and put our [0,255] → [−1,1] Rescaling
// in front. Working on the JSON keeps the result a plain model of standard layers, so a student made
// from it saves, loads, resumes and exports like the built-in architectures.
import fs from 'node:fs';
import { z } from 'zod';
import { INPUT_OFFSET, INPUT_SCALE } from './normalize.js';

const InboundRef = z.tuple([z.string(), z.number().int(), z.number().int()]).rest(z.unknown());
const LayerJson = z.object({
  class_name: z.string(),
  name: z.string().optional(),
  config: z.record(z.string(), z.unknown()).and(z.object({ name: z.string() })),
  inbound_nodes: z.array(z.array(InboundRef)).optional(),
});
export type LayerJson = z.infer<typeof LayerJson>;

const ModelConfig = z.object({
  class_name: z.string(),
  config: z.union([
    z.array(LayerJson),
    z.object({
      name: z.string().optional(),
      layers: z.array(LayerJson),
      input_layers: z.array(z.tuple([z.string(), z.number(), z.number()])).optional(),
      output_layers: z.array(z.tuple([z.string(), z.number(), z.number()])).optional(),
    }),
  ]),
});
const ModelFile = z.object({
  modelTopology: z.object({ model_config: ModelConfig.optional() }).and(z.record(z.string(), z.unknown())),
});

/** A single-input functional graph: layers in topological order, each naming the layers it reads. */
export interface Topology {
  file: string;
  layers: LayerJson[];
  input: string;
}

/** The square input side a model was saved with ([null, S, S, 3]), or null where it is not fixed. */
export function nativeInputSize(t: Topology): number | null {
  const shape = t.layers.find((l) => l.config.name === t.input)?.config.batch_input_shape;
  if (!Array.isArray(shape) || shape.length !== 4) return null;
  const [, h, w] = shape as unknown[];
  return typeof h === 'number' && h > 0 && h === w ? h : null;
}

/** Layers applied once, inputs by name (a layer shared between several calls is refused). */
export function inputsOf(l: LayerJson): string[] {
  const nodes = l.inbound_nodes ?? [];
  return nodes.length ? nodes[0]!.map((r) => r[0]) : [];
}

export function readTopology(file: string): Topology {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read model.json (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = ModelFile.safeParse(raw);
  const top = parsed.success ? (parsed.data.modelTopology.model_config ?? ModelConfig.safeParse(parsed.data.modelTopology).data) : undefined;
  if (!top) throw new Error(`${file}: not a TF.js layers model (no Keras model topology; graph models cannot be students)`);
  if (Array.isArray(top.config) || top.class_name === 'Sequential') return fromSequential(file, Array.isArray(top.config) ? top.config : top.config.layers);
  const layers = top.config.layers;
  for (const l of layers) {
    if ((l.inbound_nodes ?? []).length > 1) throw new Error(`${file}: layer "${l.config.name}" is applied more than once; shared layers are not supported in students`);
    if (l.class_name === 'Model' || l.class_name === 'Functional' || l.class_name === 'Sequential') {
      throw new Error(`${file}: layer "${l.config.name}" is a nested model; save the backbone as one flat model`);
    }
  }
  const inputs = top.config.input_layers ?? layers.filter((l) => l.class_name === 'InputLayer').map((l) => [l.config.name, 0, 0] as const);
  if (inputs.length !== 1) throw new Error(`${file}: a student needs a model with one image input, this one has ${inputs.length}`);
  return { file, layers, input: inputs[0]![0] };
}

function fromSequential(file: string, seq: LayerJson[]): Topology {
  const first = seq[0];
  const shape = first?.config.batch_input_shape;
  if (!first || !Array.isArray(shape)) throw new Error(`${file}: a Sequential model without batch_input_shape on its first layer`);
  const input: LayerJson = {
    class_name: 'InputLayer',
    name: 'input',
    config: { name: 'input', batch_input_shape: shape, dtype: 'float32', sparse: false },
    inbound_nodes: [],
  };
  const layers: LayerJson[] = [input];
  let prev = 'input';
  for (const l of seq) {
    layers.push({ ...l, name: l.config.name, inbound_nodes: [[[prev, 0, 0, {}]]] });
    prev = l.config.name;
  }
  return { file, layers, input: 'input' };
}

const POOLING = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'GlobalMaxPool2D', 'GlobalAvgPool2D']);

/** Default feature layer: the last global pooling; else the input of the last Dense layer. */
export function defaultFeatureLayer(t: Topology): string {
  const pools = t.layers.filter((l) => POOLING.has(l.class_name));
  if (pools.length) return pools[pools.length - 1]!.config.name;
  const dense = t.layers.filter((l) => l.class_name === 'Dense');
  const feed = dense.length ? inputsOf(dense[dense.length - 1]!) : [];
  if (feed.length === 1) return feed[0]!;
  throw new Error(`${t.file}: no global pooling or Dense head to find the feature layer; name one with featureLayer`);
}

/** Keeps only `layer` and what it depends on, in the original order. */
export function cutAt(t: Topology, layer: string): Topology {
  const byName = new Map(t.layers.map((l) => [l.config.name, l]));
  if (!byName.has(layer)) {
    throw new Error(`${t.file}: no layer "${layer}" (layers: ${t.layers.map((l) => l.config.name).slice(-8).join(', ')}, …)`);
  }
  const keep = new Set<string>();
  const stack = [layer];
  while (stack.length) {
    const n = stack.pop()!;
    if (keep.has(n)) continue;
    keep.add(n);
    stack.push(...inputsOf(byName.get(n)!));
  }
  return { ...t, layers: t.layers.filter((l) => keep.has(l.config.name)) };
}

/** BatchNorm momentum of pretrained students (Keras: moving = m·moving + (1−m)·batch); torch's default 0.1 ⇒ 0.9. */
export const STUDENT_BN_MOMENTUM = 0.9;

/** A name not used by any layer of `t` (our normalize/pool/head layers must not collide with the source's). */
export function freshName(t: Topology, base: string): string {
  const used = new Set(t.layers.map((l) => l.config.name));
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  return name;
}

/**
 * The model JSON of the cut graph at input side `size`, with a Rescaling ([0,255] → [−1,1], what
 * MobileNet-family backbones expect) between the input and everything that read it.
 */
export function studentTopologyJson(t: Topology, output: string, size: number, modelName: string): Record<string, unknown> {
  const normalize = freshName(t, 'normalize');
  const layers: LayerJson[] = [];
  for (const l of t.layers) {
    if (l.config.name === t.input) {
      layers.push({ ...l, config: { ...l.config, batch_input_shape: [null, size, size, 3], dtype: 'float32' } });
      layers.push({
        class_name: 'Rescaling',
        name: normalize,
        config: { name: normalize, scale: INPUT_SCALE, offset: INPUT_OFFSET, trainable: true, dtype: 'float32' },
        inbound_nodes: [[[t.input, 0, 0, {}]]],
      });
      continue;
    }
    const nodes = (l.inbound_nodes ?? []).map((node) => node.map((r) => (r[0] === t.input ? [normalize, ...r.slice(1)] : r)));
    // A student's BatchNorm statistics must follow its new data (and, slimmed, its fewer input channels)
    // within a short run: Keras's 0.99 keeps 25% of the source's statistics after 138 steps, 0.9 none.
    const config = l.class_name === 'BatchNormalization' ? { ...l.config, momentum: STUDENT_BN_MOMENTUM } : l.config;
    layers.push({ ...l, config, inbound_nodes: nodes as LayerJson['inbound_nodes'] });
  }
  return {
    class_name: 'Model',
    config: { name: modelName, layers, input_layers: [[t.input, 0, 0]], output_layers: [[output, 0, 0]] },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
}
