// Follows a background job (import, teacher training, export…) by its events, with a slow poll as a
// safety net for a missed event or a reconnect.
import { useEffect, useRef, useState } from 'react';
import type { JobInfo } from '../shared/api.js';
import { useApi, useEvent } from './api-context.js';

export function useJob(jobId: string | null, onFinish?: (job: JobInfo) => void): JobInfo | null {
  const client = useApi();
  const [job, setJob] = useState<JobInfo | null>(null);
  const finished = useRef<string | null>(null);
  const finishRef = useRef(onFinish);
  finishRef.current = onFinish;

  const accept = (j: JobInfo) => {
    if (j.id !== jobId) return;
    setJob(j);
    if (j.status !== 'running' && finished.current !== j.id) {
      finished.current = j.id;
      finishRef.current?.(j);
    }
  };

  useEvent('job.progress', accept);

  useEffect(() => {
    setJob(null);
    if (!jobId) return;
    let stop = false;
    const poll = async () => {
      try {
        const j = await client.call('jobs.get', { id: jobId });
        if (!stop) accept(j);
        if (j.status !== 'running') return;
      } catch {
        /* transient: try again */
      }
      if (!stop) timer = setTimeout(poll, 1500);
    };
    let timer = setTimeout(poll, 300);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
    // accept closes over jobId only
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, jobId]);

  return job;
}
