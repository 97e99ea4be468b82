// teachers.*: list from the store; training and importing run the CLI (`distill teacher …`).
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';
import { BUNDLED_BACKBONES } from '../engine/teachers/bundled-backbones.js';

export function teacherHandlers(
  ctx: ServiceContext,
): HandlerGroup<'teachers.list' | 'teachers.train' | 'teachers.import' | 'teachers.backbones' | 'teachers.trainBackbone'> {
  const { store, jobs } = ctx;
  const nameFree = (name: string) => {
    if (store.teachers.findTeacherId(name) !== null) throw new ApiError(`a teacher named "${name}" already exists`, 409);
  };
  return {
    'teachers.list': () => store.teachers.listTeachers(),

    'teachers.train': ({ name, dataset, arch, size, epochs }) => {
      nameFree(name);
      const ds = store.datasets.findDatasetId(dataset);
      if (ds === null) throw new ApiError(`dataset "${dataset}" not found`, 404);
      return jobs.spawnCli('teacher-train', ['teacher', 'train', name, '--dataset', String(ds), '--arch', arch, '--size', String(size), '--epochs', String(epochs)]);
    },

    'teachers.backbones': () =>
      BUNDLED_BACKBONES.map((b) => ({ name: b.name, inputSize: b.inputSize, featureDim: b.featureDim, featureLayer: b.featureLayer, license: b.license })),

    'teachers.trainBackbone': ({ name, dataset, backbone, featureLayer, inputRange, head, epochs }) => {
      nameFree(name);
      const ds = store.datasets.findDatasetId(dataset);
      if (ds === null) throw new ApiError(`dataset "${dataset}" not found`, 404);
      return jobs.spawnCli('teacher-train', [
        'teacher', 'train', name, '--dataset', String(ds), '--backbone', backbone, '--head', head, '--epochs', String(epochs),
        ...(featureLayer ? ['--feature-layer', featureLayer] : []),
        ...(inputRange ? [`--input-range=${inputRange}`] : []),
      ]);
    },

    // Quick (it loads and checks one model), so the call waits for it instead of returning a job.
    'teachers.import': async ({ name, path, classes, inputRange }) => {
      nameFree(name);
      const job = jobs.spawnCli('teacher-train', ['teacher', 'import', name, path, '--classes', classes.join(','), ...(inputRange ? [`--input-range=${inputRange}`] : [])]);
      const done = await jobs.wait(job.id);
      if (done.status !== 'done') throw new ApiError(done.message, 400);
      const teacher = store.teachers.getTeacher(name);
      if (!teacher) throw new Error(`teacher "${name}" was imported but is not in the store`);
      return teacher;
    },
  };
}
