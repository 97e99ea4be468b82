// Browser: a virtualized thumbnail grid over one dataset with filters kept in the URL (so a
// confusion-matrix cell can link here), keyboard navigation, and a detail panel.
import { useEffect, useMemo, useRef, useState } from 'react';
import { FOLDER_ROLES, type FolderRole } from '../../shared/domain.js';
import { useApi, useCall } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ImageDetail } from '../components/ImageDetail.js';
import { DatasetPicker } from '../components/Pickers.js';
import { VirtualGrid } from '../components/VirtualGrid.js';
import { useImagePages, type ImageFilter } from '../image-pages.js';
import { baseName, num, pct } from '../lib/format.js';
import { navigate, numParam, type RouteParams } from '../router.js';

const SORTS = { path: 'path', 'confidence-desc': 'confidence, high first', 'confidence-asc': 'confidence, low first' } as const;
type Sort = keyof typeof SORTS;

function filterFromParams(params: URLSearchParams, dataset: number): ImageFilter {
  const role = params.get('role');
  const sort = params.get('sort');
  const mined = params.get('mined');
  const f: ImageFilter = {
    dataset,
    role: role && (FOLDER_ROLES as readonly string[]).includes(role) ? (role as FolderRole) : undefined,
    label: params.get('label') || undefined,
    teacherLabel: params.get('teacherLabel') || undefined,
    confidenceMin: numParam(params, 'cmin'),
    confidenceMax: numParam(params, 'cmax'),
    mined: mined === 'yes' ? true : mined === 'no' ? false : undefined,
    run: numParam(params, 'run'),
    trueLabel: params.get('trueLabel') || undefined,
    predictedLabel: params.get('predictedLabel') || undefined,
    mistakesOnly: params.get('mistakes') === '1' || undefined,
    sort: sort && sort in SORTS ? (sort as Sort) : 'path',
  };
  // Drop undefined keys so the request (and the cache key) stays minimal.
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as ImageFilter;
}

