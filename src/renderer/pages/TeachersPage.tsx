// Teachers: a head on a pretrained backbone, one trained from scratch on a dataset's labeled split, or an
// imported model file; accuracy overall and per class; then mine the unlabeled pool with it (SSLD).
import { useState } from 'react';
import { ARCHS } from '../../shared/run-config.js';
import type { TeacherRecord } from '../../shared/domain.js';
import { TeacherTrainResult } from '../../shared/api.js';
import { InputRange } from '../../shared/input-range.js';
import { useApi, useCall } from '../api-context.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { JobOutcome } from '../components/JobOutcome.js';
import { DatasetPicker, TeacherPicker } from '../components/Pickers.js';
import { errorText, num, pct, when } from '../lib/format.js';
import { navigate } from '../router.js';

export function TeachersPage() {
  const teachers = useCall('teachers.list', {});
  const datasets = useCall('datasets.list', {});
  const list = teachers.data ?? [];
  return (
    <div className="page">
      <header className="page-head">
        <h1>Teachers</h1>
        <div className="sub">A teacher labels the unlabeled pool with soft probabilities; students learn from them.</div>
      </header>
      <ErrorNote error={teachers.error} />
      {teachers.data && list.length === 0 && (
        <EmptyState title="No teachers yet">
          {datasets.data?.length ? 'Train one on your labeled images below, or import a TF.js model.json / .onnx file.' : <>Import a dataset on the <a href="#/datasets">Datasets</a> page first, then train a teacher here.</>}
        </EmptyState>
      )}
      {list.length > 0 && (
        <section className="card">
          <h2>Teachers</h2>
          <table className="table" data-testid="teacher-list">
            <thead>
              <tr>
                <th>name</th>
                <th>kind</th>
                <th>arch</th>
                <th className="num">input</th>
                <th>classes</th>
                <th className="num">val accuracy</th>
                <th>per class</th>
                <th>created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <TeacherRow key={t.id} t={t} />
              ))}
            </tbody>
          </table>
        </section>
      )}
      <div className="two-col">
        <BackboneTrainForm onDone={teachers.reload} />
        <TrainForm onDone={teachers.reload} />
      </div>
      <ImportForm onDone={teachers.reload} />
      <MiningCard />
    </div>
  );
}

function PerClassBars({ perClass }: { perClass: Record<string, number> }) {
  return (
    <div className="perclass">
      {Object.entries(perClass).map(([c, a]) => (
        <div key={c} className="perclass-row">
          <span>{c}</span>
          <span className="bar">
            <span style={{ width: `${a * 100}%` }} />
          </span>
          <span className="num">{pct(a, 1)}</span>
        </div>
      ))}
    </div>
  );
}

const MODEL_FILE = '(model file)';

/** A frozen pretrained backbone + a head trained on its cached features: strong teachers from few labels. */
function BackboneTrainForm({ onDone }: { onDone: () => void }) {
  const client = useApi();
  const backbones = useCall('teachers.backbones', {});
  const [name, setName] = useState('pretrained');
  const [dataset, setDataset] = useState<number | null>(null);
  const [choice, setChoice] = useState<string>('');
  const [file, setFile] = useState('');
  const [inputRange, setInputRange] = useState<InputRange>('0-255');
  const [featureLayer, setFeatureLayer] = useState('');
  const [head, setHead] = useState<'linear' | 'mlp'>('linear');
  const [epochs, setEpochs] = useState(60);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<TeacherTrainResult | null>(null);
  const bundled = backbones.data ?? [];
  const selected = choice || bundled[0]?.name || MODEL_FILE;
  const isFile = selected === MODEL_FILE;
  return (
    <section className="card">
      <h2>Train from a pretrained backbone</h2>
      <div className="small muted">
        The backbone stays frozen: its features are computed once per image (and kept for the next teacher), then a small head learns your classes. Far stronger than training from scratch on a few labels.
      </div>
      <form
        className="form-grid"
        data-testid="backbone-train-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setDone(null);
          if (dataset === null) return setError('choose a dataset');
          if (isFile && !file.trim()) return setError('give the path of a TF.js model.json or an .onnx file');
          try {
            const job = await client.call('teachers.trainBackbone', {
              name,
              dataset,
              backbone: isFile ? file.trim() : selected,
              head,
              epochs,
              ...(featureLayer.trim() ? { featureLayer: featureLayer.trim() } : {}),
              ...(isFile ? { inputRange } : {}),
            });
            setJobId(job.id);
          } catch (err) {
            setError(errorText(err));
          }
        }}
      >
        <label className="form-field">
          <span className="form-label">name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="backbone-teacher-name" />
        </label>
        <label className="form-field">
          <span className="form-label">dataset</span>
          <DatasetPicker value={dataset} onChange={setDataset} testId="backbone-teacher-dataset" />
        </label>
        <label className="form-field">
          <span className="form-label">backbone</span>
          <select value={selected} onChange={(e) => setChoice(e.target.value)} data-testid="backbone-choice">
            {bundled.map((b) => (
              <option key={b.name} value={b.name}>
                {b.name} ({b.inputSize}px, {b.featureDim} features)
              </option>
            ))}
            <option value={MODEL_FILE}>a TF.js model file…</option>
          </select>
        </label>
        {isFile && (
          <>
            <label className="form-field wide">
              <span className="form-label">model.json or .onnx path</span>
              <input value={file} onChange={(e) => setFile(e.target.value)} placeholder="/models/backbone/model.json or model.onnx" data-testid="backbone-file" />
            </label>
            <label className="form-field">
              <span className="form-label">input range</span>
              <InputRangeSelect value={inputRange} onChange={setInputRange} />
            </label>
          </>
        )}
        <label className="form-field">
          <span className="form-label">feature layer</span>
          <input value={featureLayer} onChange={(e) => setFeatureLayer(e.target.value)} placeholder="last pooling layer" />
        </label>
        <label className="form-field">
          <span className="form-label">head</span>
          <select value={head} onChange={(e) => setHead(e.target.value === 'mlp' ? 'mlp' : 'linear')} data-testid="backbone-head">
            <option value="linear">linear</option>
            <option value="mlp">one hidden layer</option>
          </select>
        </label>
        <label className="form-field">
          <span className="form-label">head epochs</span>
          <input type="number" min={1} value={epochs} onChange={(e) => setEpochs(Number(e.target.value))} />
        </label>
        <div className="form-field end">
          <button className="primary" type="submit" data-testid="backbone-train">
            Train
          </button>
        </div>
      </form>
      <JobOutcome
        jobId={jobId}
        error={error ?? backbones.error}
        testId="backbone-progress"
        onFinish={(j) => {
          if (j.status === 'failed') setError(j.message);
          const r = TeacherTrainResult.safeParse(j.result);
          if (j.status === 'done' && r.success) setDone(r.data);
          onDone();
        }}
      />
      {done && (
        <div className="note ok" data-testid="backbone-result">
          <div>
            Val accuracy <b>{pct(done.valAccuracy, 1)}</b>
            {done.seconds !== undefined && <span className="muted"> · {done.seconds.toFixed(0)} s</span>}
          </div>
          {done.perClass && <PerClassBars perClass={done.perClass} />}
        </div>
      )}
    </section>
  );
}

