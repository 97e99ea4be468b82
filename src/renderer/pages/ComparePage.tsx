// Compare: overlaid curves with TensorBoard-style EMA smoothing, the config diff, a metrics table,
// and confusion matrices side by side (a cell opens those images in the Browser).
import { useMemo, useState } from 'react';
import type { Confusion, RunRecord } from '../../shared/domain.js';
import { useCall, useEvent } from '../api-context.js';
import { ConfusionMatrix } from '../components/ConfusionMatrix.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { PALETTE, TimeChart } from '../components/TimeChart.js';
import { emaSmooth } from '../lib/ema.js';
import { compact, duration, num, pct } from '../lib/format.js';
import { align, chartKind } from '../lib/series.js';
import { href, navigate } from '../router.js';
import { useRunMetrics } from '../run-metrics.js';
import { SweepView } from './SweepView.js';

function parseIds(params: URLSearchParams): number[] {
  return [...new Set((params.get('ids') ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0))];
}

export function ComparePage({ params }: { params: URLSearchParams }) {
  const sweep = Number(params.get('sweep'));
  if (Number.isInteger(sweep) && sweep > 0) return <SweepView key={sweep} id={sweep} />;
  const ids = parseIds(params);
  if (ids.length < 2) return <ComparePicker initial={ids} />;
  return <CompareView key={ids.join(',')} ids={ids} />;
}

