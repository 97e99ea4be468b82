// The ONNX writer on a hand-built graph that uses every op kind, run by onnxruntime-node and
// checked against the same graph computed independently with tfjs ops (NHWC, float32).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExportGraph, ExportOp, Padding } from '../../src/main/engine/export/graph.js';
import { writeOnnx, ONNX_OUTPUT, uint8QParams, symmetricInt8 } from '../../src/main/engine/export/onnx/write-onnx.js';
import { onnxActivationRanges } from '../../src/main/engine/export/onnx/calibrate-onnx.js';
import { decodeModel, decodedGraph as graphOf, DataType } from '../../src/main/engine/export/onnx/proto.js';
import { createSession, runFloat } from '../../src/main/engine/onnx/runtime.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let seed = 7;
function rand(n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    out[i] = (seed / 2147483648 * 2 - 1) * scale;
  }
  return out;
}
const pad = (t: number, b: number, l: number, r: number): Padding => ({ top: t, bottom: b, left: l, right: r });

const S = 12;
function handGraph(): ExportGraph {
  const ops: ExportOp[] = [
    { kind: 'affine', name: 'norm', input: 'image', output: 'n', scale: new Float32Array([1 / 127.5, 1 / 120, 1 / 130]), offset: new Float32Array([-1, -0.9, -1.1]) },
    { kind: 'conv2d', name: 'c1', input: 'n', output: 'c1', filter: rand(3 * 3 * 3 * 8, 0.5), filterShape: [3, 3, 3, 8], bias: rand(8, 0.2), strides: [2, 2], padding: pad(0, 1, 0, 1), activation: 'relu6' },
    { kind: 'depthwise', name: 'd1', input: 'c1', output: 'd1', filter: rand(3 * 3 * 8, 0.5), filterShape: [3, 3, 8, 1], bias: rand(8, 0.2), strides: [1, 1], padding: pad(1, 1, 1, 1), activation: 'relu' },
    { kind: 'conv2d', name: 'p1', input: 'd1', output: 'p1', filter: rand(8 * 8, 0.4), filterShape: [1, 1, 8, 8], bias: rand(8, 0.1), strides: [1, 1], padding: pad(0, 0, 0, 0), activation: 'linear' },
    { kind: 'add', name: 'a1', inputs: ['c1', 'p1'], output: 'a1', activation: 'relu' },
    { kind: 'pad', name: 'z1', input: 'a1', output: 'z1', padding: pad(1, 0, 1, 0) },
    { kind: 'maxpool', name: 'm1', input: 'z1', output: 'm1', size: [3, 3], strides: [2, 2], padding: pad(1, 1, 1, 1) },
    { kind: 'relu6', name: 'r1', input: 'm1', output: 'r1' },
    { kind: 'gap', name: 'g', input: 'r1', output: 'g' },
    { kind: 'dense', name: 'fc', input: 'g', output: 'logits', kernel: rand(8 * 4, 3), kernelShape: [8, 4], bias: rand(4, 0.3), activation: 'linear' },
    { kind: 'softmax', name: 'sm', input: 'logits', output: 'probs' },
  ];
  return {
    input: { name: 'image', size: S, channels: 3 },
    ops,
    output: { name: 'probs', classes: 4 },
    shapes: { image: [S, S, 3], n: [S, S, 3], c1: [6, 6, 8], d1: [6, 6, 8], p1: [6, 6, 8], a1: [6, 6, 8], z1: [7, 7, 8], m1: [4, 4, 8], r1: [4, 4, 8], g: [8], logits: [4], probs: [4] },
  };
}

