// Development only: an in-memory fake of the backend on window.distill, so pages can be built and
// looked at with `vite dev` (open /?mock, or /?mock&big for 25,000 images) before or without the
// real server. Imported dynamically behind import.meta.env.DEV, so production builds leave it out.
import type { DistillApi, EventName, EventPayload, ImageRow, JobInfo, MethodName, Params, Result } from '../../shared/api.js';
import { api } from '../../shared/api.js';
import type { BackendReport, CheckpointRecord, DatasetSummary, MetricRow, MiningRecord, RunRecord, TeacherRecord } from '../../shared/domain.js';
import { RunConfig, defaultRunConfig } from '../../shared/run-config.js';
import { bestOf, expandSweep, type SweepValues } from '../../shared/sweep.js';
import type { SweepRecord } from '../../shared/sweep-record.js';

const CLASSES = ['cat', 'dog'];
const ROOT = '/data/catdog';

function rand(seed: number): number {
  const x = Math.sin(seed * 9301 + 49297) * 233280;
  return x - Math.floor(x);
}

const backend: BackendReport = {
  active: 'wasm',
  threads: 2,
  simd: true,
  forcedBy: null,
  candidates: [
    { name: 'tensorflow (cuda)', available: false, reason: 'no CUDA device (libcudart.so.11 not found)' },
    { name: 'tensorflow (cpu)', available: false, reason: '@tensorflow/tfjs-node native binding failed to load' },
    { name: 'wasm', available: true, reason: null },
    { name: 'cpu', available: true, reason: null },
  ],
};

interface MockImage extends ImageRow {
  truth: string;
  teacherProbs: number[];
}

