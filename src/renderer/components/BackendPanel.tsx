// Which compute backend runs, with how many threads, and why each better one is not in use.
import type { BackendReport } from '../../shared/domain.js';

export function BackendPanel({ backend }: { backend: BackendReport | null }) {
  if (!backend) return <div className="muted small">Backend is chosen when the run starts.</div>;
  return (
    <div className="backend" data-testid="backend-panel">
      <div>
        <b data-testid="backend-active">{backend.active}</b> · {backend.threads} thread{backend.threads === 1 ? '' : 's'}
        {backend.simd !== null && <> · SIMD {backend.simd ? 'on' : 'off'}</>}
        {backend.relaxedSimd && <span title={backend.relaxedSimd.reason}> · FMA {backend.relaxedSimd.on ? 'on' : 'off'}</span>}
        {backend.forcedBy && <> · forced by {backend.forcedBy}</>}
      </div>
      <ul className="candidates">
        {backend.candidates.map((c) => (
          <li key={c.name} className={c.name === backend.active ? 'active' : c.available ? 'ok' : 'no'}>
            <span className="cand-name">{c.name}</span>
            <span className="cand-why">{c.name === backend.active ? 'in use' : c.available ? 'available' : (c.reason ?? 'unavailable')}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