/** The graph in tfjs ops: an implementation that shares nothing with the writer. */
function tfReference(g: ExportGraph, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => {
    const v = new Map<string, tf.Tensor>([[g.input.name, x]]);
    const act = (t: tf.Tensor, a: string) => (a === 'relu' ? tf.relu(t) : a === 'relu6' ? tf.clipByValue(t, 0, 6) : t);
    const padded = (t: tf.Tensor, p: Padding, value = 0) => tf.pad(t as tf.Tensor4D, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]], value);
    for (const op of g.ops) {
      switch (op.kind) {
        case 'affine': v.set(op.output, tf.add(tf.mul(v.get(op.input)!, tf.tensor1d(op.scale)), tf.tensor1d(op.offset))); break;
        case 'conv2d': v.set(op.output, act(tf.add(tf.conv2d(padded(v.get(op.input)!, op.padding) as tf.Tensor4D, tf.tensor4d(op.filter, op.filterShape), op.strides, 'valid'), tf.tensor1d(op.bias)), op.activation)); break;
        case 'depthwise': v.set(op.output, act(tf.add(tf.depthwiseConv2d(padded(v.get(op.input)!, op.padding) as tf.Tensor4D, tf.tensor4d(op.filter, op.filterShape), op.strides, 'valid'), tf.tensor1d(op.bias)), op.activation)); break;
        case 'add': v.set(op.output, act(tf.add(v.get(op.inputs[0])!, v.get(op.inputs[1])!), op.activation)); break;
        case 'relu': case 'relu6': v.set(op.output, act(v.get(op.input)!, op.kind)); break;
        case 'pad': v.set(op.output, padded(v.get(op.input)!, op.padding)); break;
        case 'maxpool': v.set(op.output, tf.maxPool(padded(v.get(op.input)!, op.padding, -1e30) as tf.Tensor4D, op.size, op.strides, 'valid')); break;
        case 'gap': v.set(op.output, tf.mean(v.get(op.input)!, [1, 2])); break;
        case 'dense': v.set(op.output, act(tf.add(tf.matMul(v.get(op.input)! as tf.Tensor2D, tf.tensor2d(op.kernel, op.kernelShape)), tf.tensor1d(op.bias)), op.activation)); break;
        case 'softmax': v.set(op.output, tf.softmax(v.get(op.input)!)); break;
      }
    }
    return v.get(g.output.name)!.dataSync() as Float32Array;
  });
}

/** Images with a tint of their own (so the rows land on different classes) plus pixel noise. */
function images(n: number): Float32Array {
  const noise = rand(n * S * S * 3, 40);
  const tint = rand(n * 3, 110);
  return Float32Array.from(noise, (u, i) => Math.min(255, Math.max(0, Math.round(127.5 + tint[Math.floor(i / (S * S * 3)) * 3 + (i % 3)]! + u))));
}

async function runOnnx(bytes: Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const session = await createSession(bytes, { threads: 1 });
  try {
    const out = await runFloat(session, { data: x, dims: [n, S, S, 3] });
    expect(out.dims).toEqual([n, 4]);
    return out.data;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function argmaxRows(p: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < p.length / k; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[r * k + c]! > p[r * k + best]!) best = c;
    out.push(best);
  }
  return out;
}