export function BrowserPage({ params }: { params: URLSearchParams }) {
  const client = useApi();
  const datasets = useCall('datasets.list', {});
  const datasetParam = numParam(params, 'dataset');
  const dataset = datasetParam ?? datasets.data?.[0]?.id ?? null;
  const summary = datasets.data?.find((d) => d.id === dataset);
  const filter = useMemo(() => (dataset === null ? null : filterFromParams(params, dataset)), [params, dataset]);
  const pages = useImagePages(filter);
  const [selected, setSelected] = useState<number | null>(null);
  const [lightbox, setLightbox] = useState(false);
  const gridWrap = useRef<HTMLDivElement>(null);

  useEffect(() => setSelected(null), [JSON.stringify(filter)]);

  const update = (change: RouteParams) => {
    const next: RouteParams = Object.fromEntries(params.entries());
    navigate('browser', { ...next, dataset: dataset ?? undefined, ...change });
  };

  const selectedRow = selected !== null ? pages.get(selected) : undefined;
  const classes = summary?.classes ?? [];
  const runId = filter?.run;
  const chips: Array<[string, string, RouteParams]> = [];
  if (runId !== undefined) chips.push(['run', `run #${runId}`, { run: undefined, trueLabel: undefined, predictedLabel: undefined, mistakes: undefined }]);
  if (filter?.trueLabel) chips.push(['trueLabel', `true: ${filter.trueLabel}`, { trueLabel: undefined }]);
  if (filter?.predictedLabel) chips.push(['predictedLabel', `predicted: ${filter.predictedLabel}`, { predictedLabel: undefined }]);
  if (filter?.mistakesOnly) chips.push(['mistakes', 'mistakes only', { mistakes: undefined }]);

  if (datasets.data && datasets.data.length === 0) {
    return (
      <div className="page">
        <header className="page-head">
          <h1>Browser</h1>
        </header>
        <EmptyState title="Nothing to browse yet">
          Import a dataset first on the <a href="#/datasets">Datasets</a> page.
        </EmptyState>
      </div>
    );
  }

  return (
    <div className="page browser-page">
      <header className="page-head">
        <h1>Browser</h1>
        <div className="sub" data-testid="result-count" data-total={pages.total ?? ''}>
          {pages.total === null ? 'loading…' : `${num(pages.total)} image${pages.total === 1 ? '' : 's'}`}
          {summary && <> in {summary.name}</>}
        </div>
      </header>
      <div className="filters" data-testid="filters">
        <label>
          <span className="form-label">dataset</span>
          <DatasetPicker value={dataset} onChange={(id) => navigate('browser', { dataset: id ?? undefined })} />
        </label>
        <label>
          <span className="form-label">role</span>
          <select value={filter?.role ?? ''} onChange={(e) => update({ role: e.target.value || undefined })} data-testid="filter-role">
            <option value="">all</option>
            {FOLDER_ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          <span className="form-label">class</span>
          <select value={filter?.label ?? ''} onChange={(e) => update({ label: e.target.value || undefined })} data-testid="filter-class">
            <option value="">all</option>
            {classes.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          <span className="form-label">teacher label</span>
          <select value={filter?.teacherLabel ?? ''} onChange={(e) => update({ teacherLabel: e.target.value || undefined })} data-testid="filter-teacher">
            <option value="">any</option>
            {classes.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label className="range">
          <span className="form-label">
            confidence {pct(filter?.confidenceMin ?? 0, 0)}–{pct(filter?.confidenceMax ?? 1, 0)}
          </span>
          <span className="range-pair">
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={filter?.confidenceMin ?? 0}
              data-testid="filter-cmin"
              onChange={(e) => update({ cmin: Number(e.target.value) > 0 ? e.target.value : undefined })}
            />
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={filter?.confidenceMax ?? 1}
              data-testid="filter-cmax"
              onChange={(e) => update({ cmax: Number(e.target.value) < 1 ? e.target.value : undefined })}
            />
          </span>
        </label>
        <label>
          <span className="form-label">mined</span>
          <select value={params.get('mined') ?? ''} onChange={(e) => update({ mined: e.target.value || undefined })} data-testid="filter-mined">
            <option value="">any</option>
            <option value="yes">mined</option>
            <option value="no">not mined</option>
          </select>
        </label>
        <label>
          <span className="form-label">sort</span>
          <select value={filter?.sort ?? 'path'} onChange={(e) => update({ sort: e.target.value === 'path' ? undefined : e.target.value })} data-testid="sort">
            {Object.entries(SORTS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        {chips.length > 0 && (
          <div className="chips" data-testid="chips">
            {chips.map(([k, text, clear]) => (
              <button key={k} className="chip" onClick={() => update(clear)} title="remove this filter">
                {text} ×
              </button>
            ))}
          </div>
        )}
      </div>
      <ErrorNote error={pages.error} />
      <div className="browser-body">
        <div className="grid-wrap" ref={gridWrap}>
          {pages.total === 0 ? (
            <EmptyState title="No images match these filters" testId="grid-empty">
              Widen the filters above{filter?.teacherLabel || filter?.mined !== undefined ? ', or mine the unlabeled pool with a teacher on the Teachers page' : ''}.
            </EmptyState>
          ) : (
            <VirtualGrid
              testId="image-grid"
              count={pages.total ?? 0}
              cellWidth={118}
              cellHeight={142}
              selected={selected}
              onSelect={setSelected}
              onOpen={() => setLightbox(true)}
              onVisibleRange={pages.ensure}
              renderCell={(i) => {
                const row = pages.get(i);
                if (!row) return <div className="thumb placeholder" />;
                const conf = row.predictedConfidence ?? row.teacherConfidence;
                return (
                  <div className="thumb" data-testid="thumb" data-image-id={row.id} data-label={row.label ?? ''} data-role={row.role} data-confidence={conf ?? ''}>
                    <img src={client.thumbUrl(row.id)} alt="" draggable={false} decoding="async" />
                    <div className="thumb-cap">
                      <span className={`role-dot role-${row.role}`} title={row.role} />
                      <span className="thumb-label">{row.predictedLabel ? `${row.label ?? '?'}→${row.predictedLabel}` : (row.label ?? row.teacherLabel ?? baseName(row.path))}</span>
                      {conf !== null && conf !== undefined && <span className="thumb-conf">{Math.round(conf * 100)}</span>}
                      {row.mined && <span className="mined" title="mined">★</span>}
                    </div>
                  </div>
                );
              }}
            />
          )}
        </div>
        <aside className="side-panel">
          {selectedRow ? (
            <ImageDetail imageId={selectedRow.id} onOpen={() => setLightbox(true)} run={typeof runId === 'number' ? runId : undefined} />
          ) : (
            <div className="muted small pad">Select an image (click, or focus the grid and use the arrow keys) to see it with the teacher's and the students' probabilities. Enter opens it large.</div>
          )}
        </aside>
      </div>
      {lightbox && selectedRow && (
        <div
          className="lightbox"
          data-testid="lightbox"
          tabIndex={-1}
          ref={(el) => el?.focus()}
          onClick={() => setLightbox(false)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' || e.key === 'Enter') {
              setLightbox(false);
              (gridWrap.current?.querySelector('.vgrid') as HTMLElement | null)?.focus();
            }
          }}
        >
          <img src={client.imageUrl(selectedRow.id)} alt={baseName(selectedRow.path)} />
          <div className="lightbox-cap">{selectedRow.path} — Esc to close</div>
        </div>
      )}
    </div>
  );
}

