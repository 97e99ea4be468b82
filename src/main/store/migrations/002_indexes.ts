// Indexes for the Browser's filters and the trainer's resume path (metrics truncated by step).
import type { Migration } from './index.js';

export const m002Indexes: Migration = {
  version: 2,
  name: 'browse-and-resume-indexes',
  up(db) {
    db.exec(`
      CREATE INDEX teacher_predictions_by_confidence ON teacher_predictions(teacher_id, confidence);
      CREATE INDEX mining_selections_by_image ON mining_selections(image_id);
      CREATE INDEX metrics_by_run_step ON metrics(run_id, scope, step);
      CREATE INDEX runs_by_dataset ON runs(dataset_id);
      CREATE INDEX minings_by_dataset ON minings(dataset_id, teacher_id);
    `);
  },
};