function ComparePicker({ initial }: { initial: number[] }) {
  const runs = useCall('runs.list', {});
  const sweeps = useCall('sweeps.list', {});
  const [picked, setPicked] = useState<number[]>(initial);
  const list = [...(runs.data ?? [])].sort((a, b) => b.id - a.id);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Compare</h1>
        <div className="sub">Pick two or more runs, or a sweep.</div>
      </header>
      {sweeps.data && sweeps.data.length > 0 ? (
        <section className="card">
          <h2>Sweeps</h2>
          <ul className="pick-list" data-testid="sweep-picker">
            {[...sweeps.data].reverse().map((s) => (
              <li key={s.id}>
                <a href={href('compare', { sweep: s.id })}>
                  #{s.id} <b>{s.name}</b>
                </a>{' '}
                <span className="muted">
                  {s.baseConfig.method} · {s.grid.map((a) => a.path).join(' × ')} · {s.status}
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {runs.data && list.length < 2 ? (
        <EmptyState title="Comparing needs at least two runs">
          Start runs on the <a href="#/new-run">New run</a> page — e.g. a <b>ce</b> baseline and an <b>ssld</b> run on the same dataset.
        </EmptyState>
      ) : (
        <section className="card">
          <ul className="pick-list" data-testid="compare-picker">
            {list.map((r) => (
              <li key={r.id}>
                <label className="inline">
                  <input type="checkbox" checked={picked.includes(r.id)} onChange={(e) => setPicked((p) => (e.target.checked ? [...p, r.id] : p.filter((x) => x !== r.id)))} />#{r.id}{' '}
                  <b>{r.name}</b> <span className="muted">{r.method}</span> <StatusBadge status={r.status} /> <span className="muted">best {pct(r.bestValAccuracy)}</span>
                </label>
              </li>
            ))}
          </ul>
          <button className="primary" disabled={picked.length < 2 || picked.length > 8} onClick={() => navigate('compare', { ids: picked })}>
            Compare {picked.length} runs
          </button>
        </section>
      )}
    </div>
  );
}

function CompareView({ ids }: { ids: number[] }) {
  const cmp = useCall('runs.compare', { ids });
  const [smoothing, setSmoothing] = useState(0.6);
  const [diffOnly, setDiffOnly] = useState(true);
  const runs = cmp.data?.runs ?? [];
  const live = runs.some((r) => r.status === 'running' || r.status === 'queued' || r.status === 'paused');
  useEvent('run.status', (r) => {
    if (ids.includes(r.id)) cmp.setData((prev) => (prev ? { ...prev, runs: prev.runs.map((x) => (x.id === r.id ? r : x)) } : prev));
  });
  const { books, version } = useRunMetrics(ids, live);

  // One chart per metric name, each run one colour; smoothing for per-step curves only.
  const charts = useMemo(() => {
    const names = new Set<string>();
    for (const id of ids) for (const s of books.get(id)?.series() ?? []) names.add(s.label);
    const order = (n: string) => ['accuracy', 'loss', 'divergence', 'lr', 'speed'].indexOf(chartKind({ name: n, scope: 'epoch' }));
    return [...names]
      .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
      .map((name) => {
        const perRun = ids.map((id) => books.get(id)?.series().find((s) => s.label === name));
        // Per-epoch values are few and already averages: smoothing them would only lag.
        const kind = chartKind({ name, scope: 'step' });
        const smooth = smoothing > 0 && (kind === 'loss' || kind === 'speed') && perRun.some((s) => s?.scope === 'step');
        const series: Array<{ x: number[]; y: Array<number | null> }> = [];
        const labels: string[] = [];
        const colors: string[] = [];
        const faint: boolean[] = [];
        const legend: Array<{ label: string; color: string }> = [];
        perRun.forEach((s, i) => {
          if (!s || s.x.length === 0) return;
          const run = runs.find((r) => r.id === ids[i]);
          const color = PALETTE[i % PALETTE.length]!;
          const label = run ? `#${run.id} ${run.name}` : `#${ids[i]}`;
          legend.push({ label, color });
          const { x, y } = s;
          if (smooth) {
            series.push({ x, y });
            labels.push(`${label} (raw)`);
            colors.push(color);
            faint.push(true);
            series.push({ x, y: emaSmooth(y, smoothing) });
          } else series.push({ x, y });
          labels.push(label);
          colors.push(color);
          faint.push(false);
        });
        return { name, labels, colors, faint, legend, data: align(series) };
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [books, version, smoothing, runs, ids.join(',')]);

  if (cmp.error) {
    return (
      <div className="page">
        <header className="page-head">
          <h1>Compare</h1>
        </header>
        <ErrorNote error={cmp.error} />
        <a href={href('compare')}>Pick other runs</a>
      </div>
    );
  }
  if (!cmp.data) return <div className="page muted">loading…</div>;

  const best = Math.max(...runs.map((r) => r.bestValAccuracy ?? -1));
  const diff = cmp.data.configDiff.filter((d) => !diffOnly || d.differs);
  return (
    <div className="page" data-testid="compare-view">
      <header className="page-head">
        <h1>Compare {runs.length} runs</h1>
        <div className="actions">
          <a className="button" href={href('compare')}>
            Change runs
          </a>
        </div>
      </header>

      <section className="card flush">
        <table className="table" data-testid="compare-metrics">
          <thead>
            <tr>
              <th />
              <th>run</th>
              <th>status</th>
              <th>method</th>
              <th className="num">best val acc</th>
              <th className="num">wall time</th>
              <th className="num">params</th>
              <th className="num">img/s</th>
              <th>backend</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r, i) => (
              <tr key={r.id} data-testid="compare-row" data-run-id={r.id}>
                <td>
                  <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
                </td>
                <td>
                  <a href={href('run', { id: r.id })}>
                    #{r.id} {r.name}
                  </a>
                </td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>{r.method}</td>
                <td className={`num${r.bestValAccuracy !== null && r.bestValAccuracy === best ? ' best' : ''}`}>{pct(r.bestValAccuracy)}</td>
                <td className="num">{duration(r.wallSeconds)}</td>
                <td className="num">{compact(r.params)}</td>
                <td className="num">{num(r.imgPerSec, 0)}</td>
                <td>{r.backend ? `${r.backend.active} · ${r.backend.threads}t` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card">
        <div className="card-head">
          <h2>Curves</h2>
          <label className="inline smoothing">
            Smoothing
            <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} data-testid="smoothing" />
            <span className="mono">{smoothing.toFixed(2)}</span>
          </label>
        </div>
        {charts.length === 0 ? (
          <div className="muted small">These runs have not logged any metrics yet.</div>
        ) : (
          <div className="charts" data-testid="compare-charts">
            {charts.map((c) => (
              <TimeChart key={c.name} title={c.name} labels={c.labels} colors={c.colors} faint={c.faint} legend={c.legend} data={c.data} percent={/acc/i.test(c.name)} testId="compare-chart" />
            ))}
          </div>
        )}
      </section>

      <section className="card">
        <div className="card-head">
          <h2>Confusion matrices (val)</h2>
        </div>
        <div className="side-by-side">
          {runs.map((r, i) => (
            <ConfusionFor key={r.id} run={r} confusion={cmp.data!.confusions[i] ?? null} />
          ))}
        </div>
      </section>

      <section className="card">
        <div className="card-head">
          <h2>Config</h2>
          <label className="inline">
            <input type="checkbox" checked={diffOnly} onChange={(e) => setDiffOnly(e.target.checked)} data-testid="diff-only" /> differences only
          </label>
        </div>
        <table className="table config-diff" data-testid="config-diff">
          <thead>
            <tr>
              <th>setting</th>
              {runs.map((r) => (
                <th key={r.id}>#{r.id}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {diff.length === 0 && (
              <tr>
                <td colSpan={runs.length + 1} className="muted">
                  The configs are identical.
                </td>
              </tr>
            )}
            {diff.map((d) => (
              <tr key={d.path} className={d.differs ? 'differs' : ''} data-testid="diff-row" data-differs={d.differs}>
                <td className="mono">{d.path}</td>
                {d.values.map((v, i) => (
                  <td key={i} className="mono">
                    {v === undefined ? <span className="muted">—</span> : typeof v === 'string' ? v : JSON.stringify(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function ConfusionFor({ run, confusion }: { run: RunRecord; confusion: Confusion | null }) {
  return (
    <div className="confusion-block" data-testid="confusion-block" data-run-id={run.id}>
      <div className="confusion-title">
        #{run.id} {run.name}
      </div>
      {confusion ? (
        <>
          <ConfusionMatrix
            confusion={confusion}
            testId="confusion"
            onCell={(t, p) => navigate('browser', { dataset: run.datasetId, role: 'val', run: run.id, trueLabel: t, predictedLabel: p })}
          />
          <button
            className="small-btn"
            data-testid="confident-mistakes"
            onClick={() => navigate('browser', { dataset: run.datasetId, role: 'val', run: run.id, mistakes: 1, sort: 'confidence-desc' })}
          >
            Most confident mistakes
          </button>
        </>
      ) : (
        <div className="muted small">No validation results yet{run.status === 'running' ? ' (after the first epoch)' : ''}.</div>
      )}
    </div>
  );
}
