// The folders written for a run's student, newest first, with what their runtime measured; a file
// whose agreement with the student fell below its floor says so in red.
import { agreementFloor, type ExportRecord } from '../../shared/export-record.js';
import { bytes, pct, when } from '../lib/format.js';

export function ExportList({ exports }: { exports: readonly ExportRecord[] }) {
  if (exports.length === 0) return <div className="muted small" data-testid="export-list-empty">No export yet.</div>;
  return (
    <table className="table small" data-testid="export-list">
      <thead>
        <tr>
          <th>folder</th>
          <th>format</th>
          <th className="num">size</th>
          <th className="num">val accuracy</th>
          <th className="num">agreement</th>
          <th className="num">ms / image</th>
          <th>written</th>
        </tr>
      </thead>
      <tbody>
        {exports.map((e) => {
          const low = e.agreement != null && e.agreement < agreementFloor(e.quantize);
          return (
            <tr key={e.id} className={low || e.warning ? 'flagged' : undefined} data-testid="export-list-row">
              <td className="mono" title={e.warning ?? undefined}>
                {e.dir}
                {e.warning && <div className="warn small">{e.warning}</div>}
              </td>
              <td>
                {e.format} · {e.quantize === 'none' ? 'float32' : e.quantize}
              </td>
              <td className="num">{bytes(e.bytes)}</td>
              <td className="num">{pct(e.accuracy)}</td>
              <td className={`num${low ? ' bad' : ''}`}>{pct(e.agreement)}</td>
              <td className="num">{e.msPerImage == null ? '—' : e.msPerImage.toFixed(2)}</td>
              <td className="small muted">{when(e.createdAt)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
