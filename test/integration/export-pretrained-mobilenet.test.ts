// The lowering and the TFLite writer on a real pretrained classifier: the TF.js MobileNet v1 0.75
// (ImageNet, 1000 classes: same-padded stride-2 convs, BN, ReLU6, GAP → Reshape → Dropout → 1×1 conv →
// softmax → Reshape) from ../shared. Its preprocessing ([−1,1]) is given to the lowering, as a
// backbone's travels beside it. Skips visibly without ../shared.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { loadModelDir } from '../../src/main/engine/model-io.js';
import { lowerModel } from '../../src/main/engine/export/lower.js';
import { runGraph } from '../../src/main/engine/export/reference.js';
import { writeTflite } from '../../src/main/engine/export/tflite/write-tflite.js';
import { openTflite } from '../../src/main/engine/export/tflite/litert-runtime.js';

const MODEL = path.resolve(__dirname, '../../../shared/models/mobilenet_v1_0.75_224');
const have = fs.existsSync(path.join(MODEL, 'model.json'));

beforeAll(async () => {
  await initBackend({ threads: 1 });
});

describe.skipIf(!have)('pretrained MobileNet v1 (../shared/models/mobilenet_v1_0.75_224)', () => {
  it('lowers with its normalization and runs the same in the reference and in LiteRT (float32)', async () => {
    const model = await loadModelDir(MODEL);
    const graph = lowerModel(model, { normalize: { scale: 1 / 127.5, offset: -1 } });
    expect(graph.output.classes).toBe(1000);
    expect(graph.ops.at(-1)!.kind).toBe('softmax');
    expect(graph.ops.filter((o) => o.kind === 'softmax')).toHaveLength(1); // its own softmax, none added
    const x = tf.randomUniform([1, 224, 224, 3], 0, 255, 'float32', 9);
    const theirs = tf.tidy(() => (model.predict(tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor).dataSync() as Float32Array);
    const data = x.dataSync() as Float32Array;
    const ref = runGraph(graph, data, 1).output;
    const session = await openTflite(writeTflite(graph, { quantize: 'none' }));
    const ours = await session.run(data, 1);
    session.close();
    let dRef = 0;
    let dRt = 0;
    for (let i = 0; i < 1000; i++) {
      dRef = Math.max(dRef, Math.abs(ref[i]! - theirs[i]!));
      dRt = Math.max(dRt, Math.abs(ours[i]! - ref[i]!));
    }
    // tfjs here runs on wasm (XNNPACK), whose own rounding is ~1e-4 on deep nets.
    expect(dRef).toBeLessThan(1e-3);
    expect(dRt).toBeLessThan(1e-4);
    x.dispose();
    model.dispose();
  }, 180_000);
});
