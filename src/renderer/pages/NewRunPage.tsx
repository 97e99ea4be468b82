// New run: the form is generated from the run-config schema; picking a method loads that method's
// defaults (defaultRunConfig); every edit is validated by the same schema the trainer uses.
import { useMemo, useState } from 'react';
import { IMPLEMENTED_METHODS, RunConfig, defaultRunConfig, type Method, type RunConfigInput } from '../../shared/run-config.js';
import { METHOD_INFO, unusedParams } from '../../shared/method-info.js';
import { useApi, useCall } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { RecipePanel } from '../components/RecipePanel.js';
import type { RecipePlanResult } from '../../shared/recipe-plan.js';
import { SchemaForm, type FormMeta } from '../components/SchemaForm.js';
import { describe, issuesByPath, type FieldNode } from '../lib/schema-form.js';
import { errorText } from '../lib/format.js';
import { sweepableFields, sweepFromRows, type SweepRow } from '../lib/sweep-form.js';
import { axisLabel } from '../../shared/sweep.js';
import { navigate } from '../router.js';

const LABELS: Record<string, string> = {
  batchSize: 'Batch size',
  teacherCache: 'Teacher cache',
  teacherViews: 'Teacher views',
  inputSize: 'Input size (px)',
  'data.useLabels': 'Use labeled images',
  'data.useUnlabeled': 'Use unlabeled pool',
  'data.mining': 'Mined selection',
  'data.mining.perClass': 'Per class',
  'data.mining.minConfidence': 'Min confidence',
  'data.augment.cropScaleMin': 'Min crop scale',
  'data.augment.mixup': 'Mixup',
  'optim.lr': 'Learning rate',
  'optim.warmupEpochs': 'Warm-up epochs',
  'optim.weightDecay': 'Weight decay',
  'loss.alpha': 'Alpha',
  'loss.beta': 'Beta',
  'loss.gamma': 'Gamma',
  'loss.dkdWarmupEpochs': 'DKD warm-up epochs',
  'loss.hint': 'Hints',
};

const HINTS: Record<string, string> = {
  'student.width': 'mobilenet_v2: 0.35, 0.5 or 1.0',
  'data.mining': 'train on a stored class-balanced mining of the pool instead of all of it',
  'loss.alpha': 'KD: weight of the teacher term (1 − α goes to CE); DKD: TCKD weight; WSL: soft-term weight',
  'loss.beta': 'DML/UDML: peer divergence weight; DKD: NCKD weight; DIST: inter-class relation; FitNets: hint; RKD: distance; AT: attention',
  'loss.gamma': 'DIST: intra-class relation weight; RKD: angle weight; UDML: peer feature distance weight',
  'loss.dkdWarmupEpochs': 'epochs over which the DKD weight ramps from 0 to 1',
  'loss.temperature': 'a number, or {start, end} for a temperature that moves linearly over the epochs',
  'loss.weights': 'extra weight per named loss part',
  'data.augment.mixup': 'blend each image with another of its batch; the teacher labels the blend (needs the teacher live: teacher cache off)',
  teacherCache: 'views: the teacher runs once per stored crop, every run reuses it; off: it runs live, a fresh crop every epoch',
  teacherViews: 'stored crops per image (default min(epochs, 4)); more views, less memorizing on long runs',
  'loss.featureLayers': 'layer names (an ONNX teacher: graph value names) to read instead of the defaults (the Dense head’s input; for AT the last spatial stage)',
  'loss.hint': 'a student cut or slimmed from the teacher’s backbone regresses the teacher’s intermediate maps at the channels it kept (runs the teacher live)',
  'loss.hint.layers': 'layer names shared by student and teacher (default: the ends of the three smallest stages)',
};

/** Scalars first, then groups: the top of the form reads like a summary of the run. */
function orderRoot(node: FieldNode): FieldNode {
  if (node.kind !== 'object') return node;
  const scalar = (f: FieldNode) => f.kind !== 'object' && f.kind !== 'array' && f.kind !== 'union';
  return { ...node, fields: [...node.fields.filter(scalar), ...node.fields.filter((f) => !scalar(f))] };
}

