// An .onnx image classifier as a frozen teacher, run by onnxruntime-node. The graph's declared input
// shape gives its layout (NCHW or NHWC) and input size; one session is created per load and reused for
// every batch. Pixels arrive as ours always are (RGB [0,255], NHWC) and are mapped to the model's
// range, mean/std and layout here; a softmax head's probabilities become log-probabilities.
import { createSession, runFloats, type OrtSession } from '../onnx/runtime.js';
import { graphInputs, graphOutputs, headOp, readModelProto, type Dim, type ModelProto } from '../onnx/model-proto.js';
import type { HostPredictor } from '../predict.js';
import { preprocessPixels, type Layout } from './host-preprocessing.js';
import type { Preprocessing } from './preprocessing.js';

const FLOAT = 1;
// Ops whose output is a linear map's: logits, never probabilities.
const DENSE_OPS = new Set(['Gemm', 'MatMul', 'Add']);

export interface OnnxImageInput {
  name: string;
  dims: Dim[];
  layout: Layout;
  size: number;
  /** A batch size the graph fixes, or null where the batch dimension is dynamic. */
  fixedBatch: number | null;
}

const fmt = (dims: readonly Dim[] | null): string => (dims ? `[${dims.map((d) => (d == null ? '?' : d)).join(', ')}]` : '[undeclared]');

/** The image input of a decoded model, or an error that says what was found instead. */
export function imageInputOf(file: string, model: ModelProto): OnnxImageInput {
  const inputs = graphInputs(model);
  if (inputs.length !== 1) {
    throw new Error(`${file}: the model has ${inputs.length} inputs (${inputs.map((i) => `"${i.name}" ${fmt(i.dims)}`).join(', ')}); an image classifier has exactly one`);
  }
  const inp = inputs[0]!;
  const where = `${file}: input "${inp.name}" has shape ${fmt(inp.dims)}`;
  if (inp.elemType !== FLOAT) throw new Error(`${where} of element type ${inp.elemType ?? '?'}; only float32 image inputs are supported`);
  const dims = inp.dims;
  if (!dims || dims.length !== 4) throw new Error(`${where}: not an image (an image input has rank 4: [N, 3, S, S] or [N, S, S, 3])`);
  const fixed = (d: Dim): d is number => typeof d === 'number' && d > 0;
  let layout: Layout;
  if (dims[1] === 3) layout = 'NCHW';
  else if (dims[3] === 3) layout = 'NHWC';
  else throw new Error(`${where}: not an RGB image (no dimension of 3 channels at position 1 (NCHW) or 3 (NHWC))`);
  const [h, w] = layout === 'NCHW' ? [dims[2]!, dims[3]!] : [dims[1]!, dims[2]!];
  if (!fixed(h) || !fixed(w) || h !== w) {
    throw new Error(`${where}: the image height and width must be fixed and equal (found ${h ?? '?'} × ${w ?? '?'})`);
  }
  return { name: inp.name, dims, layout, size: h, fixedBatch: fixed(dims[0]!) ? dims[0] : null };
}

export interface OnnxImageModel {
  file: string;
  input: OnnxImageInput;
  output: { name: string; dims: Dim[] | null };
  /** What the graph says its head is: Softmax → probabilities, LogSoftmax → log-probabilities, a dense op → logits. */
  head: 'probabilities' | 'log-probabilities' | 'logits' | 'unknown';
  /** The graph as the file declares it (the session may run a copy with more outputs). */
  model: ModelProto;
  session: OrtSession;
}

