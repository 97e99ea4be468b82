// Compare on a sweep: every point with its values and val accuracy, the best configuration, and the
// swept values against val accuracy (a line for one field, a heat map for two).
import { useEffect, useMemo } from 'react';
import { useCall, useEvent } from '../api-context.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { SweepHeatMap } from '../components/SweepHeatMap.js';
import { TimeChart } from '../components/TimeChart.js';
import { pct } from '../lib/format.js';
import { sweepHeat, sweepLine, sweepParallel } from '../lib/sweep-view.js';
import { SweepParallel } from '../components/SweepParallel.js';
import { href } from '../router.js';
import { axisLabel, formatSweepValue } from '../../shared/sweep.js';

export function SweepView({ id }: { id: number }) {
  const detail = useCall('sweeps.get', { id });
  // Runs of a live sweep finish one by one: reload on each status change of one of them.
  useEvent('run.status', (r) => {
    if (detail.data?.runs.some((x) => x.run === r.id) || detail.data?.sweep.status === 'running') detail.reload();
  });
  const d = detail.data;
  // A sweep started from the command line has no events here: poll while it runs.
  const running = d?.sweep.status === 'running';
  const { reload } = detail;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(reload, 3000);
    return () => clearInterval(t);
  }, [running, reload]);
  const view = useMemo(() => {
    if (!d) return null;
    const grid = d.sweep.grid;
    if (grid.length === 1) return { kind: 'line' as const, line: sweepLine(grid, d.runs) };
    if (grid.length === 2) {
      const heat = sweepHeat(grid, d.runs);
      const b = d.best;
      const best = b
        ? {
            row: grid[0]!.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(b.values[grid[0]!.path])),
            col: grid[1]!.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(b.values[grid[1]!.path])),
          }
        : null;
      return { kind: 'heat' as const, heat, best };
    }
    return { kind: 'parallel' as const, parallel: sweepParallel(grid, d.runs) };
  }, [d]);

  if (detail.error) return <ErrorNote error={detail.error} />;
  if (!d) return <div className="page muted">loading…</div>;
  const { sweep, runs, best } = d;
  const paths = sweep.grid.map((a) => a.path);
  const ids = runs.map((r) => r.run);
  return (
    <div className="page" data-testid="sweep-view">
      <header className="page-head">
        <h1>
          Sweep #{sweep.id} {sweep.name}
        </h1>
        <div className="sub">
          {sweep.baseConfig.method} · {sweep.grid.map((a) => `${axisLabel(a.path)} ∈ {${a.values.map(formatSweepValue).join(', ')}}`).join(' × ')} ·{' '}
          {runs.length} of {sweep.grid.reduce((n, a) => n * a.values.length, 1)} runs · {sweep.status}
        </div>
        <div className="actions">
          {ids.length >= 2 && ids.length <= 8 ? (
            <a className="button" href={href('compare', { ids })}>
              Compare curves
            </a>
          ) : null}
        </div>
      </header>
      {sweep.error ? <ErrorNote error={sweep.error} /> : null}

      <section className="card" data-testid="sweep-best">
        <h2>Best configuration</h2>
        {best ? (
          <p>
            <a href={href('run', { id: best.run })}>
              #{best.run} {best.name}
            </a>{' '}
            — {Object.entries(best.values).map(([p, v]) => `${axisLabel(p)} = ${formatSweepValue(v)}`).join(', ')}: val accuracy <b>{pct(best.valAccuracy)}</b>
          </p>
        ) : (
          <p className="muted">No run has reported a val accuracy yet.</p>
        )}
      </section>

      <section className="card">
        <h2>Val accuracy over the swept values</h2>
        {view?.kind === 'line' ? (
          <TimeChart
            title={`val accuracy over ${view.line.label}${view.line.ticks.some((t, i) => t !== String(view.line.x[i])) ? ` (${view.line.ticks.map((t, i) => `${i}: ${t}`).join(', ')})` : ''}`}
            labels={['val accuracy']}
            data={[view.line.x, view.line.y]}
            xLabel={view.line.label}
            percent
            testId="sweep-line"
          />
        ) : view?.kind === 'heat' ? (
          <SweepHeatMap heat={view.heat} best={view.best} />
        ) : view?.kind === 'parallel' ? (
          <SweepParallel data={view.parallel} best={d.best?.run ?? null} />
        ) : null}
      </section>

      <section className="card flush">
        <table className="table" data-testid="sweep-table">
          <thead>
            <tr>
              <th>run</th>
              {paths.map((p) => (
                <th key={p} className="num">
                  {axisLabel(p)}
                </th>
              ))}
              <th>status</th>
              <th className="num">val acc</th>
              <th className="num">best val acc</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.run} data-testid="sweep-row">
                <td>
                  <a href={href('run', { id: r.run })}>
                    #{r.run} {r.name}
                  </a>
                </td>
                {paths.map((p) => (
                  <td key={p} className="num mono">
                    {formatSweepValue(r.values[p])}
                  </td>
                ))}
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className={`num${best && best.run === r.run ? ' best' : ''}`}>{pct(r.valAccuracy)}</td>
                <td className="num">{pct(r.bestValAccuracy)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
