// `distill bench`: the engine's throughput per net (src/main/engine/bench), optionally beside the
// PyTorch yardstick run in the same invocation (ratios), and --pipeline: end-to-end training img/s on a
// real image folder, JPEG decoding included, against the same net on synthetic input.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Output } from '../output.js';
import { initBackend } from '../../engine/backend/select.js';
import { compareWithTorch, median, runBench, runTorchRef, torchUnavailable, type BenchLine, type TorchLine } from '../../engine/bench/index.js';
import { batches, ImageCache, type BatchItem } from '../../engine/data/index.js';
import { createModel, parseNetName } from '../../engine/models/index.js';
import { fastAdam } from '../../engine/wasm-kernels/fast-adam.js';
import { listImageFiles } from '../../engine/data/image-files.js';

export interface BenchArgs {
  nets: string[];
  size: number;
  batch: number;
  iters: number;
  repeats: number;
  pipeline?: string;
  /** A backbone (bundled name or path) whose feature pass is measured too. */
  backbonePass?: string;
  torch?: boolean;
}

/**
 * The feature pass of a pretrained backbone as backbone teachers run it (`Backbone.features`: its own
 * preprocessing, pooled output) on random pixels at its input size: img/s per repeat.
 */
async function backbonePassImgPerSec(name: string, batch: number, iters: number, repeats: number): Promise<{ inputSize: number; featureDim: number; rates: number[] }> {
  const { openBackbone } = await import('../../engine/teachers/open-backbone.js');
  const bb = await openBackbone({ backbone: name });
  const x = tf.randomUniform([batch, bb.inputSize, bb.inputSize, 3], 0, 255, 'float32', 5) as tf.Tensor4D;
  try {
    const rates: number[] = [];
    for (let r = 0; r < repeats; r++) {
      await bb.features(x); // warm-up
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) await bb.features(x);
      rates.push((batch * iters) / ((performance.now() - t0) / 1000));
    }
    return { inputSize: bb.inputSize, featureDim: bb.featureDim, rates };
  } finally {
    x.dispose();
    bb.dispose();
  }
}

/**
 * Training steps fed by the real pipeline: the same step as the synthetic bench (soft-target CE,
 * fused Adam) on batches from `batches()`. Two passes over the same images: `cold` decodes every
 * image on the way (a fresh cache, the first epoch of a run), `warm` serves them from the uint8 cache
 * (every later epoch); both include augmentation and prefetch.
 */
async function pipelineTrainImgPerSec(
  net: string,
  items: BatchItem[],
  size: number,
  batch: number,
  steps: number,
): Promise<{ cold: number; warm: number; images: number }> {
  const model = createModel({ ...parseNetName(net), inputSize: size, classes: 2, seed: 1 });
  const optimizer = fastAdam(1e-3);
  const target = tf.tidy(() => tf.softmax(tf.randomNormal([batch, 2], 0, 1, 'float32', 2)));
  const cache = new ImageCache({ memoryBytes: 2 * 1024 ** 3 });
  const step = (x: Float32Array, shape: [number, number, number, number]) =>
    tf.tidy(() => {
      const input = tf.tensor4d(x, shape);
      const t = shape[0] === batch ? target : target.slice(0, shape[0]);
      const loss = optimizer.minimize(() => tf.neg(tf.mean(tf.sum(tf.mul(t, tf.logSoftmax(model.apply(input, { training: true }) as tf.Tensor)), 1))) as tf.Scalar, true);
      loss?.dataSync();
    });
  // Kernels compile on the first step: one untimed step on a batch outside the timed images.
  const warmup = items.slice(steps * batch, (steps + 1) * batch);
  const timed = items.slice(0, steps * batch);
  const pass = async (list: BatchItem[], epoch: number): Promise<{ images: number; seconds: number }> => {
    let images = 0;
    const t0 = performance.now();
    for await (const b of batches({ items: list, size, batchSize: batch, seed: 1, epoch, augment: { flip: true, cropScaleMin: 0.35 }, cache, dropLast: true, onDecodeError: 'skip' })) {
      step(b.x, b.shape);
      images += b.indices.length;
    }
    return { images, seconds: (performance.now() - t0) / 1000 };
  };
  try {
    await pass(warmup, 0);
    const cold = await pass(timed, 0);
    const warm = await pass(timed, 1);
    return { cold: cold.images / cold.seconds, warm: warm.images / warm.seconds, images: cold.images };
  } finally {
    tf.dispose(target);
    optimizer.dispose();
    model.dispose();
    await cache.close();
  }
}

