// Pretrained backbones shipped with the app under resources/backbones (each folder with its license),
// by name. Paths resolve from the package root, found by walking up from this file, so the same code
// works from the CLI, `distill serve` and the Electron app (which runs the engine from the package).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Preprocessing } from './preprocessing.js';

export interface BundledBackbone {
  name: string;
  /** Folder under resources/backbones holding model.json, its weights, LICENSE and NOTICE. */
  folder: string;
  inputSize: number;
  preprocessing: Preprocessing;
  /** The pooled layer whose output is the feature vector. */
  featureLayer: string;
  featureDim: number;
  license: string;
}

export const BUNDLED_BACKBONES: readonly BundledBackbone[] = [
  {
    name: 'mobilenet_v1_075',
    folder: 'mobilenet_v1_075',
    inputSize: 224,
    preprocessing: { range: '-1-1' },
    featureLayer: 'global_average_pooling2d_1',
    featureDim: 768,
    license: 'Apache-2.0 (Google, tfjs-models)',
  },
];

/** New backbone teachers use this one unless told otherwise. */
export const DEFAULT_BACKBONE = 'mobilenet_v1_075';

const PACKAGE_NAME = 'distill-studio';

/** The folder holding this package's package.json. */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${from}`);
  }
}

export function findBundledBackbone(name: string): BundledBackbone | undefined {
  return BUNDLED_BACKBONES.find((b) => b.name === name);
}

/** model.json of a bundled backbone. */
export function bundledBackboneModelJson(b: BundledBackbone): string {
  return path.join(packageRoot(), 'resources', 'backbones', b.folder, 'model.json');
}