function InputRangeSelect({ value, onChange }: { value: InputRange; onChange: (v: InputRange) => void }) {
  return (
    <select value={value} onChange={(e) => onChange(InputRange.parse(e.target.value))} data-testid="input-range">
      <option value="0-255">0…255</option>
      <option value="0-1">0…1</option>
      <option value="-1-1">−1…1</option>
    </select>
  );
}

function TeacherRow({ t }: { t: TeacherRecord }) {
  return (
    <tr data-testid="teacher-row" data-name={t.name}>
      <td>
        <b>{t.name}</b>
      </td>
      <td>{t.kind}</td>
      <td>{t.arch}</td>
      <td className="num">{t.inputSize}px</td>
      <td>{t.classes.join(', ')}</td>
      <td className="num" data-testid="teacher-acc">
        {pct(t.valAccuracy)}
      </td>
      <td>
        {t.perClass ? (
          <PerClassBars perClass={t.perClass} />
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="small muted">{when(t.createdAt)}</td>
    </tr>
  );
}

function TrainForm({ onDone }: { onDone: () => void }) {
  const client = useApi();
  const [name, setName] = useState('teacher');
  const [dataset, setDataset] = useState<number | null>(null);
  const [arch, setArch] = useState<string>('resnet18');
  const [size, setSize] = useState(96);
  const [epochs, setEpochs] = useState(10);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <section className="card">
      <h2>Train a teacher from scratch</h2>
      <form
        className="form-grid"
        data-testid="teacher-train-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          if (dataset === null) return setError('choose a dataset');
          try {
            setJobId((await client.call('teachers.train', { name, dataset, arch, size, epochs })).id);
          } catch (err) {
            setError(errorText(err));
          }
        }}
      >
        <label className="form-field">
          <span className="form-label">name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="teacher-name" />
        </label>
        <label className="form-field">
          <span className="form-label">dataset</span>
          <DatasetPicker value={dataset} onChange={setDataset} testId="teacher-dataset" />
        </label>
        <label className="form-field">
          <span className="form-label">architecture</span>
          <select value={arch} onChange={(e) => setArch(e.target.value)} data-testid="teacher-arch">
            {ARCHS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label className="form-field">
          <span className="form-label">input size</span>
          <input type="number" min={32} max={224} value={size} onChange={(e) => setSize(Number(e.target.value))} data-testid="teacher-size" />
        </label>
        <label className="form-field">
          <span className="form-label">epochs</span>
          <input type="number" min={1} value={epochs} onChange={(e) => setEpochs(Number(e.target.value))} data-testid="teacher-epochs" />
        </label>
        <div className="form-field end">
          <button className="primary" type="submit" data-testid="teacher-train">
            Train
          </button>
        </div>
      </form>
      <JobOutcome
        jobId={jobId}
        error={error}
        testId="teacher-progress"
        onFinish={(j) => {
          if (j.status === 'failed') setError(j.message);
          onDone();
        }}
      />
    </section>
  );
}

