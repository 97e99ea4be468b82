// A built-in two-class image set (circles vs. squares on cluttered backgrounds), rendered through sharp
// from SVG, so `distill demo` and the tests need no downloaded data. The unlabeled pool's truth goes to
// a CSV beside the folders (never imported) so mining precision can be measured.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../engine/data/rng.js';

export const SYNTHETIC_CLASSES = ['circle', 'square'] as const;

export interface SyntheticSpec {
  dir: string;
  labeledPerClass: number;
  unlabeled: number;
  valPerClass: number;
  size?: number;
  seed?: number;
}

export interface SyntheticLayout {
  labeled: string;
  unlabeled: string;
  val: string;
  truthCsv: string;
}

function color(rand: () => number): string {
  const c = () => Math.floor(40 + rand() * 200);
  return `rgb(${c()},${c()},${c()})`;
}

/** Each class has its own hue range as well as its shape, so a small net learns it in a few epochs. */
function classColor(cls: (typeof SYNTHETIC_CLASSES)[number], rand: () => number): string {
  const hue = cls === 'circle' ? 330 + rand() * 60 : 180 + rand() * 60;
  return `hsl(${hue % 360},${60 + rand() * 30}%,${40 + rand() * 20}%)`;
}

function svgFor(cls: (typeof SYNTHETIC_CLASSES)[number], size: number, rand: () => number): string {
  const clutter: string[] = [];
  for (let i = 0; i < 3; i++) {
    // Thin lines as distractors: they are in both classes, so only the shape tells the class.
    const x1 = rand() * size, y1 = rand() * size, x2 = rand() * size, y2 = rand() * size;
    clutter.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${color(rand)}" stroke-width="${1 + rand() * 2}"/>`);
  }
  const r = size * (0.22 + rand() * 0.12);
  const cx = r + rand() * (size - 2 * r);
  const cy = r + rand() * (size - 2 * r);
  const fill = classColor(cls, rand);
  const shape =
    cls === 'circle'
      ? `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`
      : `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="${fill}" transform="rotate(${(rand() - 0.5) * 30} ${cx} ${cy})"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="hsl(${Math.floor(rand() * 360)},15%,${70 + rand() * 20}%)"/>${clutter.join('')}${shape}</svg>`;
}

async function render(file: string, svg: string): Promise<void> {
  await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toFile(file);
}

export async function makeSyntheticDataset(spec: SyntheticSpec): Promise<SyntheticLayout> {
  const size = spec.size ?? 96;
  const rng = new Rng(spec.seed ?? 7);
  const rand = (): number => rng.next();
  const layout: SyntheticLayout = {
    labeled: path.join(spec.dir, 'labeled'),
    unlabeled: path.join(spec.dir, 'unlabeled'),
    val: path.join(spec.dir, 'val'),
    truthCsv: path.join(spec.dir, 'unlabeled-truth.csv'),
  };
  const jobs: Promise<void>[] = [];
  for (const split of ['labeled', 'val'] as const) {
    const n = split === 'labeled' ? spec.labeledPerClass : spec.valPerClass;
    for (const cls of SYNTHETIC_CLASSES) {
      const dir = path.join(layout[split], cls);
      fs.mkdirSync(dir, { recursive: true });
      for (let i = 0; i < n; i++) jobs.push(render(path.join(dir, `${cls}-${i}.jpg`), svgFor(cls, size, rand)));
    }
  }
  fs.mkdirSync(layout.unlabeled, { recursive: true });
  const truth = ['file,label'];
  for (let i = 0; i < spec.unlabeled; i++) {
    const cls = SYNTHETIC_CLASSES[rand() < 0.5 ? 0 : 1]!;
    const name = `img-${String(i).padStart(5, '0')}.jpg`;
    truth.push(`${name},${cls}`);
    jobs.push(render(path.join(layout.unlabeled, name), svgFor(cls, size, rand)));
  }
  await Promise.all(jobs);
  fs.writeFileSync(layout.truthCsv, truth.join('\n') + '\n');
  return layout;
}
