// Navigation, connection state, the compute backend and running jobs.
import { useState } from 'react';
import type { JobInfo } from '../../shared/api.js';
import { useCall, useConnection, useEvent } from '../api-context.js';
import { href, type Page } from '../router.js';

const NAV: Array<{ page: Page; label: string; icon: string; also?: Page[] }> = [
  { page: 'datasets', label: 'Datasets', icon: '▤' },
  { page: 'browser', label: 'Browser', icon: '▦' },
  { page: 'teachers', label: 'Teachers', icon: '◆' },
  { page: 'new-run', label: 'New run', icon: '+' },
  { page: 'runs', label: 'Runs', icon: '▶', also: ['run'] },
  { page: 'compare', label: 'Compare', icon: '≋' },
  { page: 'agreement', label: 'Teacher vs student', icon: '⇄' },
  { page: 'export', label: 'Export', icon: '⇪' },
];

export function Sidebar({ page }: { page: Page }) {
  const conn = useConnection();
  const info = useCall('app.info', {});
  const jobsCall = useCall('jobs.list', {});
  const [live, setLive] = useState<Record<string, JobInfo>>({});
  useEvent('job.progress', (j) => setLive((m) => ({ ...m, [j.id]: j })));
  const jobs = new Map<string, JobInfo>();
  for (const j of jobsCall.data ?? []) jobs.set(j.id, j);
  for (const j of Object.values(live)) jobs.set(j.id, j);
  const running = [...jobs.values()].filter((j) => j.status === 'running');

  return (
    <nav className="sidebar" data-testid="sidebar">
      <div className="brand">
        <span className="brand-mark">◐</span> Distill Studio
      </div>
      <ul className="nav">
        {NAV.map((n) => (
          <li key={n.page}>
            <a href={href(n.page)} className={page === n.page || n.also?.includes(page) ? 'active' : ''} data-testid={`nav-${n.page}`}>
              <span className="nav-icon">{n.icon}</span>
              {n.label}
            </a>
          </li>
        ))}
      </ul>
      <div className="side-foot">
        {running.length > 0 && (
          <div className="side-jobs" data-testid="side-jobs">
            {running.slice(0, 4).map((j) => (
              <div key={j.id} className="side-job" title={j.message}>
                <div className="side-job-name">
                  {j.kind} · {Math.round(j.progress * 100)}%
                </div>
                <div className="side-job-bar">
                  <span style={{ width: `${j.progress * 100}%` }} />
                </div>
              </div>
            ))}
          </div>
        )}
        <div className={`conn conn-${conn}`} data-testid="connection" data-state={conn}>
          <span className="dot" /> {conn === 'open' ? 'connected' : conn === 'connecting' ? 'connecting…' : 'offline — retrying'}
        </div>
        {info.data && (
          <div className="side-backend" title={info.data.backend.candidates.map((c) => `${c.name}: ${c.available ? 'available' : c.reason ?? 'unavailable'}`).join('\n')}>
            backend <b>{info.data.backend.active}</b> · {info.data.backend.threads}t<br />v{info.data.version}
          </div>
        )}
      </div>
    </nav>
  );
}