export async function runBenchCommand(a: BenchArgs, out: Output): Promise<number> {
  const backend = await initBackend();
  out.info(`backend ${backend.active}, ${backend.threads} thread(s); ${a.nets.join(', ')} at ${a.size}px, batch ${a.batch}, median of ${a.repeats}`);
  let torchWhy = a.torch ? torchUnavailable() : 'not asked (--torch)';
  let torchLines: TorchLine[] = [];
  if (a.torch && !torchWhy) {
    try {
      for await (const t of runTorchRef({ nets: a.nets, size: a.size, batch: a.batch, iters: a.iters, repeats: a.repeats, threads: backend.threads })) torchLines.push(t);
    } catch (err) {
      // e.g. python3-torch not installed: our figures are still worth having.
      torchWhy = err instanceof Error ? err.message : String(err);
      torchLines = [];
    }
  }
  if (a.torch && torchWhy) out.event({ type: 'info', message: `PyTorch yardstick unavailable: ${torchWhy}` }, `PyTorch yardstick unavailable: ${torchWhy}`);
  const lines: BenchLine[] = [];
  for await (const line of runBench({ nets: a.nets, size: a.size, batch: a.batch, iters: a.iters, repeats: a.repeats })) {
    lines.push(line);
    const t = torchLines.find((x) => x.net === line.net);
    const row = t ? compareWithTorch(line, t) : line;
    out.event(
      { type: 'bench', ...row },
      `${line.net.padEnd(18)} params ${String(line.params).padStart(9)}  train ${line.train_img_s.toFixed(1).padStart(7)} img/s  infer ${line.infer_img_s.toFixed(1).padStart(7)} img/s` +
        (t ? `  (PyTorch ${t.train_img_s} / ${t.infer_img_s}: ×${(line.train_img_s / t.train_img_s).toFixed(2)} / ×${(line.infer_img_s / t.infer_img_s).toFixed(2)})` : ''),
    );
  }
  let pipeline: Record<string, unknown> | null = null;
  if (a.pipeline) {
    const dir = path.resolve(a.pipeline);
    if (!fs.existsSync(dir)) throw new Error(`--pipeline ${a.pipeline}: no such folder`);
    const items: BatchItem[] = (await listImageFiles(dir)).files.map((f) => ({ key: f.path, path: f.path, label: null }));
    if (items.length < a.batch * 2) throw new Error(`--pipeline ${a.pipeline}: needs at least ${a.batch * 2} images, found ${items.length}`);
    const net = a.nets[0]!;
    const steps = Math.min(40, Math.floor(items.length / a.batch) - 1);
    const real = await pipelineTrainImgPerSec(net, items, a.size, a.batch, steps);
    const synthetic = lines.find((l) => l.net === net)?.train_img_s ?? null;
    pipeline = {
      type: 'pipeline',
      net,
      size: a.size,
      batch: a.batch,
      folder: dir,
      images: real.images,
      pipeline_train_img_s: round1(real.cold),
      pipeline_cached_train_img_s: round1(real.warm),
      synthetic_train_img_s: synthetic,
      ratio: synthetic ? round2(real.cold / synthetic) : null,
      cached_ratio: synthetic ? round2(real.warm / synthetic) : null,
      backend: backend.active,
      threads: backend.threads,
    };
    out.event(pipeline, `pipeline ${net}: ${real.cold.toFixed(1)} img/s on ${real.images} real images decoded on the way, ${real.warm.toFixed(1)} from the cache, vs ${synthetic ?? '—'} synthetic`);
  }
  let backbonePass: Record<string, unknown> | null = null;
  if (a.backbonePass) {
    const { findBundledBackbone } = await import('../../engine/teachers/bundled-backbones.js');
    const ours = await backbonePassImgPerSec(a.backbonePass, a.batch, a.iters, a.repeats);
    // PyTorch's twin builds the bundled architectures by name (weights do not matter for speed).
    const twin = findBundledBackbone(a.backbonePass)?.name ?? null;
    let torchInfer: number | null = null;
    if (a.torch && !torchWhy && twin) {
      for await (const t of runTorchRef({ nets: [twin], size: ours.inputSize, batch: a.batch, iters: a.iters, repeats: a.repeats, threads: backend.threads })) torchInfer = t.infer_img_s;
    }
    const infer = median(ours.rates);
    backbonePass = {
      type: 'backbone-pass',
      backbone: a.backbonePass,
      size: ours.inputSize,
      batch: a.batch,
      feature_dim: ours.featureDim,
      infer_img_s: round1(infer),
      torch_infer_img_s: torchInfer,
      infer_ratio: torchInfer ? round2(infer / torchInfer) : null,
      backend: backend.active,
      threads: backend.threads,
    };
    out.event(backbonePass, `backbone ${a.backbonePass} feature pass at ${ours.inputSize}px: ${infer.toFixed(1)} img/s` + (torchInfer ? ` (PyTorch ${torchInfer}: ×${(infer / torchInfer).toFixed(2)})` : ''));
  }
  out.result({ lines: lines.length, backend: backend.active, threads: backend.threads, torch: torchLines.length > 0, pipeline, backbonePass }, 'done');
  return 0;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
