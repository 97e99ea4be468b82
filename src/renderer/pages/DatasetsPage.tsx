// Datasets: add folders (drop in Electron, type a path in a browser), correct the guessed roles,
// import with a progress bar, then see counts per class and role and what was skipped and why.
import { useState, type DragEvent } from 'react';
import type { DatasetSummary, FolderRole } from '../../shared/domain.js';
import { FOLDER_ROLES } from '../../shared/domain.js';
import { useApi, useCall, useEvent } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { JobProgress } from '../components/JobProgress.js';
import { baseName, errorText, num, when } from '../lib/format.js';
import { navigate } from '../router.js';

interface PendingFolder {
  path: string;
  role: FolderRole;
  guessed: FolderRole;
  classes: string[];
  images: number;
}

/** A dataset name from the folders: their common parent ("…/catdog/labeled" → "catdog"). */
function suggestName(paths: string[]): string {
  const parents = paths.map((p) => p.replace(/[\\/]+$/, '').split(/[\\/]/).slice(0, -1));
  const first = parents[0];
  if (!first) return '';
  let n = first.length;
  for (const p of parents) {
    let i = 0;
    while (i < n && p[i] === first[i]) i++;
    n = i;
  }
  return first[n - 1] ?? baseName(paths[0] ?? '');
}

