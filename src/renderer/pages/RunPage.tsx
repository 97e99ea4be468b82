// Run: live charts that grow while the trainer works (each loss part, val accuracy, lr, img/s,
// teacher–student JS/KL), controls, the backend and why, ETA, checkpoints, and the run's exports.
import { useMemo, useState } from 'react';
import type { RunRecord } from '../../shared/domain.js';
import { useApi, useCall, useEvent, useInterval } from '../api-context.js';
import { BackendPanel } from '../components/BackendPanel.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ExportList } from '../components/ExportList.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { TimeChart } from '../components/TimeChart.js';
import { compact, duration, errorText, num, pct, when } from '../lib/format.js';
import { CHART_TITLES, align, type ChartKind } from '../lib/series.js';
import { href, navigate, numParam } from '../router.js';
import { useRunMetrics } from '../run-metrics.js';
import { RunsPage } from './RunsPage.js';
import { studentLabel } from '../../shared/run-config.js';

const LIVE = new Set(['queued', 'running', 'paused']);
const KINDS: ChartKind[] = ['loss', 'accuracy', 'lr', 'speed', 'divergence', 'memory'];
/** The trainer is gone (stalled: ended by its watchdog; interrupted: killed or crashed): Resume takes over from the last checkpoint. */
const RESUMABLE = new Set(['paused', 'stalled', 'interrupted', 'cancelled', 'failed']);
const EMPTY: Record<ChartKind, string> = {
  loss: 'Loss parts appear with the first training steps.',
  accuracy: 'Validation accuracy is measured at the end of each epoch.',
  lr: 'The learning rate is logged every step.',
  speed: 'Throughput is logged every step.',
  divergence: 'Measured per epoch for runs with a teacher or peers.',
  memory: 'Process RSS, WASM heap and live tensors are logged at the end of each epoch.',
};

export function RunPage({ params }: { params: URLSearchParams }) {
  const id = numParam(params, 'id');
  if (id === undefined) return <RunsPage />;
  return <RunView key={id} id={id} />;
}

