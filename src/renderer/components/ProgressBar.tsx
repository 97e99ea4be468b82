export function ProgressBar({ value, label, testId, status }: { value: number; label?: string; testId?: string; status?: string }) {
  const v = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
  return (
    <div className={`progress ${status ?? ''}`} data-testid={testId} data-value={v.toFixed(3)} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(v * 100)}>
      <div className="progress-track">
        <div className="progress-fill" style={{ width: `${v * 100}%` }} />
      </div>
      {label !== undefined && <div className="progress-label">{label}</div>}
    </div>
  );
}
