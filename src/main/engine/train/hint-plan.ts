// Which layers matched-channel hints read (loss.hint), and which of the teacher's channels each of the
// student's maps holds. Decided once before the first step; a layer the teacher lacks, or whose channels
// cannot be the student's, refuses the run with the layer named.
import type * as tf from '@tensorflow/tfjs';
import type { StudentSpec } from '../../../shared/run-config.js';
import { studentSlimPlan } from '../models/pretrained-student.js';
import { tapValues } from '../models/feature-tap.js';
import type { TappableTeacher } from './feature-needs.js';

export interface HintPlan {
  layers: string[];
  /** Per layer: the teacher's channels the student's map holds, in its order; null where it holds them all. */
  channels: (number[] | null)[];
  /** Per layer: the student map's [H, W] (the teacher's is resized to it when they differ, e.g. another input size). */
  sizes: [number, number][];
}

/** Layers that reshape without computing: never a stage's last word. */
const NOT_A_STAGE_END = new Set(['ZeroPadding2D', 'InputLayer', 'Rescaling', 'Dropout', 'SpatialDropout2D']);

/**
 * The last layer at each of the three smallest spatial sizes of the model's spatial layers (for MobileNet
 * v1 at 224 px: the ends of the 28, 14 and 7 px stages): deep enough to carry what the classes need,
 * small enough to add little memory.
 */
export function defaultHintLayers(model: tf.LayersModel): string[] {
  const lastAt = new Map<number, string>();
  for (const l of model.layers) {
    if (NOT_A_STAGE_END.has(l.getClassName())) continue;
    const out = l.output;
    if (Array.isArray(out) || out.rank !== 4) continue;
    const h = out.shape[1];
    if (typeof h !== 'number') continue;
    lastAt.set(h, l.name);
  }
  const sizes = [...lastAt.keys()].sort((a, b) => a - b).slice(0, 3);
  // In the order the network computes them (largest map first).
  return sizes.reverse().map((h) => lastAt.get(h)!);
}

export async function planHints(
  spec: StudentSpec,
  student: tf.LayersModel,
  teacher: TappableTeacher | null,
  layers: string[] | undefined,
): Promise<HintPlan> {
  const refuse = (why: string): Error => new Error(`hints: ${why}`);
  if ('arch' in spec) throw refuse(`student ${spec.arch} is built from scratch; hints need a student cut (from) or slimmed (slim) from the teacher's backbone`);
  if (!teacher) throw refuse('the run has no teacher');
  if (!teacher.tapInfo) throw refuse(`teacher "${teacher.name}" exposes no layers (a TF.js graph model runs as a black box: use a TF.js layers teacher built on the student's backbone)`);
  const names = layers ?? defaultHintLayers(student);
  if (names.length === 0) throw refuse('the student has no spatial layers to hint');
  const maps = tapValues(student, { pooled: false, map: false, hints: names }, 'the student').hints!;
  let teacherShapes: [number, number, number][];
  try {
    teacherShapes = (await teacher.tapInfo({ pooled: false, map: false, hints: names })).hintShapes ?? [];
  } catch (err) {
    throw refuse(err instanceof Error ? err.message : String(err));
  }
  const plan = await studentSlimPlan(spec, student);
  const channels = names.map((name, k) => {
    const [sh, sw, sc] = maps[k]!.shape.slice(1) as number[];
    const [, , tc] = teacherShapes[k] ?? [];
    if (!sh || !sw || !sc || !tc) throw refuse(`layer "${name}": no spatial shape on the student or the teacher`);
    const kept = plan?.outChannels.get(name) ?? null;
    const source = plan ? plan.sourceChannels.get(name) : sc;
    if (source !== tc) {
      throw refuse(`layer "${name}" has ${tc} channels in teacher "${teacher.name}" and ${source ?? '?'} in the student's source: the teacher is not built on the student's backbone`);
    }
    if (kept && kept.length !== sc) throw refuse(`layer "${name}": the student has ${sc} channels where its slimming kept ${kept.length}`);
    return kept;
  });
  return { layers: names, channels, sizes: maps.map((m) => [m.shape[1] as number, m.shape[2] as number]) };
}
