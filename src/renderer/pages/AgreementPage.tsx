// Teacher vs student: how often a run's student agrees with its teacher on val and on the unlabeled
// pool, and the images where they disagree.
import { useState } from 'react';
import { useApi, useCall } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ImageDetail } from '../components/ImageDetail.js';
import { RunPicker } from '../components/Pickers.js';
import { baseName, num, pct } from '../lib/format.js';
import { navigate, numParam } from '../router.js';

export function AgreementPage({ params }: { params: URLSearchParams }) {
  const client = useApi();
  const runs = useCall('runs.list', {});
  const withTeacher = (runs.data ?? []).filter((r) => r.teacherId !== null && r.status === 'completed');
  const runId = numParam(params, 'run') ?? withTeacher[withTeacher.length - 1]?.id ?? null;
  const agreement = useCall('runs.agreement', runId === null ? null : { id: runId });
  const [selected, setSelected] = useState<number | null>(null);
  const a = agreement.data;
  const teachers = useCall('teachers.list', {});
  const teacherName = a ? (teachers.data?.find((t) => t.id === a.teacher)?.name ?? `#${a.teacher}`) : '';

  return (
    <div className="page">
      <header className="page-head">
        <h1>Teacher vs student</h1>
        <div className="actions">
          <RunPicker value={runId} onChange={(id) => navigate('agreement', { run: id ?? undefined })} filter={(r) => r.teacherId !== null} testId="agreement-run" />
        </div>
      </header>
      {runs.data && withTeacher.length === 0 && runId === null && (
        <EmptyState title="No finished run with a teacher yet">
          Train a teacher on the <a href="#/teachers">Teachers</a> page, then run <b>kd</b> or <b>ssld</b> from <a href="#/new-run">New run</a>. Agreement is measured when the run completes.
        </EmptyState>
      )}
      <ErrorNote error={agreement.error} />
      {a && (a.val.n === 0 || a.unlabeled.n === 0) && (
        <div className="note warn" data-testid="agreement-empty">
          {a.val.n === 0 && a.unlabeled.n === 0 ? 'No image has' : `No ${a.val.n === 0 ? 'validation' : 'unlabeled'} image has`} both a teacher and a student
          prediction yet. The student predicts the validation images at the end of each epoch; the teacher predicts the dataset when you mine it (
          <a href="#/teachers">Teachers</a> → Mine).
        </div>
      )}
      {a && (
        <>
          <div className="summary-strip" data-testid="agreement-stats">
            <div className="stat big">
              <div className="stat-v" data-testid="agree-val" data-n={a.val.n}>
                {pct(a.val.n ? a.val.agree / a.val.n : null)}
              </div>
              <div className="stat-l">
                agree on val ({num(a.val.agree)}/{num(a.val.n)})
              </div>
            </div>
            <div className="stat big">
              <div className="stat-v" data-testid="agree-unlabeled" data-n={a.unlabeled.n}>
                {pct(a.unlabeled.n ? a.unlabeled.agree / a.unlabeled.n : null)}
              </div>
              <div className="stat-l">
                agree on unlabeled ({num(a.unlabeled.agree)}/{num(a.unlabeled.n)})
              </div>
            </div>
            <div className="stat">
              <div className="stat-v">{teacherName}</div>
              <div className="stat-l">teacher</div>
            </div>
          </div>
          <div className="browser-body short">
            <section className="card grow">
              <h2>Where they disagree ({num(a.disagreements.length)})</h2>
              {a.disagreements.length === 0 ? (
                <div className="muted">The student agrees with the teacher on every image.</div>
              ) : (
                <div className="thumb-flow" data-testid="disagreements">
                  {a.disagreements.map((img) => (
                    <button key={img.id} className={`thumb${selected === img.id ? ' selected' : ''}`} onClick={() => setSelected(img.id)} data-testid="disagreement">
                      <img src={client.thumbUrl(img.id)} alt={baseName(img.path)} />
                      <div className="thumb-cap">
                        <span className="thumb-label">
                          T {img.teacherLabel ?? '?'} · S {img.predictedLabel ?? '?'}
                        </span>
                      </div>
                    </button>
                  ))}
                </div>
              )}
            </section>
            <aside className="side-panel">{selected !== null ? <ImageDetail imageId={selected} /> : <div className="muted small pad">Click an image to compare the teacher's and the student's probabilities.</div>}</aside>
          </div>
        </>
      )}
    </div>
  );
}