/** Decodes, checks and opens an .onnx image model (one session, kept for every later batch). */
export async function openOnnxImageModel(file: string, opts: { bytes?: Uint8Array; output?: string; threads?: number } = {}): Promise<OnnxImageModel> {
  const { model, bytes } = readModelProto(file);
  const input = imageInputOf(file, model);
  const outputs = graphOutputs(model);
  const out = opts.output ? { name: opts.output, dims: outputs.find((o) => o.name === opts.output)?.dims ?? null } : outputs[0]!;
  const op = headOp(model, out.name);
  let session: OrtSession;
  try {
    session = await createSession(opts.bytes ?? bytes, { threads: opts.threads });
  } catch (err) {
    throw new Error(`${file}: onnxruntime cannot load it: ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    file,
    input,
    output: { name: out.name, dims: out.dims },
    head: op === 'Softmax' ? 'probabilities' : op === 'LogSoftmax' ? 'log-probabilities' : op && DENSE_OPS.has(op) ? 'logits' : 'unknown',
    model,
    session,
  };
}

/**
 * Runs the model on `n` of our images [n,S,S,3] (RGB [0,255]); returns its output rows and their width.
 * A graph with a fixed batch size runs in chunks of it (the last one padded with zeros).
 */
export async function runOnnxImages(
  m: OnnxImageModel,
  pixels: Float32Array,
  n: number,
  pre: Preprocessing,
): Promise<{ rows: Float32Array; width: number; dims: readonly number[] }> {
  const [out] = await runOnnxImageOutputs(m, pixels, n, pre, [m.output.name]);
  return { rows: out!.rows, width: n > 0 ? out!.rows.length / n : 0, dims: out!.dims };
}

/** runOnnxImages for several outputs of one pass (each chunk runs once): rows and shape [n, …] per name, in order. */
export async function runOnnxImageOutputs(
  m: OnnxImageModel,
  pixels: Float32Array,
  n: number,
  pre: Preprocessing,
  names: readonly string[],
): Promise<{ rows: Float32Array; dims: readonly number[] }[]> {
  const S = m.input.size;
  const per = S * S * 3;
  const chunk = m.input.fixedBatch ?? Math.max(1, n);
  const parts: Float32Array[][] = names.map(() => []);
  let outDims: (readonly number[])[] = names.map(() => []);
  for (let s = 0; s < n; s += chunk) {
    const k = Math.min(chunk, n - s);
    const src = new Float32Array(chunk * per);
    src.set(pixels.subarray(s * per, (s + k) * per));
    const x = preprocessPixels(src, chunk, S, pre, m.input.layout);
    const dims = m.input.layout === 'NCHW' ? [chunk, 3, S, S] : [chunk, S, S, 3];
    let outs: { data: Float32Array; dims: readonly number[] }[];
    try {
      outs = await runFloats(m.session, { data: x, dims }, names);
    } catch (err) {
      throw new Error(`${m.file}: onnxruntime failed on a batch of ${chunk}: ${(err as Error).message.split('\n')[0]}`);
    }
    outs.forEach((out, j) => {
      if (out.dims[0] !== chunk) throw new Error(`${m.file}: output "${names[j]}" has shape [${out.dims.join(', ')}], not one row per image`);
      const width = out.data.length / chunk;
      parts[j]!.push(out.data.subarray(0, k * width));
    });
    outDims = outs.map((o) => o.dims);
  }
  return parts.map((p, j) => {
    const rows = new Float32Array(p.reduce((a, x) => a + x.length, 0));
    let at = 0;
    for (const x of p) {
      rows.set(x, at);
      at += x.length;
    }
    return { rows, dims: [n, ...outDims[j]!.slice(1)] };
  });
}

/** Rows that are non-negative and sum to 1 are probabilities (a softmax head the graph does not name). */
function rowsAreProbabilities(rows: Float32Array, width: number): boolean {
  for (let r = 0; r < rows.length / width; r++) {
    let sum = 0;
    for (let c = 0; c < width; c++) {
      const v = rows[r * width + c]!;
      if (v < -1e-6) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

/** Output rows [n, width] → logits in the run's class order; probabilities become log-probabilities. */
export type LogitsReader = (rows: Float32Array, width: number, n: number) => Float32Array;

/**
 * Reads the model's output as logits in the order `perm` gives (perm[i] = the model's output index for
 * class i). Whether the head is a softmax is read from the graph, or else decided on the first batch and kept.
 */
export function logitsReader(m: Pick<OnnxImageModel, 'file' | 'output' | 'head'>, perm: readonly number[]): LogitsReader {
  const C = perm.length;
  let isProb: boolean | null = m.head === 'unknown' ? null : m.head === 'probabilities';
  return (rows, width, n) => {
    if (width !== C) throw new Error(`${m.file}: output "${m.output.name}" has ${width} values per image, the teacher has ${C} classes`);
    isProb ??= rowsAreProbabilities(rows, width);
    const out = new Float32Array(n * C);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < C; c++) {
        const v = rows[r * width + perm[c]!]!;
        out[r * C + c] = isProb ? Math.log(Math.min(1, Math.max(v, 1e-7))) : v;
      }
    }
    return out;
  };
}

/** The model as a predictor of logits in the order `perm` gives (see logitsReader). */
export function onnxPredictor(m: OnnxImageModel, pre: Preprocessing, perm: readonly number[], read: LogitsReader = logitsReader(m, perm)): HostPredictor {
  return {
    inputSize: m.input.size,
    classes: perm.length,
    hostLogits: async (pixels, n) => {
      if (n === 0) return new Float32Array(0);
      const { rows, width } = await runOnnxImages(m, pixels, n, pre);
      return read(rows, width, n);
    },
  };
}
