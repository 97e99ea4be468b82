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

/** As many decimals as the tick spacing needs (uPlot's default rounds 0.0015 and 0.002 alike). */
export function tickLabels(splits: number[], incr: number, percent: boolean): string[] {
  const scale = percent ? 100 : 1;
  const step = Math.abs(incr * scale) || 1;
  const decimals = Math.min(8, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return splits.map((v) => {
    if (v === null || v === undefined) return '';
    const x = v * scale;
    if (!percent && Math.abs(x) >= 10_000) return `${+(x / 1000).toFixed(1)}k`;
    return `${x.toFixed(decimals)}${percent ? '%' : ''}`;
  });
}

export function TimeChart({ title, labels, data, xLabel = 'step', height = 200, percent, logY, colors, faint, testId, empty, legend }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = JSON.stringify([labels, percent, logY, colors, faint, xLabel, height, !!legend]);
  const points = data[0].length;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
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
          values: (_u: uPlot, splits: number[], _axis: number, _space: number, incr: number) => tickLabels(splits, incr, !!percent),
          stroke: '#64748b', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e8f0' } },
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
