// Which intermediate values a run's loss reads, from its method and loss.feature: the loop taps the
// students and the teacher for exactly these, and the run refuses a model that cannot give them.
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../../shared/run-config.js';
import { hasSpatialMap, pooledDim } from '../models/feature-tap.js';

export interface FeatureNeeds {
  /** Students whose pooled features the loss reads (by index). */
  studentPooled: number[];
  /** Student 0's last spatial map (attention transfer). */
  studentMap: boolean;
  teacherPooled: boolean;
  teacherMap: boolean;
  /** A learned adapter from student 0's pooled features to the teacher's (feature regression, FitNets). */
  adapter: boolean;
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
  };
}

/** Whether the teacher runs live each step (its features are read); else its soft labels may come from the cache. */
export function needsLiveTeacher(n: FeatureNeeds): boolean {
  return n.teacherPooled || n.teacherMap;
}

/** Refuses, before any step, a run whose teacher or students cannot give what its loss reads. */
export function checkFeatureSources(
  method: string,
  needs: FeatureNeeds,
  teacher: { name: string; featureDim?: number; hasMap?: boolean; tapped?: unknown } | null,
  students: tf.LayersModel[],
): { studentDim: number | null; teacherDim: number | null } {
  const why = (what: string) => `method "${method}" reads ${what}`;
  if (needs.teacherPooled || needs.teacherMap) {
    if (!teacher) throw new Error(why('a teacher\'s features') + ', and the run has no teacher');
    if (!teacher.tapped) throw new Error(why(`the teacher's features`) + `; teacher "${teacher.name}" exposes none (an ONNX or graph-model teacher runs as a black box: use a TF.js layers teacher, e.g. one trained with --backbone)`);
    if (needs.teacherPooled && !teacher.featureDim) throw new Error(why('pooled features') + `; teacher "${teacher.name}" has no Dense head on pooled features`);
    if (needs.teacherMap && !teacher.hasMap) throw new Error(why('an attention map') + `; teacher "${teacher.name}" has no global average pooling after a spatial stage`);
  }
  const dims = needs.studentPooled.map((i) => {
    const d = pooledDim(students[i]!);
    if (d === null) throw new Error(why('pooled features') + `; ${i === 0 ? 'the student' : `peer student ${i}`} has no Dense head on them`);
    return d;
  });
  if (needs.studentMap && !hasSpatialMap(students[0]!)) throw new Error(why('an attention map') + '; the student has no global average pooling after a spatial stage');
  if (method === 'udml' && new Set(dims).size > 1) throw new Error(`method "udml" pulls the peers' pooled features together, and they differ in size (${dims.join(', ')}): use peers with the same feature size`);
  return { studentDim: dims[0] ?? null, teacherDim: teacher?.featureDim ?? null };
}
