// Export: a finished run's student as TF.js, ONNX or TFLite, optionally quantized; the files and
// the largest output difference from the original model come back from the export job.
import { useState } from 'react';
import { z } from 'zod';
import type { JobInfo } from '../../shared/api.js';
import { useApi, useCall } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { JobOutcome } from '../components/JobOutcome.js';
import { RunPicker } from '../components/Pickers.js';
import { bytes, errorText } from '../lib/format.js';
import { navigate, numParam } from '../router.js';

const FORMATS = ['tfjs', 'onnx', 'tflite'] as const;
const QUANTIZE = ['none', 'float16', 'int8'] as const;

/** The export job's result (CLI `distill export --json`); files may be plain paths or {path, bytes}. */
const ExportResult = z.object({
  files: z.array(z.union([z.string(), z.object({ path: z.string(), bytes: z.number().optional() })])),
  bytes: z.number().optional(),
  maxAbsDiff: z.number().nullable().optional(),
  dir: z.string().optional(),
});

export function ExportPage({ params }: { params: URLSearchParams }) {
  const client = useApi();
  const runs = useCall('runs.list', {});
  const jobs = useCall('jobs.list', {});
  const completed = (runs.data ?? []).filter((r) => r.status === 'completed');
  const runId = numParam(params, 'run') ?? completed[completed.length - 1]?.id ?? null;
  const [format, setFormat] = useState<(typeof FORMATS)[number]>('tfjs');
  const [quantize, setQuantize] = useState<(typeof QUANTIZE)[number]>('none');
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<JobInfo | null>(null);

  const past = (jobs.data ?? []).filter((j) => j.kind === 'export' && j.status === 'done' && j.id !== result?.id).reverse();

  return (
    <div className="page">
      <header className="page-head">
        <h1>Export</h1>
        <div className="sub">The distilled student, ready for a phone or a browser; each export is checked against the original model.</div>
      </header>
      {runs.data && completed.length === 0 ? (
        <EmptyState title="Nothing to export yet">
          Finish a run first (<a href="#/new-run">New run</a>); its student can then be exported here.
        </EmptyState>
      ) : (
        <section className="card">
          <form
            className="form-grid"
            onSubmit={async (e) => {
              e.preventDefault();
              setError(null);
              setResult(null);
              if (runId === null) return setError('choose a run');
              try {
                setJobId((await client.call('runs.export', { id: runId, format, quantize })).id);
              } catch (err) {
                setError(errorText(err));
              }
            }}
          >
            <label className="form-field wide">
              <span className="form-label">run</span>
              <RunPicker value={runId} onChange={(id) => navigate('export', { run: id ?? undefined })} filter={(r) => r.status === 'completed'} testId="export-run" />
            </label>
            <label className="form-field">
              <span className="form-label">format</span>
              <select value={format} onChange={(e) => setFormat(e.target.value as (typeof FORMATS)[number])} data-testid="export-format">
                {FORMATS.map((f) => (
                  <option key={f}>{f}</option>
                ))}
              </select>
            </label>
            <label className="form-field">
              <span className="form-label">quantize</span>
              <select value={quantize} onChange={(e) => setQuantize(e.target.value as (typeof QUANTIZE)[number])} data-testid="export-quantize">
                {QUANTIZE.map((q) => (
                  <option key={q}>{q}</option>
                ))}
              </select>
            </label>
            <div className="form-field end">
              <button className="primary" type="submit" data-testid="export-start">
                Export
              </button>
            </div>
          </form>
          <JobOutcome
            jobId={jobId}
            error={error}
            testId="export-progress"
            onFinish={(j) => {
              if (j.status === 'done') setResult(j);
              else setError(j.message);
              jobs.reload();
            }}
          />
          {result && <ExportFiles job={result} />}
        </section>
      )}
      {past.length > 0 && (
        <section className="card">
          <h2>Earlier exports</h2>
          {past.map((j) => (
            <ExportFiles key={j.id} job={j} />
          ))}
        </section>
      )}
    </div>
  );
}

function ExportFiles({ job }: { job: JobInfo }) {
  const parsed = ExportResult.safeParse(job.result);
  if (!parsed.success) return <div className="muted small">{job.message}</div>;
  const r = parsed.data;
  return (
    <div className="export-result" data-testid="export-result">
      <div className="small">
        {job.message} · total {bytes(r.bytes)} · max |Δ| vs original{' '}
        <b data-testid="export-diff">{r.maxAbsDiff === null || r.maxAbsDiff === undefined ? '—' : r.maxAbsDiff === 0 ? '0 (identical)' : r.maxAbsDiff.toExponential(2)}</b>
      </div>
      <table className="table small">
        <tbody>
          {r.files.map((f) => {
            const path = typeof f === 'string' ? f : f.path;
            return (
              <tr key={path}>
                <td className="mono">{path}</td>
                <td className="num">{typeof f === 'string' ? '' : bytes(f.bytes)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