export function DatasetsPage() {
  const client = useApi();
  const list = useCall('datasets.list', {});
  useEvent('dataset.changed', () => list.reload());

  const [folders, setFolders] = useState<PendingFolder[]>([]);
  const [pathText, setPathText] = useState('');
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const [hover, setHover] = useState(false);
  const [importing, setImporting] = useState(false);

  const addPath = async (raw: string) => {
    const path = raw.trim();
    if (!path) return;
    if (folders.some((f) => f.path === path)) {
      setError(`${path} is already in the list`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const g = await client.call('datasets.inspectFolder', { path });
      setFolders((fs) => {
        const next = [...fs, { path: g.path, role: g.role, guessed: g.role, classes: g.classes, images: g.images }];
        if (!nameTouched) setName(suggestName(next.map((f) => f.path)));
        return next;
      });
      setPathText('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const onDrop = async (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setHover(false);
    const files = [...e.dataTransfer.files];
    const paths = files.map((f) => client.pathForFile(f)).filter((p): p is string => !!p);
    if (paths.length === 0) {
      setNote(
        files.length
          ? `A browser does not reveal where "${files.map((f) => f.name).join('", "')}" lives on disk: type its path below, or use the desktop app.`
          : 'Drop folders here, or type a path below.',
      );
      return;
    }
    setNote(null);
    for (const p of paths) await addPath(p);
  };

  const startImport = async () => {
    setError(null);
    try {
      const job = await client.call('datasets.create', { name: name.trim(), folders: folders.map((f) => ({ path: f.path, role: f.role })) });
      setJobId(job.id);
      setImporting(true);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const datasets = list.data ?? [];
  return (
    <div className="page">
      <header className="page-head">
        <h1>Datasets</h1>
        <div className="sub">Folders of images: class subfolders are labeled, a flat folder is unlabeled.</div>
      </header>

      <section className="card">
        <h2>Add a dataset</h2>
        <div
          className={`dropzone${hover ? ' hover' : ''}`}
          data-testid="dropzone"
          onDragOver={(e) => {
            e.preventDefault();
            setHover(true);
          }}
          onDragLeave={() => setHover(false)}
          onDrop={(e) => void onDrop(e)}
        >
          <div className="dropzone-title">Drop folders here</div>
          <div className="small muted">
            {client.transport === 'ipc'
              ? 'Labeled folders hold one subfolder per class; unlabeled folders hold images directly.'
              : 'In the browser, add folders by path (the browser cannot see where dropped folders live).'}
          </div>
        </div>
        {note && <div className="note">{note}</div>}
        <form
          className="row gap"
          onSubmit={(e) => {
            e.preventDefault();
            void addPath(pathText);
          }}
        >
          <label className="grow">
            <span className="form-label">Add folder by path</span>
            <input type="text" placeholder="/data/catdog/labeled" value={pathText} onChange={(e) => setPathText(e.target.value)} data-testid="folder-path" />
          </label>
          <button type="submit" disabled={busy || !pathText.trim()} data-testid="add-folder">
            {busy ? 'Inspecting…' : 'Add folder'}
          </button>
        </form>
        <ErrorNote error={error} />

        {folders.length > 0 && (
          <>
            <table className="table" data-testid="pending-folders">
              <thead>
                <tr>
                  <th>folder</th>
                  <th>role</th>
                  <th>classes</th>
                  <th className="num">images</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {folders.map((f, i) => (
                  <tr key={f.path} data-testid="pending-folder" data-path={f.path}>
                    <td className="mono" title={f.path}>
                      {f.path}
                    </td>
                    <td>
                      <select
                        value={f.role}
                        data-testid="folder-role"
                        onChange={(e) => setFolders((fs) => fs.map((x, j) => (j === i ? { ...x, role: e.target.value as FolderRole } : x)))}
                      >
                        {FOLDER_ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                            {r === f.guessed ? ' (guessed)' : ''}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>{f.classes.length ? f.classes.join(', ') : <span className="muted">none (flat folder)</span>}</td>
                    <td className="num">{num(f.images)}</td>
                    <td>
                      <button className="link" onClick={() => setFolders((fs) => fs.filter((_, j) => j !== i))}>
                        remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {folders.some((f) => f.role !== 'unlabeled' && f.classes.length === 0) && (
              <div className="note warn">A labeled or val folder needs class subfolders; this one has none.</div>
            )}
            <div className="row gap end">
              <label>
                <span className="form-label">Dataset name</span>
                <input
                  type="text"
                  value={name}
                  data-testid="dataset-name"
                  onChange={(e) => {
                    setName(e.target.value);
                    setNameTouched(true);
                  }}
                />
              </label>
              <button className="primary" disabled={!name.trim() || importing} onClick={() => void startImport()} data-testid="import">
                Import {num(folders.reduce((a, f) => a + f.images, 0))} images
              </button>
            </div>
          </>
        )}
        {jobId && (
          <JobProgress
            key={jobId}
            jobId={jobId}
            testId="import-progress"
            onFinish={(j) => {
              setImporting(false);
              list.reload();
              if (j.status === 'done') {
                setFolders([]);
                setName('');
                setNameTouched(false);
              } else setError(j.message);
            }}
          />
        )}
      </section>

      <ErrorNote error={list.error} />
      {list.data && datasets.length === 0 && (
        <EmptyState title="No datasets yet">
          Add a folder of class subfolders (labeled), a flat folder of unlabeled images and, if you have one, a validation folder — then press Import.
        </EmptyState>
      )}
      <div className="cards" data-testid="dataset-list">
        {datasets.map((d) => (
          <DatasetCard key={d.id} d={d} onChanged={list.reload} />
        ))}
      </div>
    </div>
  );
}

function DatasetCard({ d, onChanged }: { d: DatasetSummary; onChanged: () => void }) {
  const client = useApi();
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showSkipped, setShowSkipped] = useState(false);
  const labeledTotal = Object.values(d.labeled).reduce((a, b) => a + b, 0);
  const valTotal = Object.values(d.val).reduce((a, b) => a + b, 0);
  const classes = [...new Set([...d.classes, ...Object.keys(d.labeled), ...Object.keys(d.val)])];

  return (
    <section className="card dataset" data-testid="dataset-card" data-name={d.name} data-id={d.id}>
      <div className="card-head">
        <h2>{d.name}</h2>
        <span className="muted small">created {when(d.createdAt)}</span>
        <div className="actions">
          <button onClick={() => navigate('browser', { dataset: d.id })} data-testid="browse">
            Browse
          </button>
          <button
            onClick={async () => {
              try {
                setJobId((await client.call('datasets.rescan', { id: d.id })).id);
              } catch (err) {
                setError(errorText(err));
              }
            }}
          >
            Rescan
          </button>
          <button
            className="danger"
            onClick={async () => {
              if (!confirm(`Remove dataset "${d.name}"? The image files stay where they are.`)) return;
              try {
                await client.call('datasets.remove', { id: d.id });
                onChanged();
              } catch (err) {
                setError(errorText(err));
              }
            }}
          >
            Remove
          </button>
        </div>
      </div>
      <ErrorNote error={error} />
      {jobId && <JobProgress jobId={jobId} onFinish={onChanged} />}
      <div className="dataset-body">
        <table className="table counts" data-testid="class-counts">
          <thead>
            <tr>
              <th>class</th>
              <th className="num">labeled</th>
              <th className="num">val</th>
            </tr>
          </thead>
          <tbody>
            {classes.map((c) => (
              <tr key={c} data-class={c}>
                <td>{c}</td>
                <td className="num" data-testid={`count-labeled-${c}`}>
                  {num(d.labeled[c] ?? 0)}
                </td>
                <td className="num" data-testid={`count-val-${c}`}>
                  {num(d.val[c] ?? 0)}
                </td>
              </tr>
            ))}
            <tr className="total">
              <td>total</td>
              <td className="num">{num(labeledTotal)}</td>
              <td className="num">{num(valTotal)}</td>
            </tr>
          </tbody>
        </table>
        <div className="stats">
          <div className="stat">
            <div className="stat-v" data-testid="count-unlabeled">
              {num(d.unlabeled)}
            </div>
            <div className="stat-l">unlabeled</div>
          </div>
          <div className="stat">
            <div className="stat-v">{num(labeledTotal + valTotal + d.unlabeled)}</div>
            <div className="stat-l">images</div>
          </div>
          <div className="stat">
            <div className={`stat-v${d.skipped.length ? ' warn' : ''}`} data-testid="count-skipped">
              {num(d.skipped.length)}
            </div>
            <div className="stat-l">skipped</div>
          </div>
        </div>
        <ul className="folders">
          {d.folders.map((f) => (
            <li key={f.id}>
              <span className={`role role-${f.role}`}>{f.role}</span> <span className="mono small">{f.path}</span>
            </li>
          ))}
        </ul>
      </div>
      {d.skipped.length > 0 && (
        <div className="skipped">
          <button className="link" onClick={() => setShowSkipped((s) => !s)} data-testid="toggle-skipped">
            {showSkipped ? 'Hide' : 'Show'} {d.skipped.length} skipped file{d.skipped.length === 1 ? '' : 's'}
          </button>
          {showSkipped && (
            <table className="table small" data-testid="skipped-list">
              <tbody>
                {d.skipped.map((s) => (
                  <tr key={s.file}>
                    <td className="mono">{s.file}</td>
                    <td>{s.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
