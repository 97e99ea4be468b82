// `distill run` with no student named (SSLD with a teacher): the default recipe picks the student,
// epochs and loss weights that fit --params and --minutes on this machine (engine/recipe).
import type { Output } from '../output.js';
import type { Store } from '../../store/index.js';
import type { RecipePlan } from '../../engine/recipe/plan.js';
import { recipeEpochsText } from '../../../shared/recipe-plan.js';

export interface RecipeRequest {
  dataset: string;
  teacher: string;
  maxParams: number;
  minutes: number;
  /** A backbone path or bundled name; else the bundled one when installed; else none (mobilenet_v2). */
  backbone?: string;
  useLabels: boolean;
  useUnlabeled: boolean;
}

export async function runRecipe(store: Store, out: Output, r: RecipeRequest): Promise<RecipePlan> {
  const summary = store.datasets.getDatasetSummary(/^\d+$/.test(r.dataset) ? Number(r.dataset) : r.dataset);
  if (!summary) throw new Error(`no dataset "${r.dataset}"`);
  const labeled = Object.values(summary.labeled).reduce((a, b) => a + b, 0);
  const val = Object.values(summary.val).reduce((a, b) => a + b, 0);
  // SSLD trains on the labeled images too (their labels unused when --no-labels).
  const trainImages = labeled + (r.useUnlabeled ? summary.unlabeled : 0);
  if (trainImages === 0) throw new Error(`dataset "${summary.name}" has no training images`);
  const [{ initBackend }, { loadTeacher }, { planRecipe }, { hasBundledBackbone, resolveBackboneFile }] = await Promise.all([
    import('../../engine/backend/select.js'),
    import('../../engine/teacher-model.js'),
    import('../../engine/recipe/plan.js'),
    import('../../engine/models/backbones.js'),
  ]);
  await initBackend();
  const backbone = r.backbone ?? hasBundledBackbone();
  if (backbone) resolveBackboneFile(backbone); // a bad path fails here, before any measuring
  const teacher = await loadTeacher(store.teachers.requireTeacher(r.teacher), summary.classes);
  const plan = await planRecipe({
    maxParams: r.maxParams,
    minutes: r.minutes,
    trainImages,
    valImages: val,
    classes: summary.classes.length,
    backbone,
    teacher,
    onProgress: (done, total, message) => out.event({ type: 'progress', phase: 'recipe', done, total, message }, `recipe: ${message}`),
  });
  for (const row of plan.table) {
    out.event(
      { type: 'recipe-candidate', ...row },
      `  ${JSON.stringify(row.student)}: ${row.params} params, ${row.trainImgPerSec.toFixed(1)} img/s, ${row.epochs} epochs: ${row.verdict}`,
    );
  }
  out.event(
    { type: 'recipe', student: plan.student, epochs: plan.epochs, teacherCache: plan.teacherCache, views: plan.views, feature: plan.feature, hint: plan.hint, expectedMinutes: plan.expectedSeconds / 60, teacherImgPerSec: plan.teacherImgPerSec },
    `recipe: ${JSON.stringify(plan.student)} for ${recipeEpochsText(plan)}${plan.feature ? ' + feature distillation' : ''}${plan.hint ? ' + hints' : ''}, about ${(plan.expectedSeconds / 60).toFixed(1)} min`,
  );
  return plan;
}
