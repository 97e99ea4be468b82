// Which intermediate values a run's loss reads, from its method and loss.feature: the loop taps the
// students and the teacher for exactly these, and the run refuses a model that cannot give them.
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../../shared/run-config.js';
import { tapValues, type TapWant } from '../models/feature-tap.js';
import type { TapInfo } from './train-types.js';

export interface FeatureNeeds {
  /** Students whose pooled features the loss reads (by index). */
  studentPooled: number[];
  /** Student 0's last spatial map (attention transfer). */
  studentMap: boolean;
  teacherPooled: boolean;
  teacherMap: boolean;
  /** A learned adapter from student 0's pooled features to the teacher's (feature regression, FitNets). */
  adapter: boolean;
  /** Matched-channel hints: student 0's and the teacher's maps at named layers (loss.hint). */
  hints: boolean;
}

export function featureNeeds(config: Pick<RunConfig, 'method' | 'loss' | 'peers'>): FeatureNeeds {
  const regress = config.method === 'fitnets' || config.loss.feature !== undefined;
  const students = 1 + (config.peers?.length ?? 0);
  return {
    studentPooled: config.method === 'udml' ? Array.from({ length: students }, (_, i) => i) : regress || config.method === 'rkd' ? [0] : [],
    studentMap: config.method === 'at',
    teacherPooled: regress || config.method === 'rkd',
    teacherMap: config.method === 'at',
    adapter: regress,
    hints: config.loss.hint !== undefined,
  };
}

/**
 * Whether the teacher runs live each step; else its soft labels, and its pooled features where the loss
 * reads them, come from the teacher cache (one pass per view). Spatial maps (attention, hints) are too large to cache.
 */
export function needsLiveTeacher(n: FeatureNeeds, cache: boolean): boolean {
  return n.teacherMap || n.hints || (n.teacherPooled && !cache);
}

/** What the loss reads from student `i` (peers read the default layers; a named layer and hints are student 0's). */
export function studentWant(needs: FeatureNeeds, i: number, layer: string | undefined, hints?: string[]): TapWant | null {
  const pooled = needs.studentPooled.includes(i);
  const map = i === 0 && needs.studentMap;
  const h = i === 0 && hints?.length ? hints : undefined;
  if (!pooled && !map && !h) return null;
  return { pooled, map, ...(i === 0 && layer !== undefined && { layer }), ...(h && { hints: h }) };
}

export function teacherWant(needs: FeatureNeeds, layer: string | undefined, hints?: string[]): TapWant {
  return { pooled: needs.teacherPooled, map: needs.teacherMap, ...(layer !== undefined && { layer }), ...(hints?.length && { hints }) };
}

/** A teacher as far as its features go (train-types' Teacher, or anything that reports its taps). */
export interface TappableTeacher {
  name: string;
  tapInfo?(want: TapWant): TapInfo | Promise<TapInfo>;
}

/** The size of the teacher's pooled features, or null where it gives none (a black-box teacher, a graph with no pooling). */
export async function teacherPooledDim(teacher: TappableTeacher | null, layer?: string): Promise<number | null> {
  if (!teacher?.tapInfo) return null;
  try {
    const dim = (await teacher.tapInfo({ pooled: true, map: false, ...(layer !== undefined && { layer }) })).featureDim ?? 0;
    return dim > 0 ? dim : null;
  } catch {
    return null;
  }
}

/** Refuses, before any step, a run whose teacher or students cannot give what its loss reads. */
export async function checkFeatureSources(
  method: string,
  needs: FeatureNeeds,
  teacher: TappableTeacher | null,
  students: tf.LayersModel[],
  layers: { student?: string; teacher?: string } = {},
): Promise<{ studentDim: number | null; teacherDim: number | null }> {
  const why = (what: string) => `method "${method}" reads ${what}`;
  let teacherDim: number | null = null;
  if (needs.teacherPooled || needs.teacherMap) {
    if (!teacher) throw new Error(why("a teacher's features") + ', and the run has no teacher');
    if (!teacher.tapInfo) throw new Error(why("the teacher's features") + `; teacher "${teacher.name}" exposes none (a TF.js graph-model teacher runs as a black box: use a TF.js layers or ONNX teacher, e.g. one trained with --backbone)`);
    try {
      teacherDim = (await teacher.tapInfo(teacherWant(needs, layers.teacher))).featureDim;
    } catch (err) {
      throw new Error(`${why("the teacher's features")}; ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const dims = needs.studentPooled.map((i) => {
    try {
      return tapValues(students[i]!, studentWant(needs, i, layers.student)!, i === 0 ? 'the student' : `peer student ${i}`).pooled!.shape[1] as number;
    } catch (err) {
      throw new Error(`${why('pooled features')}; ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (needs.studentMap) {
    try {
      tapValues(students[0]!, studentWant(needs, 0, layers.student)!, 'the student');
    } catch (err) {
      throw new Error(`${why('an attention map')}; ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (method === 'udml' && new Set(dims).size > 1) throw new Error(`method "udml" pulls the peers' pooled features together, and they differ in size (${dims.join(', ')}): use peers with the same feature size`);
  return { studentDim: dims[0] ?? null, teacherDim };
}
