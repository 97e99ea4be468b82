// The default recipe on the New run page: the user states a budget (parameters, minutes), the app
// measures candidate students on this machine (`distill recipe`) and shows the one it would train,
// its epochs and the expected time, with every candidate and why; "Use this recipe" fills the form.
import { useState } from 'react';
import { RecipePlanResult } from '../../shared/recipe-plan.js';
import { studentLabel } from '../../shared/run-config.js';
import { useApi } from '../api-context.js';
import { compact } from '../lib/format.js';
import { useJobResult } from '../lib/use-job-result.js';
import { JobOutcome } from './JobOutcome.js';

export function RecipePanel({
  dataset,
  teacher,
  useLabels,
  useUnlabeled,
  onApply,
}: {
  dataset: string;
  teacher: string;
  useLabels: boolean;
  useUnlabeled: boolean;
  onApply: (plan: RecipePlanResult) => void;
}) {
  const client = useApi();
  const [params, setParams] = useState('0.5M');
  const [minutes, setMinutes] = useState(20);
  const job = useJobResult(RecipePlanResult);
  const plan = job.result;
  const start = () => job.start(() => client.call('runs.plan', { dataset, teacher, params, minutes, useLabels, useUnlabeled }));

  return (
    <section className="card" data-testid="recipe-panel">
      <h2>Recipe: the strongest student for a budget</h2>
      <div className="muted small">
        Measures candidate students (slimmed from the pretrained backbone, and from scratch) on this machine and picks the strongest that gets
        enough epochs in the time, for teacher <b>{teacher}</b> on <b>{dataset}</b>.
      </div>
      <div className="form-grid">
        <label className="form-field">
          <span className="form-label">at most parameters</span>
          <input type="text" value={params} onChange={(e) => setParams(e.target.value)} data-testid="recipe-params" />
        </label>
        <label className="form-field">
          <span className="form-label">minutes</span>
          <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} data-testid="recipe-minutes" />
        </label>
        <div className="form-field end">
          <button onClick={() => void start()} data-testid="recipe-plan">
            Plan
          </button>
        </div>
      </div>
      <JobOutcome jobId={job.jobId} error={job.error} testId="recipe-progress" onFinish={job.onFinish} />
      {plan && (
        <div data-testid="recipe-result">
          <p>
            <b data-testid="recipe-choice">{studentLabel(plan.student)}</b> @{plan.student.inputSize}px for <b data-testid="recipe-epochs">{plan.epochs}</b> epochs{' '}
            {plan.views === null ? (
              <span data-testid="recipe-teacher-live">with the teacher live, a fresh crop of each image every epoch</span>
            ) : (
              <>
                over <b data-testid="recipe-views">{plan.views}</b> teacher view{plan.views === 1 ? '' : 's'} of each image
              </>
            )}
            {plan.feature ? ', with feature distillation' : ''}
            {plan.hint ? <span data-testid="recipe-hints">, hints from the teacher's layers</span> : ''} — about <b data-testid="recipe-expected">{plan.expectedMinutes.toFixed(1)} min</b> on this machine.{' '}
            <button className="primary" onClick={() => onApply(plan)} data-testid="recipe-apply">
              Use this recipe
            </button>
          </p>
          <table className="table small">
            <thead>
              <tr>
                <th>candidate</th>
                <th className="num">params</th>
                <th className="num">img/s</th>
                <th className="num">epochs in budget</th>
                <th>verdict</th>
              </tr>
            </thead>
            <tbody>
              {plan.table.map((r, i) => (
                <tr key={i}>
                  <td>
                    {studentLabel(r.student)} @{r.student.inputSize}px
                  </td>
                  <td className="num">{compact(r.params)}</td>
                  <td className="num">{r.trainImgPerSec.toFixed(1)}</td>
                  <td className="num">{r.epochs}</td>
                  <td className={r.verdict.startsWith('chosen') ? 'ok' : 'muted'}>{r.verdict}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
