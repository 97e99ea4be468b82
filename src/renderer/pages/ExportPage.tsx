// Export: a finished run's student for a phone or a browser. "Check all" measures every format ×
// quantization in its own runtime (size, val accuracy, agreement with the float student, ms/image);
// the user picks a row and "Export" writes that folder. The run's exports are listed below.
import { useState } from 'react';
import { EXPORT_FORMATS, EXPORT_QUANTIZATIONS, agreementFloor, type ExportRecord } from '../../shared/export-record.js';
import { useApi, useCall } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { JobOutcome } from '../components/JobOutcome.js';
import { RunPicker } from '../components/Pickers.js';
import { ExportList } from '../components/ExportList.js';
import { bytes, errorText, pct, when } from '../lib/format.js';
import { navigate, numParam } from '../router.js';

type Format = (typeof EXPORT_FORMATS)[number];
type Quantize = (typeof EXPORT_QUANTIZATIONS)[number];

const FORMAT_NOTE: Record<Format, string> = {
  tflite: 'Android (LiteRT)',
  onnx: 'iOS / Android (ONNX Runtime)',
  tfjs: 'web (TF.js)',
};

export function ExportPage({ params }: { params: URLSearchParams }) {
  const client = useApi();
  const runs = useCall('runs.list', {});
  const completed = (runs.data ?? []).filter((r) => r.status === 'completed');
  const runId = numParam(params, 'run') ?? completed[completed.length - 1]?.id ?? null;
  const measured = useCall('runs.exports', runId === null ? null : { id: runId });
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const start = async (call: () => Promise<{ id: string }>) => {
    setError(null);
    try {
      setJobId((await call()).id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const checks = measured.data?.checks ?? [];
  const cell = (f: Format, q: Quantize) => checks.find((c) => c.format === f && c.quantize === q);

  return (
    <div className="page">
      <header className="page-head">
        <h1>Export</h1>
        <div className="sub">
          The distilled student as a folder a phone or a browser loads: the model, <span className="mono">labels.txt</span> and{' '}
          <span className="mono">metadata.json</span>. Each file is run by its own runtime on the val images and compared with the student.
        </div>
      </header>
      {runs.data && completed.length === 0 ? (
        <EmptyState title="Nothing to export yet">
          Finish a run first (<a href="#/new-run">New run</a>); its student can then be exported here.
        </EmptyState>
      ) : (
        <>
          <section className="card">
            <div className="form-grid">
              <label className="form-field wide">
                <span className="form-label">run</span>
                <RunPicker value={runId} onChange={(id) => navigate('export', { run: id ?? undefined })} filter={(r) => r.status === 'completed'} testId="export-run" />
              </label>
              <div className="form-field end">
                <button
                  className="primary"
                  disabled={runId === null}
                  data-testid="export-check-all"
                  onClick={() => runId !== null && void start(() => client.call('runs.exportCheck', { id: runId }))}
                >
                  Check all formats
                </button>
              </div>
            </div>
            <JobOutcome
              jobId={jobId}
              error={error}
              testId="export-progress"
              onFinish={(j) => {
                if (j.status !== 'done') setError(j.message);
                measured.reload();
              }}
            />
            <table className="table export-table" data-testid="export-table">
              <thead>
                <tr>
                  <th>format</th>
                  <th>quantization</th>
                  <th className="num">size</th>
                  <th className="num">val accuracy</th>
                  <th className="num" title="share of val images where the file's top-1 class equals the float student's">agreement</th>
                  <th className="num">max |Δp|</th>
                  <th className="num">ms / image</th>
                  <th>checked</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {EXPORT_FORMATS.flatMap((f) =>
                  EXPORT_QUANTIZATIONS.map((q) => <ExportRow key={`${f}-${q}`} format={f} quantize={q} check={cell(f, q)} onExport={() => runId !== null && void start(() => client.call('runs.export', { id: runId, format: f, quantize: q }))} />),
                )}
              </tbody>
            </table>
            {checks.length === 0 && (
              <div className="muted small" data-testid="export-unchecked">
                Not measured yet: "Check all formats" writes each in a scratch folder and runs it on the val images (a minute or two for a small student).
              </div>
            )}
          </section>
          <section className="card">
            <h2>This run's exports</h2>
            <ExportList exports={measured.data?.exports ?? []} />
          </section>
        </>
      )}
    </div>
  );
}

function ExportRow({ format, quantize, check, onExport }: { format: Format; quantize: Quantize; check: ExportRecord | undefined; onExport: () => void }) {
  const low = check?.agreement != null && check.agreement < agreementFloor(quantize);
  return (
    <tr data-testid={`export-row-${format}-${quantize}`} className={low ? 'flagged' : undefined}>
      <td>
        {format} <span className="muted small">{FORMAT_NOTE[format]}</span>
      </td>
      <td>{quantize === 'none' ? 'float32' : quantize}</td>
      <td className="num">{bytes(check?.bytes)}</td>
      <td className="num">{pct(check?.accuracy)}</td>
      <td className={`num${low ? ' bad' : ''}`} title={check?.warning ?? undefined} data-testid="export-agreement">
        {pct(check?.agreement)}
        {low && ' ⚠'}
      </td>
      <td className="num">{check?.maxAbsDiff == null ? '—' : check.maxAbsDiff === 0 ? '0' : check.maxAbsDiff.toExponential(1)}</td>
      <td className="num">{check?.msPerImage == null ? '—' : check.msPerImage.toFixed(2)}</td>
      <td className="small muted">{check ? when(check.createdAt) : '—'}</td>
      <td>
        <button onClick={onExport} data-testid={`export-start-${format}-${quantize}`}>
          Export
        </button>
      </td>
    </tr>
  );
}
