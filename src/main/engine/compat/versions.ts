// The tfjs versions the engine's patches and private-field reads were written and checked against.
// On any other version they stay off and tfjs's own path runs: slower, never wrong numbers.
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';

export const WRITTEN_FOR = '4.22.0';

export interface TfjsVersions {
  core: string;
  layers: string;
  wasm: string;
}

let simulated: TfjsVersions | null = null;

/** The versions loaded in this process. */
export function foundVersions(): TfjsVersions {
  if (simulated) return simulated;
  const v = tf.version as Record<string, string | undefined>;
  return { core: v['tfjs-core'] ?? 'unknown', layers: v['tfjs-layers'] ?? 'unknown', wasm: version_wasm };
}

/** Tests: pretend other versions are loaded (null: the real ones). Call before anything installs. */
export function simulateVersions(v: TfjsVersions | null): void {
  simulated = v;
}

/** Null when every package is the version the patches were written for, else why not. */
export function versionMismatch(found: TfjsVersions = foundVersions()): string | null {
  const off = Object.entries(found).filter(([, v]) => v !== WRITTEN_FOR);
  if (off.length === 0) return null;
  return `tfjs ${off.map(([k, v]) => `${k} ${v}`).join(', ')} found; the engine's fused kernels were written for ${WRITTEN_FOR}`;
}
