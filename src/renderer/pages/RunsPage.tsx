// Runs: the registry, newest first; pick two or more to compare.
import { useState } from 'react';
import { useCall, useEvent } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { compact, duration, num, pct, when } from '../lib/format.js';
import { href, navigate } from '../router.js';
import { studentLabel } from '../../shared/run-config.js';

export function RunsPage() {
  const runs = useCall('runs.list', {});
  const datasets = useCall('datasets.list', {});
  const [picked, setPicked] = useState<number[]>([]);
  useEvent('run.status', (r) => runs.setData((list) => (list?.some((x) => x.id === r.id) ? list.map((x) => (x.id === r.id ? r : x)) : list ? [r, ...list] : list)));
  const list = [...(runs.data ?? [])].sort((a, b) => b.id - a.id);
  const dsName = (id: number) => datasets.data?.find((d) => d.id === id)?.name ?? `#${id}`;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Runs</h1>
        <div className="actions">
          <button disabled={picked.length < 2} onClick={() => navigate('compare', { ids: picked })} data-testid="compare-selected">
            Compare {picked.length >= 2 ? picked.length : ''} selected
          </button>
          <a className="button primary" href={href('new-run')}>
            New run
          </a>
        </div>
      </header>
      <ErrorNote error={runs.error} />
      {runs.data && list.length === 0 && (
        <EmptyState title="No runs yet">
          Start one on the <a href="#/new-run">New run</a> page: a <b>ce</b> baseline needs only labeled images; <b>ssld</b> and <b>kd</b> need a teacher.
        </EmptyState>
      )}
      {list.length > 0 && (
        <section className="card flush">
          <table className="table" data-testid="run-list">
            <thead>
              <tr>
                <th />
                <th>#</th>
                <th>name</th>
                <th>status</th>
                <th>method</th>
                <th>dataset</th>
                <th>student</th>
                <th className="num">epochs</th>
                <th className="num">best val</th>
                <th className="num">img/s</th>
                <th className="num">params</th>
                <th>backend</th>
                <th className="num">wall</th>
                <th>created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} data-testid="run-row" data-run-id={r.id} data-status={r.status}>
                  <td>
                    <input
                      type="checkbox"
                      checked={picked.includes(r.id)}
                      data-testid="pick-run"
                      onChange={(e) => setPicked((p) => (e.target.checked ? [...p, r.id] : p.filter((x) => x !== r.id)))}
                    />
                  </td>
                  <td>{r.id}</td>
                  <td>
                    <a href={href('run', { id: r.id })} data-testid="run-link">
                      {r.name}
                    </a>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.method}</td>
                  <td>{dsName(r.datasetId)}</td>
                  <td>
                    {studentLabel(r.config.student)} · {r.config.student.inputSize}px
                  </td>
                  <td className="num">
                    {r.epochsDone}/{r.config.epochs}
                  </td>
                  <td className="num">{pct(r.bestValAccuracy)}</td>
                  <td className="num">{num(r.imgPerSec, 0)}</td>
                  <td className="num">{compact(r.params)}</td>
                  <td>{r.backend?.active ?? '—'}</td>
                  <td className="num">{duration(r.wallSeconds)}</td>
                  <td className="small muted">{when(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
