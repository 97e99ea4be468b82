// Where a pretrained source model for a student lives: a path (model.json or its folder) or the name
// of a bundled backbone. Names resolve through the one registry (teachers/bundled-backbones.ts).
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLED_BACKBONES, bundledBackboneModelJson, findBundledBackbone } from '../teachers/bundled-backbones.js';

/** The model.json of a bundled backbone, or null when the name is not bundled or its files are absent. */
export function bundledBackboneFile(name: string): string | null {
  const b = findBundledBackbone(name);
  if (!b) return null;
  const file = bundledBackboneModelJson(b);
  return fs.existsSync(file) ? file : null;
}

/** Resolves a student's `from`/`slim` source to a model.json path; the error names what was tried. */
export function resolveBackboneFile(source: string): string {
  const bundled = bundledBackboneFile(source);
  if (bundled) return bundled;
  const file = source.endsWith('.json') ? source : path.join(source, 'model.json');
  if (fs.existsSync(file)) return path.resolve(file);
  const names = BUNDLED_BACKBONES.map((b) => b.name);
  if (names.includes(source)) throw new Error(`bundled backbone "${source}" is not installed (no ${bundledBackboneModelJson(findBundledBackbone(source)!)})`);
  throw new Error(`pretrained model "${source}": no such bundled backbone (${names.join(', ')}) and no ${file}`);
}

/** A bundled backbone students can start from without a path from the user, if one is installed. */
export function hasBundledBackbone(): string | null {
  return BUNDLED_BACKBONES.find((b) => bundledBackboneFile(b.name) !== null)?.name ?? null;
}
