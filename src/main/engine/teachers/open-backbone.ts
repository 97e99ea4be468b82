// `--backbone B`: a bundled name, a path to a TF.js model.json (or its folder) or an .onnx file, with the preprocessing
// it expects (the bundled entry's, a path's from the flags, 0-255 when none is given) and its feature layer.
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLED_BACKBONES, bundledBackboneModelJson, findBundledBackbone } from './bundled-backbones.js';
import type { Preprocessing } from './preprocessing.js';
import { loadTfjsBackbone, type TfjsBackbone } from './tfjs-backbone.js';
import { loadOnnxBackbone, type OnnxBackbone } from './onnx-backbone.js';

export interface BackboneSpec {
  backbone: string;
  featureLayer?: string;
  /** Overrides of the backbone's own preprocessing (each field separately). */
  preprocessing?: Partial<Preprocessing>;
}

export async function openBackbone(spec: BackboneSpec): Promise<TfjsBackbone | OnnxBackbone> {
  const bundled = findBundledBackbone(spec.backbone);
  const over = spec.preprocessing ?? {};
  if (bundled) {
    const file = bundledBackboneModelJson(bundled);
    if (!fs.existsSync(file)) throw new Error(`bundled backbone "${bundled.name}" is missing from this installation (${file})`);
    return loadTfjsBackbone({
      name: bundled.name,
      modelJson: file,
      featureLayer: spec.featureLayer ?? bundled.featureLayer,
      preprocessing: { ...bundled.preprocessing, ...over },
    });
  }
  const p = path.resolve(spec.backbone);
  if (p.toLowerCase().endsWith('.onnx')) {
    return loadOnnxBackbone({ name: p, file: p, featureLayer: spec.featureLayer, preprocessing: { range: '0-255', ...over } });
  }
  const file = p.endsWith('.json') ? p : path.join(p, 'model.json');
  if (!fs.existsSync(file)) {
    throw new Error(
      `unknown backbone "${spec.backbone}": not a bundled backbone (${BUNDLED_BACKBONES.map((b) => b.name).join(', ')}) nor a TF.js model.json path`,
    );
  }
  return loadTfjsBackbone({ name: p, modelJson: file, featureLayer: spec.featureLayer, preprocessing: { range: '0-255', ...over } });
}
