// matrix[true][predicted] as a heat table; a cell click drills down to those images.
import type { Confusion } from '../../shared/domain.js';

export function ConfusionMatrix({ confusion, onCell, testId }: { confusion: Confusion; onCell?: (trueLabel: string, predicted: string) => void; testId?: string }) {
  const rowTotals = confusion.matrix.map((r) => r.reduce((a, b) => a + b, 0));
  const total = rowTotals.reduce((a, b) => a + b, 0);
  const correct = confusion.matrix.reduce((a, r, i) => a + (r[i] ?? 0), 0);
  return (
    <div className="confusion" data-testid={testId}>
      <table>
        <thead>
          <tr>
            <th className="corner">true ↓ / pred →</th>
            {confusion.classes.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {confusion.matrix.map((row, i) => (
            <tr key={confusion.classes[i]}>
              <th>{confusion.classes[i]}</th>
              {row.map((n, j) => {
                const share = rowTotals[i] ? n / rowTotals[i]! : 0;
                const diag = i === j;
                const bg = diag ? `rgba(5,150,105,${0.08 + share * 0.6})` : `rgba(220,38,38,${n ? 0.08 + share * 0.7 : 0})`;
                return (
                  <td key={j} style={{ background: bg }} className={onCell && n > 0 ? 'clickable' : ''}>
                    <button
                      disabled={!onCell || n === 0}
                      data-testid="confusion-cell"
                      data-true={confusion.classes[i]}
                      data-pred={confusion.classes[j]}
                      data-count={n}
                      onClick={() => onCell?.(confusion.classes[i]!, confusion.classes[j]!)}
                      title={`${n} images: true ${confusion.classes[i]}, predicted ${confusion.classes[j]}`}
                    >
                      {n}
                      <span className="share">{(share * 100).toFixed(0)}%</span>
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="small muted">
        {correct}/{total} correct ({total ? ((correct / total) * 100).toFixed(1) : '—'}%)
      </div>
    </div>
  );
}
