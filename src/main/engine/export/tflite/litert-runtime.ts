// The real TFLite runtime (LiteRT.js, @litertjs/core: XNNPACK compiled to wasm) under plain Node.
// The package is made for browsers and workers: its loader runs the emscripten glue with
// `importScripts` and reads the factory from `self`. This module is the one place that bridges
// that (checked against the package version it was written for): `self` is the global object, and
// `importScripts` evaluates the glue file as a CommonJS-style function so its Node branch finds
// `require` and `__dirname`. The runtime's log lines go to a debug sink, never to stdout (the CLI's
// --json output lives there).
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const WRITTEN_FOR = '2.5.';

type LiteRtModule = typeof import('@litertjs/core');
type CompiledModel = Awaited<ReturnType<LiteRtModule['loadAndCompile']>>;

let loading: Promise<LiteRtModule> | null = null;

function packageDir(): string {
  const require = createRequire(import.meta.url);
  // dist/index.js → the package folder (its exports map hides package.json).
  return path.dirname(path.dirname(require.resolve('@litertjs/core')));
}

function installWorkerShim(): void {
  const g = globalThis as Record<string, unknown>;
  if (g['self'] === undefined) g['self'] = globalThis;
  g['importScripts'] = (url: string): void => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const wrapped = vm.runInThisContext(`(function (require, __dirname, __filename) {${fs.readFileSync(file, 'utf8')}\n;return ModuleFactory;})`, { filename: file }) as (
      r: NodeRequire, d: string, f: string,
    ) => unknown;
    g['ModuleFactory'] = wrapped(createRequire(file), path.dirname(file), file);
  };
  // Read by the loader as the emscripten Module: route the runtime's prints away from stdout.
  const log = (line: string): void => {
    if (process.env['DISTILL_DEBUG_LITERT']) process.stderr.write(`litert: ${line}\n`);
  };
  g['Module'] = { print: log, printErr: log };
}

/** Loads LiteRT once per process (the wasm CPU runtime; no WebGPU under Node). */
export function loadLiteRt(): Promise<LiteRtModule> {
  loading ??= (async () => {
    const dir = packageDir();
    const version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
    if (!version.startsWith(WRITTEN_FOR)) {
      throw new Error(`@litertjs/core ${version} is installed; the Node bridge in litert-runtime.ts was written for ${WRITTEN_FOR}x: check its loader before using another version`);
    }
    installWorkerShim();
    const lr = (await import('@litertjs/core')) as LiteRtModule;
    // Its environment probes WebGPU through `navigator` and reports the miss on console.error.
    const error = console.error;
    const warn = console.warn;
    console.error = console.warn = () => undefined;
    try {
      await lr.loadLiteRt(`${path.join(dir, 'wasm')}/`);
    } finally {
      console.error = error;
      console.warn = warn;
    }
    return lr;
  })();
  return loading;
}

/** A compiled .tflite with one float32 input [1,S,S,3] and one float32 output [1,K]. */
export interface TfliteSession {
  inputSize: number;
  classes: number;
  /** Runs n images (NHWC float32) one at a time; returns [n, K]. */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  close(): void;
}

export async function openTflite(model: Uint8Array, source = 'model.tflite'): Promise<TfliteSession> {
  const lr = await loadLiteRt();
  let compiled: CompiledModel;
  try {
    compiled = await lr.loadAndCompile(model, { accelerator: 'wasm' });
  } catch (err) {
    throw new Error(`${source}: LiteRT cannot load it (${err instanceof Error ? err.message : String(err)})`);
  }
  const inputs = compiled.getInputDetails();
  const outputs = compiled.getOutputDetails();
  const inShape = [...(inputs[0]?.shape ?? [])];
  const outShape = [...(outputs[0]?.shape ?? [])];
  if (inputs.length !== 1 || inShape.length !== 4 || inShape[3] !== 3 || inShape[1] !== inShape[2] || outputs.length !== 1) {
    compiled.delete();
    throw new Error(`${source}: expected one input [1,S,S,3] and one output, got inputs [${inShape.join(',')}], ${outputs.length} output(s)`);
  }
  const size = inShape[1]!;
  const classes = outShape.at(-1)!;
  return {
    inputSize: size,
    classes,
    async run(x, n) {
      const per = size * size * 3;
      if (x.length !== n * per) throw new Error(`${source}: got ${x.length} input values for ${n} images of ${size}×${size}×3`);
      const out = new Float32Array(n * classes);
      for (let i = 0; i < n; i++) {
        const t = new lr.Tensor(x.slice(i * per, (i + 1) * per), [1, size, size, 3]);
        try {
          const [y] = await compiled.run(t);
          try {
            out.set(y!.toTypedArray() as Float32Array, i * classes);
          } finally {
            y!.delete();
          }
        } finally {
          t.delete();
        }
      }
      return out;
    },
    close() {
      compiled.delete();
    },
  };
}
