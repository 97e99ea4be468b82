// What sits under a form that starts a background job: the error (of starting it, or the job's own),
// then the job's progress bar once there is a job. `key` restarts the bar for each new job.
import type { JobInfo } from '../../shared/api.js';
import { ErrorNote } from './ErrorNote.js';
import { JobProgress } from './JobProgress.js';

export function JobOutcome({
  jobId,
  error,
  testId,
  onFinish,
}: {
  jobId: string | null;
  error: string | null | undefined;
  testId: string;
  onFinish: (job: JobInfo) => void;
}) {
  return (
    <>
      <ErrorNote error={error} />
      {jobId && <JobProgress key={jobId} jobId={jobId} testId={testId} onFinish={onFinish} />}
    </>
  );
}