export async function installMockApi(): Promise<void> {
  const big = new URLSearchParams(location.search).has('big');
  const listing = (await (await fetch('/__mock/list')).json()) as { root: string; files: string[] };
  const files = listing.files;
  const images: MockImage[] = [];
  const count = big ? 25_000 : files.length;
  for (let i = 0; i < count; i++) {
    const rel = files[i % files.length]!;
    const parts = rel.split('/');
    const role = parts[0] === 'labeled' ? 'labeled' : parts[0] === 'val' ? 'val' : 'unlabeled';
    const truth = role === 'unlabeled' ? (rand(i) < 0.5 ? 'cat' : 'dog') : parts[1]!;
    const r = rand(i + 7);
    const pTruth = 0.35 + 0.65 * Math.sqrt(r);
    const probs = truth === 'cat' ? [pTruth, 1 - pTruth] : [1 - pTruth, pTruth];
    const tl = probs[0]! >= probs[1]! ? 'cat' : 'dog';
    images.push({
      id: i + 1,
      path: `${ROOT}/${rel}${i >= files.length ? `#${Math.floor(i / files.length)}` : ''}`,
      role,
      label: role === 'unlabeled' ? null : truth,
      teacherLabel: tl,
      teacherConfidence: Math.max(...probs),
      mined: role === 'unlabeled' && Math.max(...probs) > 0.9,
      truth,
      teacherProbs: probs,
    });
  }

  const datasets: DatasetSummary[] = [];
  const addDataset = (name: string): DatasetSummary => {
    const tally = (role: string) => Object.fromEntries(CLASSES.map((c) => [c, images.filter((im) => im.role === role && im.label === c).length]));
    const d: DatasetSummary = {
      id: datasets.length + 1,
      name,
      createdAt: new Date(Date.now() - 86_400_000).toISOString(),
      classes: CLASSES,
      folders: [
        { id: 1, path: `${ROOT}/labeled`, role: 'labeled' },
        { id: 2, path: `${ROOT}/unlabeled`, role: 'unlabeled' },
        { id: 3, path: `${ROOT}/val`, role: 'val' },
      ],
      labeled: tally('labeled'),
      unlabeled: images.filter((im) => im.role === 'unlabeled').length,
      val: tally('val'),
      skipped: [
        { file: `${ROOT}/unlabeled/notes.txt`, reason: 'not an image (extension .txt)' },
        { file: `${ROOT}/unlabeled/broken.jpg`, reason: 'cannot decode: premature end of JPEG data' },
      ],
    };
    datasets.push(d);
    return d;
  };
  addDataset('catdog');

  const teachers: TeacherRecord[] = [
    {
      id: 1,
      name: 'resnet18-teacher',
      kind: 'trained',
      arch: 'resnet18',
      inputSize: 96,
      classes: CLASSES,
      datasetId: 1,
      valAccuracy: 0.912,
      modelDir: '/home/.distill/teachers/1',
      createdAt: new Date(Date.now() - 3_600_000).toISOString(),
      perClass: { cat: 0.904, dog: 0.92 },
    },
  ];
  const minings: MiningRecord[] = [
    {
      id: 1,
      datasetId: 1,
      teacherId: 1,
      perClass: 500,
      minConfidence: 0.5,
      selected: 1000,
      perClassSelected: { cat: 500, dog: 500 },
      shortfall: { cat: 0, dog: 0 },
      excludedDuplicates: 3,
      createdAt: new Date().toISOString(),
    },
  ];

  const runs: RunRecord[] = [];
  const sweeps: { record: SweepRecord; runs: { id: number; values: SweepValues }[] }[] = [];
  const metrics = new Map<number, MetricRow[]>();
  const checkpoints = new Map<number, CheckpointRecord[]>();
  let metricId = 1;
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const emit = <E extends EventName>(event: E, payload: EventPayload<E>) => {
    for (const l of listeners.get(event) ?? []) l(structuredClone(payload));
  };

  const stepsPerEpoch = 40;
  const makeRows = (run: RunRecord, step: number): MetricRow[] => {
    const epoch = step / stepsPerEpoch;
    const t = Date.now();
    const seed = run.id * 1000 + step;
    const base = (run.method === 'ssld' ? 0.55 : 0.7) * Math.exp(-epoch / 3) + 0.12;
    const rows: MetricRow[] = [];
    const push = (name: string, value: number, scope: 'step' | 'epoch' = 'step', model = 0) =>
      rows.push({ id: metricId++, runId: run.id, model, scope, step, epoch, name, value, time: t });
    const noise = () => (rand(seed) - 0.5) * 0.15;
    if (run.method === 'ssld') {
      push('loss/ce', base * 0.4 + noise() * 0.5);
      push('loss/ssld', base * 0.6 + noise());
    } else if (run.method === 'dml') {
      push('loss/ce', base + noise());
      push('loss/dml', base * 0.3 + noise() * 0.3);
      push('loss/ce', base * 1.1 + noise(), 'step', 1);
    } else push('loss/ce', base + noise());
    const lr = run.config.optim.lr * 0.5 * (1 + Math.cos((Math.PI * step) / (run.config.epochs * stepsPerEpoch)));
    push('lr', lr);
    push('img_per_sec', 180 + rand(seed + 1) * 30);
    if (step % stepsPerEpoch === 0) {
      const acc = Math.min(0.97, (run.method === 'ssld' ? 0.93 : 0.86) - 0.35 * Math.exp(-epoch / 2) + (rand(seed + 2) - 0.5) * 0.02);
      push('val_accuracy', acc, 'epoch');
      push('mem/rss_mb', 880 + 40 * Math.min(epoch, 2) + rand(seed + 3) * 12, 'epoch');
      push('mem/wasm_heap_mb', 320 + 16 * Math.min(epoch, 1), 'epoch');
      push('mem/tensors', 412, 'epoch');
      if (run.teacherId !== null) {
        push('teacher_js', 0.2 * Math.exp(-epoch / 3) + 0.02, 'epoch');
        push('teacher_kl', 0.5 * Math.exp(-epoch / 3) + 0.05, 'epoch');
      }
    }
    return rows;
  };

  const newRun = (config: RunConfig, status: RunRecord['status']): RunRecord => {
    const id = runs.length + 1;
    const run: RunRecord = {
      id,
      name: config.name,
      datasetId: 1,
      teacherId: config.teacher ? 1 : null,
      method: config.method,
      config,
      status,
      backend,
      error: null,
      flags: config.method === 'ssld' ? ['teacher cache: views'] : [],
      epochsDone: 0,
      bestValAccuracy: null,
      lastValAccuracy: null,
      imgPerSec: null,
      params: !('arch' in config.student) ? 450_000 : config.student.arch === 'refnet' ? 138_050 : config.student.arch === 'resnet18' ? 11_177_538 : 398_690,
      createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      finishedAt: null,
      wallSeconds: null,
    };
    runs.push(run);
    metrics.set(id, []);
    checkpoints.set(id, []);
    return run;
  };

  const advance = (run: RunRecord, step: number) => {
    const rows = makeRows(run, step);
    metrics.get(run.id)!.push(...rows);
    const acc = rows.find((r) => r.name === 'val_accuracy');
    run.imgPerSec = rows.find((r) => r.name === 'img_per_sec')?.value ?? run.imgPerSec;
    if (acc) {
      run.epochsDone = Math.round(step / stepsPerEpoch);
      run.lastValAccuracy = acc.value;
      run.bestValAccuracy = Math.max(run.bestValAccuracy ?? 0, acc.value);
      checkpoints.get(run.id)!.push({
        id: step,
        runId: run.id,
        epoch: run.epochsDone,
        step,
        dir: `/home/.distill/runs/${run.id}/ckpt-${run.epochsDone}`,
        valAccuracy: acc.value,
        createdAt: new Date().toISOString(),
      });
    }
    return rows;
  };

  for (const [method, teacher] of [
    ['ce', undefined],
    ['ssld', 'resnet18-teacher'],
  ] as const) {
    const cfg = RunConfig.parse({ ...defaultRunConfig(method, 'catdog', teacher), name: `${method}-baseline`, epochs: 8 });
    const run = newRun(cfg, 'completed');
    for (let s = 1; s <= cfg.epochs * stepsPerEpoch; s++) advance(run, s);
    run.wallSeconds = 412 + run.id * 30;
    run.finishedAt = new Date().toISOString();
  }

  {
    // A run its watchdog stopped mid-epoch 4: the Run page offers Resume.
    const cfg = RunConfig.parse({ ...defaultRunConfig('ssld', 'catdog', 'resnet18-teacher'), name: 'ssld-long', epochs: 8 });
    const run = newRun(cfg, 'stalled');
    for (let s = 1; s <= 3 * stepsPerEpoch + 17; s++) advance(run, s);
    run.error = 'stalled: no progress for 75 s (limit 60 s) in phase train, epoch 4, step 137; resume with: distill run --resume 3';
    run.wallSeconds = 301;
    run.finishedAt = new Date().toISOString();
  }

  const jobs = new Map<string, JobInfo>();
  let jobSeq = 1;
  const startJob = (kind: JobInfo['kind'], ms: number, done: () => unknown): JobInfo => {
    const job: JobInfo = { id: `job-${jobSeq++}`, kind, status: 'running', progress: 0, message: 'starting' };
    jobs.set(job.id, job);
    const t0 = Date.now();
    const tick = setInterval(() => {
      const p = Math.min(1, (Date.now() - t0) / ms);
      job.progress = p;
      job.message = p < 1 ? `${kind}: ${Math.round(p * 100)}%` : `${kind} done`;
      if (p >= 1) {
        clearInterval(tick);
        job.result = done();
        job.status = 'done';
      }
      emit('job.progress', { ...job });
    }, 200);
    return { ...job };
  };

  const live = (run: RunRecord) => {
    let step = 0;
    const total = run.config.epochs * stepsPerEpoch;
    const tick = setInterval(() => {
      if (run.status === 'paused') return;
      if (run.status !== 'running') return clearInterval(tick);
      step++;
      const rows = advance(run, step);
      emit('run.metrics', { runId: run.id, rows });
      if (step % stepsPerEpoch === 0) emit('run.status', { ...run });
      if (step >= total) {
        run.status = 'completed';
        run.finishedAt = new Date().toISOString();
        run.wallSeconds = total * 0.15;
        emit('run.status', { ...run });
        clearInterval(tick);
      }
    }, 150);
  };

  const flatten = (v: unknown, prefix = ''): Record<string, unknown> => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { [prefix]: v };
    return Object.entries(v).reduce<Record<string, unknown>>((acc, [k, x]) => ({ ...acc, ...flatten(x, prefix ? `${prefix}.${k}` : k) }), {});
  };

  const confusionOf = (run: RunRecord) => {
    if (run.status !== 'completed') return null;
    const acc = run.bestValAccuracy ?? 0.8;
    const vals = images.filter((im) => im.role === 'val').length / 2;
    const right = Math.round(vals * acc);
    return { classes: CLASSES, matrix: [[right, vals - right + 3], [vals - right - 3, right]] };
  };

  const studentPred = (im: MockImage, runId: number) => {
    const flip = rand(im.id * 31 + runId) < 0.12;
    const p = im.teacherProbs[0]! * 0.8 + 0.1;
    const probs = flip ? [1 - p, p] : [p, 1 - p];
    return { label: probs[0]! >= probs[1]! ? 'cat' : 'dog', conf: Math.max(...probs), probs };
  };

  const handlers: { [M in MethodName]: (p: z_in<M>) => unknown } = {
    'app.info': () => ({ version: '0.1.0-dev', backend, home: '/home/.distill' }),
    'datasets.list': () => datasets,
    'datasets.get': (p) => datasets.find((d) => d.id === Number(p.id) || d.name === p.id) ?? fail('no such dataset'),
    'datasets.inspectFolder': (p) => {
      const base = p.path.replace(/\/+$/, '').split('/').pop() ?? '';
      const flat = /unlabeled|pool|raw/i.test(base);
      return { path: p.path, role: flat ? 'unlabeled' : 'labeled', classes: flat ? [] : CLASSES, images: flat ? 2000 : base === 'val' ? 1000 : 200 };
    },
    'datasets.create': (p) => startJob('import', 3000, () => addDataset(p.name)),
    'datasets.rescan': () => startJob('import', 1500, () => ({})),
    'datasets.remove': (p) => {
      const i = datasets.findIndex((d) => d.id === Number(p.id));
      if (i >= 0) datasets.splice(i, 1);
      return { ok: true };
    },
    'images.query': (q) => {
      let list = images.filter(
        (im) =>
          (!q.role || im.role === q.role) &&
          (!q.label || im.label === q.label) &&
          (!q.teacherLabel || im.teacherLabel === q.teacherLabel) &&
          (q.confidenceMin === undefined || (im.teacherConfidence ?? 0) >= q.confidenceMin) &&
          (q.confidenceMax === undefined || (im.teacherConfidence ?? 0) <= q.confidenceMax) &&
          (q.mined === undefined || im.mined === q.mined),
      );
      let rows: ImageRow[] = list;
      if (q.run !== undefined) {
        rows = list
          .filter((im) => im.role === 'val')
          .map((im) => {
            const s = studentPred(im, Number(q.run));
            return { ...im, predictedLabel: s.label, predictedConfidence: s.conf };
          })
          .filter(
            (im) =>
              (!q.trueLabel || im.label === q.trueLabel) &&
              (!q.predictedLabel || im.predictedLabel === q.predictedLabel) &&
              (!q.mistakesOnly || im.predictedLabel !== im.label),
          );
      }
      const conf = (r: ImageRow) => r.predictedConfidence ?? r.teacherConfidence ?? 0;
      if (q.sort === 'confidence-desc') rows = [...rows].sort((a, b) => conf(b) - conf(a));
      if (q.sort === 'confidence-asc') rows = [...rows].sort((a, b) => conf(a) - conf(b));
      list = [];
      const offset = q.offset ?? 0;
      return {
        total: rows.length,
        items: rows.slice(offset, offset + (q.limit ?? 200)).map((r) => {
          const { truth: _t, teacherProbs: _p, ...row } = r as MockImage;
          return row;
        }),
      };
    },
    'images.detail': (p) => {
      const im = images[p.id - 1] ?? fail('no such image');
      const { truth: _t, teacherProbs, ...image } = im;
      return {
        image,
        probabilities: [
          { source: 'teacher resnet18-teacher', classes: CLASSES, probs: teacherProbs },
          ...runs.filter((r) => r.status === 'completed').map((r) => ({ source: `#${r.id} ${r.name}`, classes: CLASSES, probs: studentPred(im, r.id).probs })),
        ],
      };
    },
    'teachers.list': () => teachers,
    'teachers.train': (p) =>
      startJob('teacher-train', 4000, () => {
        const t: TeacherRecord = { ...teachers[0]!, id: teachers.length + 1, name: p.name, arch: p.arch, inputSize: p.size ?? 96, valAccuracy: 0.88, createdAt: new Date().toISOString() };
        teachers.push(t);
        return { teacher: t.id, valAccuracy: t.valAccuracy };
      }),
    'teachers.backbones': () => [{ name: 'mobilenet_v1_075', inputSize: 224, featureDim: 768, featureLayer: 'global_average_pooling2d_1', license: 'Apache-2.0 (Google, tfjs-models)' }],
    'teachers.trainBackbone': (p) =>
      startJob('teacher-train', 4000, () => {
        const perClass = Object.fromEntries(CLASSES.map((c, i) => [c, 0.97 - i * 0.01]));
        const t: TeacherRecord = { ...teachers[0]!, id: teachers.length + 1, name: p.name, arch: `${p.backbone}+${p.head}`, inputSize: 224, valAccuracy: 0.965, perClass, createdAt: new Date().toISOString() };
        teachers.push(t);
        return { teacher: t.id, valAccuracy: t.valAccuracy, perClass, seconds: 41.2 };
      }),
    'teachers.import': (p) => {
      const t: TeacherRecord = { ...teachers[0]!, id: teachers.length + 1, name: p.name, kind: 'imported', classes: p.classes, valAccuracy: null, perClass: null, modelDir: p.path };
      teachers.push(t);
      return t;
    },
    'mining.list': (p) => minings.filter((m) => m.datasetId === Number(p.dataset)),
    'mining.run': () => startJob('mine', 2500, () => ({ mining: 1 })),
    'runs.list': () => runs,
    'runs.get': (p) => {
      const run = runs.find((r) => r.id === Number(p.id)) ?? fail('no such run');
      const left = run.status === 'running' ? ((run.config.epochs - run.epochsDone) * stepsPerEpoch * 0.15) : null;
      return { run, checkpoints: checkpoints.get(run.id) ?? [], etaSeconds: left };
    },
    'runs.start': (p) => {
      const run = newRun(RunConfig.parse(p.config), 'running');
      live(run);
      setTimeout(() => emit('run.status', { ...run }), 10);
      return run;
    },
    'runs.pause': (p) => setStatus(Number(p.id), 'paused'),
    'runs.resume': (p) => setStatus(Number(p.id), 'running'),
    'runs.cancel': (p) => setStatus(Number(p.id), 'cancelled'),
    'runs.metrics': (p) => (metrics.get(Number(p.id)) ?? []).filter((r) => r.id > (p.afterId ?? 0)),
    'runs.confusion': (p) => confusionOf(runs.find((r) => r.id === Number(p.id)) ?? fail('no such run')),
    'runs.compare': (p) => {
      const sel = p.ids.map((id) => runs.find((r) => r.id === Number(id)) ?? fail(`no run ${id}`));
      const flats = sel.map((r) => flatten(r.config));
      const keys = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
      return {
        runs: sel,
        configDiff: keys.map((k) => {
          const values = flats.map((f) => f[k]);
          return { path: k, values, differs: new Set(values.map((v) => JSON.stringify(v))).size > 1 };
        }),
        confusions: sel.map(confusionOf),
      };
    },
    'sweeps.list': () => sweeps.map((s) => s.record),
    'sweeps.get': (p) => {
      const s = sweeps.find((x) => x.record.id === p.id) ?? fail(`sweep ${p.id} not found`);
      const rows = s.runs.map(({ id, values }) => {
        const r = runs.find((x) => x.id === id)!;
        return { run: id, name: r.name, status: r.status, values, valAccuracy: r.lastValAccuracy, bestValAccuracy: r.bestValAccuracy };
      });
      return { sweep: s.record, runs: rows, best: bestOf(rows) };
    },
    'sweeps.start': (p) => {
      const base = RunConfig.parse(p.config);
      const points = expandSweep(base, p.grid);
      const record: SweepRecord = { id: sweeps.length + 1, name: base.name, baseConfig: base, grid: p.grid, status: 'running', error: null, createdAt: new Date().toISOString(), finishedAt: null };
      // The mock trains nothing: every point starts at once and the live-run simulation drives it.
      const members = points.map((pt) => {
        const run = newRun(pt.config, 'running');
        live(run);
        return { id: run.id, values: pt.values };
      });
      sweeps.push({ record, runs: members });
      return record;
    },
    'runs.agreement': (p) => {
      const run = runs.find((r) => r.id === Number(p.id)) ?? fail('no such run');
      const dis = images
        .filter((im) => im.role !== 'labeled' && studentPred(im, run.id).label !== im.teacherLabel)
        .slice(0, 60)
        .map((im) => ({ im, s: studentPred(im, run.id) }));
      return {
        run: run.id,
        teacher: 1,
        val: { agree: 912, n: 1000 },
        unlabeled: { agree: 1815, n: 2000 },
        disagreements: dis.map(({ im: { truth: _t, teacherProbs: _p, ...row }, s }) => ({ ...row, predictedLabel: s.label, predictedConfidence: s.conf })),
      };
    },
    'runs.export': (p) =>
      startJob('export', 2000, () => ({
        files: [
          { path: `/home/.distill/exports/run-${p.id}/model.json`, bytes: 18_204 },
          { path: `/home/.distill/exports/run-${p.id}/group1-shard1of1.bin`, bytes: p.quantize === 'int8' ? 140_120 : 552_200 },
        ],
        bytes: p.quantize === 'int8' ? 158_324 : 570_404,
        maxAbsDiff: p.quantize === 'none' ? 2.4e-7 : 3.1e-3,
      })),
    'images.gradCam': (p) =>
      startJob('explain', 1500, () => {
        const blob = (cx: number, cy: number) => Array.from({ length: 7 }, (_, y) => Array.from({ length: 7 }, (_, x) => Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4)));
        return {
          image: `image-${p.id}.jpg`,
          classes: ['cat', 'dog'],
          run: p.run ?? 1,
          student: { label: 'cat', classIndex: 0, probs: [0.81, 0.19], cam: blob(2.5, 3).slice(0, 3).map((r) => r.slice(0, 3)) },
          teacher: { name: 'teacher', label: 'cat', classIndex: 0, probs: [0.97, 0.03], cam: blob(3, 3) },
        };
      }),
    'runs.plan': () =>
      startJob('recipe', 2500, () => ({
        student: { slim: 'mobilenet_v1_075', width: 0.5, inputSize: 128 },
        epochs: 12,
        expectedMinutes: 18.4,
        feature: null,
        hint: null,
        teacherImgPerSec: 41,
        teacherCache: 'views',
        views: 4,
        table: [
          { student: { slim: 'mobilenet_v1_075', width: 0.5, inputSize: 128 }, params: 467_546, trainImgPerSec: 38, epochs: 12, verdict: 'chosen' },
          { student: { arch: 'mobilenet_v2', width: 0.35, inputSize: 96 }, params: 398_690, trainImgPerSec: 61, epochs: 20, verdict: 'fits; a stronger one was chosen' },
        ],
      })),
    'runs.exportCheck': () => startJob('export', 3000, () => ({ checks: [], failures: [] })),
    'runs.exports': (p) => {
      const cell = (id: number, format: 'tfjs' | 'onnx' | 'tflite', quantize: 'none' | 'float16' | 'int8', scale: number) => ({
        id, runId: Number(p.id), kind: 'check' as const, format, quantize, dir: null, bytes: Math.round(1_610_000 * scale), n: 1000,
        accuracy: 0.9 - (quantize === 'int8' ? 0.004 : 0), agreement: quantize === 'int8' ? 0.991 : 1, maxAbsDiff: quantize === 'none' ? 3e-7 : quantize === 'float16' ? 8e-4 : 0.03,
        msPerImage: format === 'tflite' ? 1.2 : format === 'onnx' ? 0.9 : 4.1, warning: null, createdAt: '2026-01-01T00:00:00Z',
      });
      const scales = { none: 1, float16: 0.5, int8: 0.27 } as const;
      const checks = (['tfjs', 'onnx', 'tflite'] as const).flatMap((f, i) => (['none', 'float16', 'int8'] as const).map((q, j) => cell(i * 3 + j + 1, f, q, scales[q])));
      return { checks, exports: [{ ...checks[8]!, id: 20, kind: 'export' as const, dir: `/home/.distill/exports/run-${p.id}-tflite-int8` }] };
    },
    'jobs.list': () => [...jobs.values()],
    'jobs.get': (p) => jobs.get(p.id) ?? fail('no such job'),
  };

  function setStatus(id: number, status: RunRecord['status']): RunRecord {
    const run = runs.find((r) => r.id === id) ?? fail('no such run');
    run.status = status;
    emit('run.status', { ...run });
    return run;
  }

  const mock: DistillApi & { thumbUrl(id: number): string; imageUrl(id: number): string; fileUrl(path: string): string } = {
    // Served by the dev plugin in vite.renderer.config.ts.
    thumbUrl: (id) => `/media/thumb/${id}`,
    imageUrl: (id) => `/media/thumb/${id}`,
    fileUrl: (path) => `/media/file?path=${encodeURIComponent(path.slice(ROOT.length + 1).replace(/#\d+$/, ''))}`,
    async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
      await new Promise((r) => setTimeout(r, 30));
      const parsed = api[method].input.parse(params) as z_in<M>;
      const handler = handlers[method] as (p: z_in<M>) => unknown;
      return structuredClone(handler(parsed)) as Result<M>;
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const l = listener as (p: unknown) => void;
      set.add(l);
      return () => set.delete(l);
    },
  };
  (globalThis as { distill?: DistillApi }).distill = mock;
}

/** A method's params after its schema applied defaults. */
type z_in<M extends MethodName> = import('zod').infer<(typeof api)[M]['input']>;

function fail(message: string): never {
  throw new Error(message);
}