export function NewRunPage() {
  const client = useApi();
  const datasets = useCall('datasets.list', {});
  const teachers = useCall('teachers.list', {});
  const root = useMemo(() => orderRoot(describe(RunConfig)), []);
  const [config, setConfig] = useState<unknown>(null);
  const [nameEdited, setNameEdited] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [sweepRows, setSweepRows] = useState<SweepRow[] | null>(null);
  const [applied, setApplied] = useState<RecipePlanResult | null>(null);

  const firstDataset = datasets.data?.[0]?.name;
  const firstTeacher = teachers.data?.[0]?.name;
  // Until the user touches it, the form shows the ce defaults on the first dataset.
  const value: unknown = config ?? (firstDataset ? defaultRunConfig('ce', firstDataset) : null);
  const current = (value ?? {}) as Partial<RunConfigInput>;

  const parsed = useMemo(() => (value ? RunConfig.safeParse(value) : null), [value]);
  const issues = useMemo(() => issuesByPath(parsed && !parsed.success ? parsed.error : null), [parsed]);

  const method = (current.method ?? 'ce') as string;
  const sweepFields = useMemo(() => sweepableFields(method), [method]);
  const sweep = useMemo(() => (sweepRows && parsed?.success ? sweepFromRows(parsed.data, sweepRows) : null), [sweepRows, parsed]);

  const switchMethod = (m: Method) => {
    const next = defaultRunConfig(m, current.dataset ?? firstDataset ?? '', current.teacher ?? firstTeacher);
    if (nameEdited && current.name) next.name = current.name;
    setConfig(next);
    setSweepRows(null);
  };

  const applyRecipe = (plan: RecipePlanResult) => {
    const loss = { ...((current.loss as Record<string, unknown> | undefined) ?? {}) };
    if (plan.feature) loss.feature = plan.feature;
    else delete loss.feature;
    if (plan.hint) loss.hint = plan.hint;
    else delete loss.hint;
    const next: Record<string, unknown> = { ...current, student: plan.student, epochs: plan.epochs, teacherCache: plan.teacherCache, loss };
    if (plan.views === null) delete next.teacherViews;
    else next.teacherViews = plan.views;
    setConfig(next);
    setApplied(plan);
  };
  // The expected time holds while the form still trains the planned student for the planned epochs.
  const planHolds =
    applied !== null && parsed?.success === true && JSON.stringify(parsed.data.student) === JSON.stringify(applied.student) && parsed.data.epochs === applied.epochs;

  const hidden = useMemo(() => unusedParams(method), [method]);
  const meta: FormMeta = {
    hidden,
    labels: LABELS,
    hints: HINTS,
    overrides: {
      method: (v) => (
        <select value={typeof v === 'string' ? v : 'ce'} onChange={(e) => switchMethod(e.target.value as Method)} data-testid="field-method">
          {IMPLEMENTED_METHODS.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      ),
      dataset: (v, set) => (
        <select value={typeof v === 'string' ? v : ''} onChange={(e) => set(e.target.value)} data-testid="field-dataset">
          {datasets.data?.map((d) => (
            <option key={d.id} value={d.name}>
              {d.name}
            </option>
          ))}
        </select>
      ),
      teacher: (v, set) => (
        <select value={typeof v === 'string' ? v : ''} onChange={(e) => set(e.target.value || undefined)} data-testid="field-teacher">
          <option value="">none</option>
          {teachers.data?.map((t) => (
            <option key={t.id} value={t.name}>
              {t.name} ({t.arch}, {t.inputSize}px, {t.valAccuracy === null ? 'no val' : `${(t.valAccuracy * 100).toFixed(1)}%`})
            </option>
          ))}
        </select>
      ),
      name: (v, set) => (
        <input
          type="text"
          value={typeof v === 'string' ? v : ''}
          data-testid="field-name"
          onChange={(e) => {
            setNameEdited(true);
            set(e.target.value);
          }}
        />
      ),
    },
  };

  const start = async () => {
    if (!parsed?.success) return;
    setStarting(true);
    setError(null);
    try {
      const run = await client.call('runs.start', { config: parsed.data });
      navigate('run', { id: run.id });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setStarting(false);
    }
  };

  const startSweep = async () => {
    if (!parsed?.success || !sweep?.ok) return;
    setStarting(true);
    setError(null);
    try {
      const s = await client.call('sweeps.start', { config: parsed.data, grid: sweep.grid });
      navigate('compare', { sweep: s.id });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setStarting(false);
    }
  };

  if (datasets.data && datasets.data.length === 0) {
    return (
      <div className="page">
        <header className="page-head">
          <h1>New run</h1>
        </header>
        <EmptyState title="A run needs a dataset">
          Import one on the <a href="#/datasets">Datasets</a> page; for KD or SSLD, train a teacher on the <a href="#/teachers">Teachers</a> page too.
        </EmptyState>
      </div>
    );
  }

  const problems = parsed && !parsed.success ? parsed.error.issues.length : 0;
  return (
    <div className="page">
      <header className="page-head">
        <h1>New run</h1>
        <div className="sub">
          <b>{method}</b> — {METHOD_INFO[method as keyof typeof METHOD_INFO]?.summary ?? 'not trainable'}
        </div>
      </header>
      {method === 'ssld' && current.teacher && current.dataset ? (
        <RecipePanel
          key={`${current.dataset}|${current.teacher}`}
          dataset={current.dataset}
          teacher={current.teacher}
          useLabels={current.data?.useLabels !== false}
          useUnlabeled={current.data?.useUnlabeled !== false}
          onApply={applyRecipe}
        />
      ) : null}
      {value === null ? (
        <div className="muted">loading…</div>
      ) : (
        <section className="card">
          <SchemaForm node={root} value={value} onChange={setConfig} issues={issues} {...meta} />
          <div className="row gap end form-actions">
            <span className={problems ? 'warn small' : 'ok small'} data-testid="form-status">
              {problems ? `${problems} problem${problems === 1 ? '' : 's'} to fix` : 'ready'}
            </span>
            {planHolds && applied ? (
              <span className="small muted" data-testid="expected-time">
                expected ≈ {applied.expectedMinutes.toFixed(1)} min (the recipe's measurement)
              </span>
            ) : null}
            <button type="button" onClick={() => switchMethod(method as Method)}>
              Reset to {method} defaults
            </button>
            <button className="primary" disabled={!parsed?.success || starting} onClick={() => void start()} data-testid="start-run">
              {starting ? 'Starting…' : 'Start run'}
            </button>
            <button
              type="button"
              disabled={!parsed?.success}
              onClick={() => setSweepRows((r) => (r ? null : [{ path: sweepFields[0]!, values: '' }]))}
              data-testid="sweep-toggle"
            >
              Sweep…
            </button>
          </div>
          {sweepRows ? (
            <div className="sweep-entry" data-testid="sweep-entry">
              <h3>Sweep: one run per combination, one after another</h3>
              {sweepRows.map((row, i) => (
                <div key={i} className="row gap">
                  <select
                    value={row.path}
                    onChange={(e) => setSweepRows(sweepRows.map((r, j) => (j === i ? { ...r, path: e.target.value } : r)))}
                    data-testid={`sweep-path-${i}`}
                  >
                    {sweepFields.map((f) => (
                      <option key={f} value={f}>
                        {f} ({axisLabel(f)})
                      </option>
                    ))}
                  </select>
                  <input
                    type="text"
                    placeholder="values, e.g. 2, 4, 6"
                    value={row.values}
                    onChange={(e) => setSweepRows(sweepRows.map((r, j) => (j === i ? { ...r, values: e.target.value } : r)))}
                    data-testid={`sweep-values-${i}`}
                  />
                  {sweepRows.length > 1 ? (
                    <button type="button" onClick={() => setSweepRows(sweepRows.filter((_, j) => j !== i))}>
                      Remove
                    </button>
                  ) : null}
                </div>
              ))}
              <div className="row gap end">
                {sweepRows.length < 2 ? (
                  <button type="button" onClick={() => setSweepRows([...sweepRows, { path: sweepFields.find((f) => f !== sweepRows[0]!.path) ?? sweepFields[0]!, values: '' }])}>
                    Add a second field
                  </button>
                ) : null}
                <span className={sweep?.ok ? 'ok small' : 'warn small'} data-testid="sweep-status">
                  {sweep ? (sweep.ok ? `${sweep.runs} runs, named ${current.name ?? ''}/…` : sweep.error) : 'fix the run config first'}
                </span>
                <button className="primary" disabled={!sweep?.ok || starting} onClick={() => void startSweep()} data-testid="start-sweep">
                  {starting ? 'Starting…' : `Start sweep${sweep?.ok ? ` (${sweep.runs} runs)` : ''}`}
                </button>
              </div>
              <div className="muted small">
                Values are numbers, or JSON such as {'{"start":6,"end":2}'} for a temperature that moves over the epochs.
              </div>
            </div>
          ) : null}
          <ErrorNote error={error} />
          <details className="config-preview">
            <summary>Effective config (after defaults)</summary>
            <pre data-testid="config-preview">{parsed?.success ? JSON.stringify(parsed.data, null, 2) : JSON.stringify(value, null, 2)}</pre>
          </details>
        </section>
      )}
    </div>
  );
}
