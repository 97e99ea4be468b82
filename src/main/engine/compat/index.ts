// The only door to tfjs internals: prototype patches of tfjs-layers, private fields, kernels that
// read tfjs-backend-wasm's heap. Everything that does so installs through `patchOnce` (the one
// install guard), which first checks the tfjs versions: on a version the code was not written for,
// nothing is patched, one warning says so, and tfjs's own path runs.
import { versionMismatch } from './versions.js';

export { foundVersions, simulateVersions, versionMismatch, WRITTEN_FOR, type TfjsVersions } from './versions.js';
export type { BatchNormLayerFields, ConvLayerFields, LayerCallFn, LayerNodeLike, LayerVariableLike, PaddingLayerFields } from './layer-fields.js';
export { activationName } from './layer-fields.js';
export { setLearningRate, wasmModuleOf } from './private-fields.js';

const installed = new Set<string>();
const warnings: string[] = [];

function warnOnce(message: string): void {
  if (warnings.includes(message)) return;
  warnings.push(message);
  console.warn(`distill: warning: ${message}`);
}

/** True when tfjs internals may be used; else warns (once) and tfjs's own path must be taken. */
export function internalsUsable(): boolean {
  const why = versionMismatch();
  if (why === null) return true;
  warnOnce(`${why}: using tfjs's own layers and kernels instead (same results, slower)`);
  return false;
}

/**
 * Runs `install` once per `key` for the process, and only on the tfjs version it was written for.
 * Returns whether the patch is in place.
 */
export function patchOnce(key: string, install: () => void): boolean {
  if (installed.has(key)) return true;
  if (!internalsUsable()) return false;
  install();
  installed.add(key);
  return true;
}

/** Keys of the patches in place (for `doctor` and tests). */
export function installedPatches(): string[] {
  return [...installed];
}

/** Warnings given so far (tests, `doctor`). */
export function compatWarnings(): string[] {
  return [...warnings];
}
