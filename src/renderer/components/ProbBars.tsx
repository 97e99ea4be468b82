// One block of class-probability bars per source (teacher, student, peers).
interface Probs {
  source: string;
  classes: string[];
  probs: number[];
}

export function ProbBars({ sets, truth }: { sets: Probs[]; truth?: string | null }) {
  if (sets.length === 0) return <div className="muted small">No predictions for this image yet (train a teacher or finish a run).</div>;
  return (
    <div className="probsets" data-testid="prob-bars">
      {sets.map((s) => {
        const top = s.probs.reduce((best, p, i) => (p > (s.probs[best] ?? -1) ? i : best), 0);
        return (
          <div key={s.source} className="probset">
            <div className="probset-title">{s.source}</div>
            {s.classes.map((c, i) => {
              const p = s.probs[i] ?? 0;
              return (
                <div key={c} className={`probrow${i === top ? ' top' : ''}${truth === c ? ' truth' : ''}`}>
                  <span className="probrow-name" title={truth === c ? 'true class' : undefined}>
                    {c}
                  </span>
                  <span className="probrow-bar">
                    <span style={{ width: `${Math.max(0, Math.min(1, p)) * 100}%` }} />
                  </span>
                  <span className="probrow-val">{(p * 100).toFixed(1)}%</span>
                </div>
              );
            })}
          </div>
        );
      })}
    </div>
  );
}
