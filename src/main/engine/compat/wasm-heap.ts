// The size of the tfjs WASM backend's linear memory: the one place that reads the backend's module
// (a public field in the typings, but its memory object is emscripten's and moved between releases).
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);
const SUPPORTED = /^4\./;

interface WasmModuleMemory {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  HEAPU8?: Uint8Array;
}

let checked: boolean | null = null;

function versionSupported(): boolean {
  if (checked === null) {
    const { version } = require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string };
    checked = SUPPORTED.test(version);
  }
  return checked;
}

/** Bytes of the WASM heap when the active backend is wasm (and a known version), else null. */
export function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm' || !versionSupported()) return null;
  const wasm = (tf.backend() as unknown as { wasm?: WasmModuleMemory }).wasm;
  if (!wasm) return null;
  const mem = wasm.wasmMemory ?? wasm.asm?.memory;
  if (mem) return mem.buffer.byteLength;
  return wasm.HEAPU8 ? wasm.HEAPU8.buffer.byteLength : null;
}