function ImportForm({ onDone }: { onDone: () => void }) {
  const client = useApi();
  const [name, setName] = useState('');
  const [path, setPath] = useState('');
  const [classes, setClasses] = useState('');
  const [inputRange, setInputRange] = useState<InputRange>('0-255');
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  return (
    <section className="card">
      <h2>Import model</h2>
      <div className="small muted">A TF.js model.json or an .onnx file, used frozen as a teacher.</div>
      <form
        className="form-grid"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setOk(null);
          try {
            const t = await client.call('teachers.import', {
              name,
              path,
              classes: classes
                .split(',')
                .map((c) => c.trim())
                .filter(Boolean),
              inputRange,
            });
            setOk(`Imported ${t.name}: ${t.inputSize}px input, classes ${t.classes.join(', ')}`);
            onDone();
          } catch (err) {
            setError(errorText(err));
          }
        }}
      >
        <label className="form-field">
          <span className="form-label">name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="form-field wide">
          <span className="form-label">model.json or .onnx path</span>
          <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/models/teacher/model.json" />
        </label>
        <label className="form-field">
          <span className="form-label">classes (in output order)</span>
          <input value={classes} onChange={(e) => setClasses(e.target.value)} placeholder="cat, dog" />
        </label>
        <label className="form-field">
          <span className="form-label">input range</span>
          <InputRangeSelect value={inputRange} onChange={setInputRange} />
        </label>
        <div className="form-field end">
          <button type="submit" disabled={!name || !path || classes.split(',').filter((c) => c.trim()).length < 2}>
            Import
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      {ok && <div className="note ok">{ok}</div>}
    </section>
  );
}

function MiningCard() {
  const client = useApi();
  const [dataset, setDataset] = useState<number | null>(null);
  const [teacher, setTeacher] = useState<number | null>(null);
  const [perClass, setPerClass] = useState(500);
  const [minConfidence, setMinConfidence] = useState(0);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const minings = useCall('mining.list', dataset === null ? null : { dataset });
  const teachers = useCall('teachers.list', {});
  const teacherName = (id: number) => teachers.data?.find((t) => t.id === id)?.name ?? `#${id}`;
  return (
    <section className="card">
      <h2>Mine the unlabeled pool</h2>
      <div className="small muted">The teacher labels every unlabeled image; the most confident per class are kept, balanced across classes.</div>
      <form
        className="form-grid"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          if (dataset === null || teacher === null) return setError('choose a dataset and a teacher');
          try {
            setJobId((await client.call('mining.run', { dataset, teacher, perClass, minConfidence })).id);
          } catch (err) {
            setError(errorText(err));
          }
        }}
      >
        <label className="form-field">
          <span className="form-label">dataset</span>
          <DatasetPicker value={dataset} onChange={setDataset} testId="mining-dataset" />
        </label>
        <label className="form-field">
          <span className="form-label">teacher</span>
          <TeacherPicker value={teacher} onChange={setTeacher} testId="mining-teacher" />
        </label>
        <label className="form-field">
          <span className="form-label">per class</span>
          <input type="number" min={1} value={perClass} onChange={(e) => setPerClass(Number(e.target.value))} data-testid="mining-per-class" />
        </label>
        <label className="form-field">
          <span className="form-label">min confidence</span>
          <input type="number" min={0} max={1} step={0.05} value={minConfidence} onChange={(e) => setMinConfidence(Number(e.target.value))} data-testid="mining-min-confidence" />
        </label>
        <div className="form-field end">
          <button type="submit" data-testid="mine">
            Mine
          </button>
        </div>
      </form>
      <JobOutcome
        jobId={jobId}
        error={error ?? minings.error}
        testId="mining-progress"
        onFinish={(j) => {
          if (j.status === 'failed') setError(j.message);
          minings.reload();
        }}
      />
      {minings.data && minings.data.length > 0 && (
        <table className="table" data-testid="mining-list">
          <thead>
            <tr>
              <th>#</th>
              <th>teacher</th>
              <th className="num">per class</th>
              <th className="num">min conf.</th>
              <th className="num">selected</th>
              <th>per class selected</th>
              <th>shortfall</th>
              <th>created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {minings.data.map((m) => (
              <tr key={m.id} data-testid="mining-row" data-selected={m.selected}>
                <td>{m.id}</td>
                <td>{teacherName(m.teacherId)}</td>
                <td className="num">{m.perClass}</td>
                <td className="num">{m.minConfidence}</td>
                <td className="num">{num(m.selected)}</td>
                <td>{Object.entries(m.perClassSelected).map(([c, n]) => `${c} ${n}`).join(' · ')}</td>
                <td>{Object.entries(m.shortfall).filter(([, n]) => n > 0).map(([c, n]) => `${c} −${n}`).join(' · ') || '—'}</td>
                <td className="small muted">{when(m.createdAt)}</td>
                <td>
                  <button className="link" data-testid="browse-mined" onClick={() => navigate('browser', { dataset: m.datasetId, mined: 'yes', sort: 'confidence-desc' })}>
                    browse
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