function RunView({ id }: { id: number }) {
  const client = useApi();
  const got = useCall('runs.get', { id });
  const [actionError, setActionError] = useState<string | null>(null);
  const run = got.data?.run;
  const live = run ? LIVE.has(run.status) : false;
  useEvent('run.status', (r) => {
    if (r.id !== id) return;
    got.setData((prev) => (prev ? { ...prev, run: r } : prev));
    // ETA and checkpoints only come with runs.get.
    got.reload();
  });
  useInterval(got.reload, 5000, live);
  const { books, version } = useRunMetrics([id], live);
  const book = books.get(id);

  const charts = useMemo(
    () =>
      KINDS.map((kind) => {
        const all = book?.series(kind) ?? [];
        // The teacher's val accuracy is the line to reach: drawn flat across the chart, dashed.
        const teacher = kind === 'accuracy' ? all.find((s) => s.key.endsWith(':val/teacher_accuracy') && s.y.length > 0) : undefined;
        const series = teacher ? all.filter((s) => s !== teacher) : all;
        const data = align(series);
        if (!teacher || data[0].length === 0) return { kind, labels: series.map((s) => s.label), data, faint: undefined };
        const level = teacher.y[teacher.y.length - 1]!;
        return {
          kind,
          labels: [...series.map((s) => s.label), `teacher ${(level * 100).toFixed(1)}%`],
          data: [...data, data[0].map(() => level)] as typeof data,
          faint: [...series.map(() => false), true],
        };
      }),
    // version changes whenever the book gains rows
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [book, version],
  );


  const act = async (what: 'runs.pause' | 'runs.resume' | 'runs.cancel') => {
    setActionError(null);
    try {
      const r: RunRecord = await client.call(what, { id });
      got.setData((prev) => (prev ? { ...prev, run: r } : prev));
    } catch (err) {
      setActionError(errorText(err));
    }
  };

  if (got.error && !run) {
    return (
      <div className="page">
        <ErrorNote error={got.error} />
        <a href={href('runs')}>All runs</a>
      </div>
    );
  }
  if (!run || !got.data) return <div className="page muted">loading…</div>;

  const lastStep = book?.maxStep ?? 0;
  const hasReference = !!run.config.teacher || (run.config.peers?.length ?? 0) > 0;
  const done = Math.max(run.epochsDone, book?.maxEpoch ?? 0);
  const progress = run.config.epochs ? Math.min(1, Math.max(done / run.config.epochs, 0)) : 0;
  const eta = got.data.etaSeconds;
  return (
    <div className="page" data-testid="run-view" data-run-id={run.id} data-status={run.status}>
      <header className="page-head">
        <h1>
          {run.name} <StatusBadge status={run.status} />
        </h1>
        <div className="actions">
          {run.status === 'running' && (
            <button onClick={() => void act('runs.pause')} data-testid="pause">
              Pause
            </button>
          )}
          {RESUMABLE.has(run.status) && (
            <button onClick={() => void act('runs.resume')} data-testid="resume">
              Resume
            </button>
          )}
          {live && (
            <button className="danger" onClick={() => void act('runs.cancel')} data-testid="cancel">
              Cancel
            </button>
          )}
          <button onClick={() => navigate('compare', { ids: [run.id] })}>Compare…</button>
          {run.teacherId !== null && <button onClick={() => navigate('agreement', { run: run.id })}>Teacher vs student</button>}
          {run.status === 'completed' && (
            <button onClick={() => navigate('export', { run: run.id })} data-testid="to-export">
              Export
            </button>
          )}
        </div>
      </header>
      <ErrorNote error={actionError} />
      {run.status === 'failed' && <ErrorNote error={`The run failed: ${run.error ?? 'no message'}`} testId="run-error" />}
      {run.status === 'stalled' && (
        <ErrorNote error={`The watchdog stopped this run — ${run.error ?? "no progress"}. Resume continues from the last checkpoint.`} testId="run-stalled" />
      )}
      {run.status === 'interrupted' && (
        <ErrorNote error="The trainer process is gone (killed, crashed or the machine restarted). Resume continues from the last checkpoint." testId="run-interrupted" />
      )}

      <div className="summary-strip">
        <div className="stat">
          <div className="stat-v">{run.method}</div>
          <div className="stat-l">method</div>
        </div>
        <div className="stat">
          <div className="stat-v">{studentLabel(run.config.student)}</div>
          <div className="stat-l">
            student · {run.config.student.inputSize}px · {compact(run.params)} params
          </div>
        </div>
        <div className="stat">
          <div className="stat-v" data-testid="epochs-done">
            {run.epochsDone}/{run.config.epochs}
          </div>
          <div className="stat-l">epochs</div>
        </div>
        <div className="stat">
          <div className="stat-v" data-testid="best-val">
            {pct(run.bestValAccuracy)}
          </div>
          <div className="stat-l">best val (last {pct(run.lastValAccuracy)})</div>
        </div>
        <div className="stat">
          <div className="stat-v">{num(run.imgPerSec, 0)}</div>
          <div className="stat-l">img/s</div>
        </div>
        <div className="stat">
          <div className="stat-v" data-testid="eta">
            {live ? duration(eta) : duration(run.wallSeconds)}
          </div>
          <div className="stat-l">{live ? 'ETA' : 'wall time'}</div>
        </div>
      </div>
      {live && <ProgressBar value={progress} label={`epoch ${run.epochsDone} of ${run.config.epochs} · step ${lastStep}`} testId="run-progress" />}
      {run.flags.length > 0 && <Flags flags={run.flags} />}

      <div className="charts" data-testid="run-charts">
        {charts.filter((c) => c.kind !== 'divergence' || c.labels.length > 0 || hasReference).map((c) => (
          <TimeChart
            key={c.kind}
            title={CHART_TITLES[c.kind]}
            labels={c.labels}
            data={c.data}
            percent={c.kind === 'accuracy'}
            faint={c.faint}
            testId={`chart-${c.kind}`}
            empty={EMPTY[c.kind]}
          />
        ))}
      </div>

      <div className="two-col">
        <section className="card">
          <h2>Compute backend</h2>
          <BackendPanel backend={run.backend} />
        </section>
        <section className="card">
          <h2>Checkpoints</h2>
          {got.data.checkpoints.length === 0 ? (
            <div className="muted small">A checkpoint is written at the end of each epoch; a cancelled or crashed run resumes from the last one.</div>
          ) : (
            <table className="table" data-testid="checkpoints">
              <thead>
                <tr>
                  <th className="num">after epoch</th>
                  <th className="num">step</th>
                  <th className="num">val acc</th>
                  <th>folder</th>
                  <th>written</th>
                </tr>
              </thead>
              <tbody>
                {got.data.checkpoints.map((c) => (
                  <tr key={c.id}>
                    {/* stored 0-based (the folder is ckpt-epoch-<epoch+1>) */}
                    <td className="num">{c.epoch + 1}</td>
                    <td className="num">{c.step}</td>
                    <td className="num">{pct(c.valAccuracy)}</td>
                    <td className="mono small" title={c.dir}>
                      {c.dir}
                    </td>
                    <td className="small muted">{when(c.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      {run.status === 'completed' && <RunExports id={id} />}
      <details className="card">
        <summary>Run config</summary>
        <pre className="config" data-testid="run-config">
          {JSON.stringify(run.config, null, 2)}
        </pre>
      </details>
      {!live && book && book.series().length === 0 && (
        <EmptyState title="No metrics were logged">This run stopped before its first step{run.error ? `: ${run.error}` : ''}.</EmptyState>
      )}
    </div>
  );
}

/** The folders written from this run's student (Export page), with what their runtime measured. */
function RunExports({ id }: { id: number }) {
  const got = useCall('runs.exports', { id });
  return (
    <section className="card" data-testid="run-exports">
      <h2>
        Exports <a className="small" href={href('export', { run: id })}>export for a phone or the web →</a>
      </h2>
      <ExportList exports={got.data?.exports ?? []} />
    </section>
  );
}

/** Warnings the trainer raised (e.g. a loss stuck at ln C); repeats of one kind fold into one line. */
function Flags({ flags }: { flags: string[] }) {
  const [open, setOpen] = useState(false);
  const shown = open ? flags : flags.slice(0, 3);
  return (
    <ul className="flags" data-testid="run-flags">
      {shown.map((f, i) => (
        <li key={i} data-testid="run-flag">
          ⚠ {f}
        </li>
      ))}
      {flags.length > 3 && (
        <li>
          <button className="link" onClick={() => setOpen((o) => !o)}>
            {open ? 'show fewer' : `${flags.length - 3} more…`}
          </button>
        </li>
      )}
    </ul>
  );
}
