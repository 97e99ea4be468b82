// The one place that loads onnxruntime-node. Its CPU binaries ship inside the npm package (its
// install script, which tries a CUDA download, stays unapproved), so it loads offline; where it
// cannot load, callers get the reason instead of a crash.
import os from 'node:os';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;
export type OrtSession = Ort.InferenceSession;

const require = createRequire(import.meta.url);
let ort: OrtModule | null = null;
let loadError: string | null = null;

/** onnxruntime-node, loaded once; throws with the reason where it is unavailable. */
export function loadOrt(): OrtModule {
  if (ort) return ort;
  if (loadError) throw new Error(loadError);
  try {
    ort = require('onnxruntime-node') as OrtModule;
    return ort;
  } catch (err) {
    loadError = `onnxruntime-node cannot load here: ${(err as Error).message.split('\n')[0]}`;
    throw new Error(loadError);
  }
}

export interface SessionOptions {
  /**
   * Intra-op threads. Default: one thread fewer than the cores (at least 1), so a session that
   * labels images beside a training step does not fight it for every core.
   */
  threads?: number;
}

/** A CPU session over an .onnx file's bytes (or its path). */
export async function createSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<OrtSession> {
  const o = loadOrt();
  const threads = opts.threads ?? Math.max(1, os.availableParallelism() - 1);
  const options: Ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  return typeof model === 'string' ? o.InferenceSession.create(model, options) : o.InferenceSession.create(model, options);
}

/** Runs a session on one float32 input and returns the named (default: first) output. */
export async function runFloat(
  session: OrtSession,
  input: { data: Float32Array; dims: readonly number[] },
  outputName?: string,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  return (await runFloats(session, input, [outputName ?? session.outputNames[0]!]))[0]!;
}

/** Runs a session once on one float32 input and returns the named outputs, in that order. */
export async function runFloats(
  session: OrtSession,
  input: { data: Float32Array; dims: readonly number[] },
  outputNames: readonly string[],
): Promise<{ data: Float32Array; dims: readonly number[] }[]> {
  const o = loadOrt();
  const feeds = { [session.inputNames[0]!]: new o.Tensor('float32', input.data, input.dims) };
  const names = [...new Set(outputNames)];
  const out = await session.run(feeds, names);
  return outputNames.map((name) => {
    const t = out[name]!;
    if (t.type !== 'float32') throw new Error(`ONNX output "${name}" is ${t.type}, not float32`);
    return { data: t.data as Float32Array, dims: t.dims };
  });
}