describe('ONNX writer', () => {
  const g = handGraph();
  const N = 16;
  const x = images(N);
  const expected = tfReference(g, tf.tensor4d(x, [N, S, S, 3]));

  it('float32 matches the tfjs reference within 1e-4 and declares one float32 [N,classes] output', async () => {
    const bytes = writeOnnx(g, { quantize: 'none', metadata: { classes: 'a,b,c,d' } });
    const got = await runOnnx(bytes, x, N);
    expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-4);
    // The reference is not degenerate: rows disagree on the class.
    expect(new Set(argmaxRows(expected, 4)).size).toBeGreaterThan(1);

    const m = decodeModel(bytes);
    expect(Number(m.opsetImport[0]!.version)).toBe(13);
    expect(Number(m.irVersion)).toBe(8);
    expect(graphOf(m).output.map((o) => o.name)).toEqual([ONNX_OUTPUT]);
    const out = graphOf(m).output[0]!.type!.tensorType!;
    expect(out.elemType).toBe(DataType.FLOAT);
    expect(out.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 4]);
    const inp = graphOf(m).input[0]!.type!.tensorType!;
    expect(inp.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', S, S, 3]);
    expect(m.metadataProps.find((p) => p.key === 'classes')?.value).toBe('a,b,c,d');
  });

  it('runs any batch size (dynamic batch)', async () => {
    const bytes = writeOnnx(g, { quantize: 'none' });
    const one = await runOnnx(bytes, x.subarray(0, S * S * 3), 1);
    expect(maxAbsDiff(one, expected.subarray(0, 4))).toBeLessThanOrEqual(1e-4);
  });

  it('float16 stores half weights, keeps float32 in/out, and stays within 1e-2', async () => {
    const f32 = writeOnnx(g, { quantize: 'none' });
    const f16 = writeOnnx(g, { quantize: 'float16' });
    const m = decodeModel(f16);
    const halves = graphOf(m).initializer.filter((t) => t.dataType === DataType.FLOAT16);
    expect(halves.length).toBe(8); // 4 weighted ops × (weights, bias)
    expect(graphOf(m).node.filter((n) => n.opType === 'Cast').length).toBe(8);
    expect(graphOf(m).input[0]!.type!.tensorType!.elemType).toBe(DataType.FLOAT);
    const got = await runOnnx(f16, x, N);
    const d = maxAbsDiff(got, expected);
    expect(d).toBeLessThanOrEqual(1e-2);
    expect(d).toBeGreaterThan(0); // the weights really are rounded
    expect(f16.length).toBeLessThan(f32.length);
  });

  it('int8 QDQ: per-channel int8 conv weights, int32 biases, calibrated uint8 activations; agrees on top-1', async () => {
    const ranges = await onnxActivationRanges(g, [x.subarray(0, 8 * S * S * 3), x.subarray(8 * S * S * 3)]);
    // The ranges are the runtime's view of real activations: relu6 outputs stay in [0,6].
    expect(ranges.c1!.min).toBeGreaterThanOrEqual(0);
    expect(ranges.c1!.max).toBeLessThanOrEqual(6);
    expect(ranges.n!.min).toBeLessThan(-0.5);
    const bytes = writeOnnx(g, { quantize: 'int8', ranges });
    const m = decodeModel(bytes);
    const init = (name: string) => { const t = graphOf(m).initializer.find((i) => i.name === name); if (!t) throw new Error(name); return { dataType: t.dataType, dims: (t.dims ?? []).map(Number) }; };
    expect(init('c1_w_q').dataType).toBe(DataType.INT8);
    expect(init('c1_w_scale').dims).toEqual([8]); // per output channel
    expect(init('fc_w_scale').dims).toEqual([]); // per tensor
    expect(init('c1_b_q').dataType).toBe(DataType.INT32);
    expect(graphOf(m).node.filter((n) => n.opType === 'QuantizeLinear').length).toBe(10); // every value but the output
    const got = await runOnnx(bytes, x, N);
    expect(argmaxRows(got, 4)).toEqual(argmaxRows(expected, 4));
    expect(maxAbsDiff(got, expected)).toBeLessThan(0.08);
  });

  it('int8 refuses a graph without calibrated ranges, naming the value', () => {
    expect(() => writeOnnx(g, { quantize: 'int8', ranges: {} })).toThrow(/no calibrated range for "n"/);
  });
});

describe('quantization parameters', () => {
  it('uint8 asymmetric maps the range ends to 0 and 255 and keeps zero exact', () => {
    const q = uint8QParams({ min: -1, max: 3 });
    expect(q.scale).toBeCloseTo(4 / 255, 12);
    expect(q.zeroPoint).toBe(64); // round(1 / (4/255)) = round(63.75)
    expect(uint8QParams({ min: 0.5, max: 2 })).toEqual({ scale: 2 / 255, zeroPoint: 0 });
  });

  it('symmetric int8 per channel scales each slice by its own max |w| / 127', () => {
    // two channels of 3 values each, channel = floor(i / 3) % 2
    const { q, scales } = symmetricInt8(new Float32Array([1, -0.5, 0.25, 10, 5, -10]), 2, 3);
    expect(Array.from(scales)).toEqual([Math.fround(1 / 127), Math.fround(10 / 127)]);
    expect(Array.from(q)).toEqual([127, -64, 32, 127, 64, -127]);
  });
});
