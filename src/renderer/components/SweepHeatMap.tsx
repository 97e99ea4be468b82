// A canvas heat map of val accuracy over two swept fields: one cell per run, its accuracy written in.
import { useEffect, useRef } from 'react';
import { heatColor, type SweepHeat } from '../lib/sweep-view.js';

const CELL_W = 88;
const CELL_H = 40;
const LEFT = 64;
const TOP = 44;

export function SweepHeatMap({ heat, best }: { heat: SweepHeat; best: { row: number; col: number } | null }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const width = LEFT + CELL_W * heat.cols.length + 8;
  const height = TOP + CELL_H * heat.rows.length + 8;

  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr;
    canvas.height = height * dpr;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, width, height);
    g.font = '12px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.textAlign = 'center';
    g.fillStyle = '#475569';
    g.fillText(heat.colLabel, LEFT + (CELL_W * heat.cols.length) / 2, 10);
    heat.cols.forEach((c, j) => g.fillText(c, LEFT + CELL_W * j + CELL_W / 2, TOP - 12));
    g.textAlign = 'right';
    g.fillText(heat.rowLabel, LEFT - 36, TOP - 12);
    heat.rows.forEach((r, i) => g.fillText(r, LEFT - 8, TOP + CELL_H * i + CELL_H / 2));
    g.textAlign = 'center';
    heat.cells.forEach((row, i) =>
      row.forEach((v, j) => {
        const x = LEFT + CELL_W * j;
        const y = TOP + CELL_H * i;
        g.fillStyle = heatColor(v, heat.min, heat.max);
        g.fillRect(x + 1, y + 1, CELL_W - 2, CELL_H - 2);
        const dark = v !== null && heat.max !== null && heat.min !== null && (heat.max === heat.min || (v - heat.min) / (heat.max - heat.min) > 0.5);
        g.fillStyle = dark ? '#ffffff' : '#0f172a';
        g.fillText(v === null ? '—' : `${(v * 100).toFixed(1)}%`, x + CELL_W / 2, y + CELL_H / 2);
        if (best && best.row === i && best.col === j) {
          g.strokeStyle = '#f59e0b';
          g.lineWidth = 3;
          g.strokeRect(x + 2.5, y + 2.5, CELL_W - 5, CELL_H - 5);
        }
      }),
    );
  }, [heat, best, width, height]);

  return <canvas ref={ref} style={{ width, height }} data-testid="sweep-heatmap" aria-label={`val accuracy over ${heat.rowLabel} × ${heat.colLabel}`} />;
}
