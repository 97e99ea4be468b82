// A uPlot line chart that follows its container's width. Recreated only when the set of series
// changes; new points go through setData so a growing run redraws cheaply.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d', '#9333ea'];

interface Props {
  title: string;
  labels: string[];
  data: [number[], ...Array<Array<number | null>>];
  xLabel?: string;
  height?: number;
  percent?: boolean;
  logY?: boolean;
  colors?: string[];
  /** Dashed series (e.g. the raw curve under a smoothed one). */
  faint?: boolean[];
  testId?: string;
  empty?: string;
  /** A compact legend of our own instead of uPlot's (e.g. one entry per run when raw+smoothed are drawn). */
  legend?: Array<{ label: string; color: string }>;
}

export function TimeChart({ title, labels, data, xLabel = 'step', height = 200, percent, logY, colors, faint, testId, empty, legend }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = JSON.stringify([labels, percent, logY, colors, faint, xLabel, height, !!legend]);
  const points = data[0].length;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmtY = (v: number) => (percent ? `${(v * 100).toFixed(0)}%` : Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(+v.toPrecision(3)));
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: !legend, live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, y: logY ? { distr: 3 } : { auto: true } },
      axes: [
        { label: xLabel, size: 36, labelSize: 14, stroke: '#64748b', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e8f0' } },
        {
          // Wide enough for the longest tick label ("0.0015"), so nothing is clipped.
          size: (_u, values) => 20 + 8 * Math.max(3, ...(values ?? []).map((v) => String(v).length)),
          stroke: '#64748b', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e8f0' }, values: (_u, vals) => vals.map((v) => (v === null ? '' : fmtY(v))) },
      ],
      series: [
        { label: xLabel },
        ...labels.map((label, i) => {
          const color = (colors ?? PALETTE)[i % (colors ?? PALETTE).length]!;
          return {
            label,
            stroke: faint?.[i] ? `${color}55` : color,
            width: faint?.[i] ? 1 : 1.6,
            spanGaps: true,
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : percent ? `${(v * 100).toFixed(2)}%` : String(+v.toPrecision(4))),
          } satisfies uPlot.Series;
        }),
      ],
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // data is applied by the next effect; recreating on every point would be wasteful
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <div className="chart" data-testid={testId} data-points={points}>
      <div className="chart-title">{title}</div>
      <div ref={box} className="chart-box" />
      {legend && (
        <div className="chart-legend">
          {legend.map((l) => (
            <span key={l.label}>
              <i style={{ background: l.color }} />
              {l.label}
            </span>
          ))}
        </div>
      )}
      {points === 0 && <div className="chart-empty">{empty ?? 'No values yet.'}</div>}
    </div>
  );
}
