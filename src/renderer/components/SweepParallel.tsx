// Parallel coordinates for a sweep over three or more fields: one vertical axis per field (its grid
// values evenly spaced) and a last one for val accuracy; each finished run is a line, the better
// runs darker, the best one drawn thick.
import type { SweepParallel as Data } from '../lib/sweep-view.js';
import { pct } from '../lib/format.js';

const W = 720;
const H = 260;
const PAD = { top: 24, bottom: 28, left: 60, right: 60 };

export function SweepParallel({ data, best }: { data: Data; best: number | null }) {
  const n = data.axes.length;
  const x = (i: number) => PAD.left + (i * (W - PAD.left - PAD.right)) / Math.max(1, n - 1);
  const y = (p: number) => PAD.top + (1 - p) * (H - PAD.top - PAD.bottom);
  const shade = (acc: number) => (data.max > data.min ? (acc - data.min) / (data.max - data.min) : 1);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="sweep-parallel" data-testid="sweep-parallel" data-lines={data.lines.length} role="img">
      {data.lines.map((l) => (
        <polyline
          key={l.run}
          points={l.positions.map((p, i) => `${x(i)},${y(p)}`).join(' ')}
          fill="none"
          stroke={`rgba(37, 99, 235, ${0.15 + 0.75 * shade(l.valAccuracy)})`}
          strokeWidth={l.run === best ? 3 : 1.5}
        >
          <title>{`run #${l.run}: ${pct(l.valAccuracy)}`}</title>
        </polyline>
      ))}
      {data.axes.map((a, i) => (
        <g key={a.label}>
          <line x1={x(i)} x2={x(i)} y1={y(0)} y2={y(1)} stroke="#94a3b8" />
          <text x={x(i)} y={H - 8} textAnchor="middle" fontSize="11" fill="#475569">
            {a.label}
          </text>
          {(i === n - 1 ? [pct(data.min), pct(data.max)] : a.ticks).map((t, j, all) => (
            <text key={j} x={x(i) + 5} y={y(all.length <= 1 ? 0.5 : j / (all.length - 1)) + 4} fontSize="10" fill="#64748b">
              {t}
            </text>
          ))}
        </g>
      ))}
    </svg>
  );
}
