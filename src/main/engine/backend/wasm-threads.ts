// Loads tfjs's threaded-SIMD WASM build under Node, which tfjs 4.22 refuses to do by itself.
//
// Three things stand in the way (details and measurements in THREADS.md):
//  1. WASM_HAS_MULTITHREAD_SUPPORT answers false whenever IS_NODE is true → we set the flag.
//  2. The pthread worker script is handed to `new Worker()` as a blob: URL, which Node's
//     worker_threads rejects (ERR_WORKER_PATH) → while the backend initialises, URL.createObjectURL
//     returns a real file holding the worker script instead. That script would then load the
//     main Emscripten script from a Blob too, so it is patched to load the package's own file.
//  3. The C++ side caps the pool at os.cpus().length / 2 (it assumes hyper-threading), so a 2-core
//     machine gets 1 thread → os.cpus() reports 2× the wanted count during initialisation only.
// Emscripten keeps its pthread workers ref'd, which would keep Node alive forever → unref them.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The exact text of the worker's branch that loads the main script; 4.22's build. */
const LOAD_MAIN_SCRIPT =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

/** Folder of the package's dist/ (holds the three .wasm binaries), with a trailing separator. */
export function wasmDistDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

export interface ThreadedPatch {
  /** Undo the temporary global patches; call once the backend has initialised (or failed). */
  restore(): void;
}

/**
 * Prepares the environment so that the next wasm backend initialisation loads the threaded build
 * with `threads` pthreads. Throws (changing nothing) when this tfjs build is not the one the patch
 * was written for, so the caller can fall back to one thread with that reason.
 */
export function prepareThreadedWasm(threads: number, setFlag: (on: boolean) => void): ThreadedPatch {
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('this Node has no SharedArrayBuffer');
  const outDir = path.join(wasmDistDir(), '..', 'wasm-out');
  const mainScript = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  const workerModule = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  if (!fs.existsSync(mainScript) || !fs.existsSync(workerModule)) {
    throw new Error('the package has no threaded-SIMD build (wasm-out/*threaded-simd*.js missing)');
  }
  const { wasmWorkerContents } = require(workerModule) as { wasmWorkerContents: unknown };
  if (typeof wasmWorkerContents !== 'string' || !wasmWorkerContents.includes(LOAD_MAIN_SCRIPT)) {
    throw new Error('unexpected pthread worker script in this tfjs-backend-wasm version');
  }
  // Same escaping as tfjs does before making its Blob: the template literal holds raw "\n"s that
  // sit inside string literals of the script.
  const script = wasmWorkerContents
    .replace(/\n/g, '\\n')
    .replace(LOAD_MAIN_SCRIPT, `importScripts(${JSON.stringify(mainScript)});`);
  const workerFile = writeWorkerFile(script);

  const origCreateObjectURL = URL.createObjectURL;
  const origCpus = os.cpus;
  URL.createObjectURL = (obj: Blob): string => {
    // Only the worker script goes through here during init; anything else keeps the real thing.
    if (obj instanceof Blob && obj.type === 'application/javascript') return workerFile;
    return origCreateObjectURL(obj);
  };
  os.cpus = () => {
    const real = origCpus();
    return Array.from({ length: threads * 2 }, (_, i) => real[i % real.length]!);
  };
  setFlag(true);
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      URL.createObjectURL = origCreateObjectURL;
      os.cpus = origCpus;
    },
  };
}

/** The worker file (.cjs: the script uses require/__filename whatever package.json says about modules). */
function writeWorkerFile(script: string): string {
  return writeTempArtifact('pthread-worker', '.cjs', script);
}

/**
 * A file derived from tfjs's own (worker script, patched binary) in the temp dir, named by its
 * content hash and written atomically, so concurrent processes and versions never clash.
 */
export function writeTempArtifact(prefix: string, ext: string, content: string | Uint8Array): string {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'distill-tfjs-wasm');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${prefix}-${hash}${ext}`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  }
  return file;
}

interface EmscriptenWorker {
  unref(): void;
  terminate(): unknown;
}
interface PThreadRegistry {
  runningWorkers: EmscriptenWorker[];
  unusedWorkers: EmscriptenWorker[];
}

/**
 * After init: let Node exit although pthreads are alive, and drop the idle workers Emscripten
 * pre-spawned (its pool is 8; the thread pool has taken what it needs already).
 */
export function settleWorkers(wasmModule: unknown): void {
  const pt = (wasmModule as { PThread?: PThreadRegistry }).PThread;
  if (!pt) return;
  for (const w of pt.runningWorkers) w.unref();
  for (const w of pt.unusedWorkers.splice(0)) {
    w.unref();
    void w.terminate();
  }
}
