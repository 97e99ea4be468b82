import type { JobInfo } from '../../shared/api.js';
import { useJob } from '../job.js';
import { ProgressBar } from './ProgressBar.js';

/** A progress bar for one job; calls onFinish once when it stops running. */
export function JobProgress({ jobId, onFinish, testId }: { jobId: string; onFinish?: (job: JobInfo) => void; testId?: string }) {
  const job = useJob(jobId, onFinish);
  const status = job?.status ?? 'running';
  const head = job ? (job.status === 'running' ? `${Math.round(job.progress * 100)}%` : job.status) : '';
  const label = job ? (job.message && job.message !== head ? `${head} · ${job.message}` : head) : 'starting…';
  return (
    <div className="job" data-testid={testId ?? 'job-progress'} data-status={status}>
      <ProgressBar value={status === 'done' ? 1 : (job?.progress ?? 0)} label={label} status={status} />
    </div>
  );
}
