// Where a pretrained source model lives: a path (model.json or its folder) or the name of a bundled
// backbone (resources/backbones/<name>/model.json). The one place that maps names to folders, so the
// registry of bundled backbones can replace the lookup without touching the students.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bundled backbone names (design.md "Pretrained backbones"). */
export const BUNDLED_BACKBONES = ['mobilenet_v1_075'] as const;

function resourcesDir(): string {
  // src/main/engine/models → repository root; DISTILL_RESOURCES overrides it (packaged app).
  const here = path.dirname(fileURLToPath(import.meta.url));
  return process.env.DISTILL_RESOURCES ?? path.resolve(here, '../../../../resources');
}

/** The model.json of a bundled backbone, or null when the name is not bundled or its files are absent. */
export function bundledBackboneFile(name: string): string | null {
  if (!(BUNDLED_BACKBONES as readonly string[]).includes(name)) return null;
  const file = path.join(resourcesDir(), 'backbones', name, 'model.json');
  return fs.existsSync(file) ? file : null;
}

/** Resolves a student's `from`/`slim` source to a model.json path; the error names what was tried. */
export function resolveBackboneFile(source: string): string {
  const bundled = bundledBackboneFile(source);
  if (bundled) return bundled;
  const file = source.endsWith('.json') ? source : path.join(source, 'model.json');
  if (fs.existsSync(file)) return path.resolve(file);
  if ((BUNDLED_BACKBONES as readonly string[]).includes(source)) {
    throw new Error(`bundled backbone "${source}" is not installed (no ${path.join(resourcesDir(), 'backbones', source, 'model.json')}); pass the path of its model.json instead`);
  }
  throw new Error(`pretrained model "${source}": no such bundled backbone (${BUNDLED_BACKBONES.join(', ')}) and no ${file}`);
}

/** True when a pretrained backbone can be used for students without a path from the user. */
export function hasBundledBackbone(): string | null {
  return BUNDLED_BACKBONES.find((n) => bundledBackboneFile(n) !== null) ?? null;
}
