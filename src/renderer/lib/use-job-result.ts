// A panel that starts one background job and shows its typed result: the job's id for JobOutcome,
// the error (of starting it, of the job, or of a result that does not match its schema), the result.
import { useCallback, useState } from 'react';
import type { z } from 'zod';
import type { JobInfo } from '../../shared/api.js';
import { errorText } from './format.js';

export function useJobResult<S extends z.ZodType>(schema: S) {
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<z.infer<S> | null>(null);
  const start = useCallback(async (call: () => Promise<{ id: string }>) => {
    setError(null);
    setResult(null);
    try {
      setJobId((await call()).id);
    } catch (err) {
      setError(errorText(err));
    }
  }, []);
  const onFinish = useCallback(
    (j: JobInfo) => {
      if (j.status !== 'done') return setError(j.message);
      const parsed = schema.safeParse(j.result);
      if (parsed.success) setResult(parsed.data);
      else setError(`the job's result could not be read: ${errorText(parsed.error)}`);
    },
    [schema],
  );
  const reset = useCallback(() => {
    setJobId(null);
    setError(null);
    setResult(null);
  }, []);
  return { jobId, error, result, start, onFinish, reset };
}
