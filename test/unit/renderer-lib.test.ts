// Pure helpers behind the renderer's charts and generated form, checked against hand-computed values.
import { describe as suite, expect, it } from 'vitest';
import { IMPLEMENTED_METHODS, METHODS, RunConfig, StoredRunConfig, defaultRunConfig } from '../../src/shared/run-config.js';
import { METHOD_INFO, unusedParams } from '../../src/shared/method-info.js';
import { emaSmooth } from '../../src/renderer/lib/ema.js';
import { SeriesBook, align, chartKind } from '../../src/renderer/lib/series.js';
import { describe, getAt, initialValue, issuesByPath, setAt, unionBranch, unionBranchName } from '../../src/renderer/lib/schema-form.js';
import { tickLabels } from '../../src/renderer/components/TimeChart.js';

suite('emaSmooth (TensorBoard debiased EMA)', () => {
  it('matches the debiased recurrence by hand', () => {
    const w = 0.5;
    // last1 = 0.5*0 + 0.5*2 = 1 → 1/(1-0.5) = 2; last2 = 0.5*1 + 0.5*4 = 2.5 → 2.5/(1-0.25) = 3.3333
    const out = emaSmooth([2, 4], w);
    expect(out[0]).toBeCloseTo(2, 12);
    expect(out[1]).toBeCloseTo(10 / 3, 12);
  });
  it('is the identity at 0, keeps a constant series constant, passes gaps through', () => {
    expect(emaSmooth([1, 5, 3], 0)).toEqual([1, 5, 3]);
    for (const v of emaSmooth([7, 7, 7, 7], 0.9)) expect(v).toBeCloseTo(7, 12);
    const g = emaSmooth([1, null, 3], 0.5);
    expect(g[1]).toBeNull();
    // The gap does not count: second value is the 2-sample debiased mean of 1 and 3 at w=.5 → (0.25+1.5)/0.75
    expect(g[2]).toBeCloseTo((0.25 + 1.5) / 0.75, 12);
  });
});

suite('metric series', () => {
  it('puts the trainer’s metric names on the right chart', () => {
    expect(chartKind({ name: 'val/accuracy', scope: 'epoch' })).toBe('accuracy');
    expect(chartKind({ name: 'val/teacher_accuracy', scope: 'epoch' })).toBe('accuracy');
    expect(chartKind({ name: 'lr', scope: 'step' })).toBe('lr');
    expect(chartKind({ name: 'img_per_sec', scope: 'step' })).toBe('speed');
    // Memory per epoch gets its own chart (RSS and WASM heap would otherwise land among the losses).
    for (const name of ['mem/rss_mb', 'mem/wasm_heap_mb', 'mem/tensors']) expect(chartKind({ name, scope: 'epoch' })).toBe('memory');
    expect(chartKind({ name: 'val/js_teacher', scope: 'epoch' })).toBe('divergence');
    expect(chartKind({ name: 'val/kl_teacher', scope: 'epoch' })).toBe('divergence');
    expect(chartKind({ name: 'loss/ssld', scope: 'step' })).toBe('loss');
    expect(chartKind({ name: 'loss', scope: 'step' })).toBe('loss');
    expect(chartKind({ name: 'train/ce', scope: 'epoch' })).toBe('loss');
    expect(chartKind({ name: 'train/js', scope: 'epoch' })).toBe('loss');
    expect(chartKind({ name: 'loss/js', scope: 'step' })).toBe('loss');
  });
  it('aligns series with different steps, null where one has no point', () => {
    expect(align([
      { x: [1, 3], y: [10, 30] },
      { x: [2, 3], y: [20, 31] },
    ])).toEqual([[1, 2, 3], [10, null, 30], [null, 20, 31]]);
  });
  it('a book ignores rows it has already seen and labels peers', () => {
    const book = new SeriesBook();
    const row = (id: number, model: number, step: number) => ({ id, runId: 1, model, scope: 'step' as const, step, epoch: step / 10, name: 'loss/ce', value: step, time: 0 });
    expect(book.add([row(1, 0, 1), row(2, 1, 1)])).toBe(true);
    expect(book.add([row(2, 1, 1)])).toBe(false);
    book.add([row(3, 0, 2)]);
    expect(book.series().map((s) => [s.label, s.x])).toEqual([
      ['loss/ce', [1, 2]],
      ['loss/ce (peer 1)', [1]],
    ]);
    expect(book.maxEpoch).toBeCloseTo(0.2);
  });
  it('tick labels carry as many decimals as the spacing needs', () => {
    expect(tickLabels([0, 0.0005, 0.001, 0.0015, 0.002], 0.0005, false)).toEqual(['0.0000', '0.0005', '0.0010', '0.0015', '0.0020']);
    expect(tickLabels([0, 0.25, 0.5], 0.25, true)).toEqual(['0%', '25%', '50%']);
    expect(tickLabels([20000], 10000, false)).toEqual(['20k']);
  });
});

suite('form generated from the run-config schema', () => {
  const root = describe(RunConfig);
  const field = (path: string) => {
    let node = root;
    for (const k of path.split('.')) {
      if (node.kind !== 'object') throw new Error(`${path}: ${node.kind}`);
      node = node.fields.find((f) => f.key === k)!;
    }
    return node;
  };
  it('reads kinds, bounds, options and defaults from the schema', () => {
    // The student is a union (built-in arch, pretrained "from", slimmed "slim"): the form switches branches.
    const student = field('student');
    if (student.kind !== 'union') throw new Error(`student: ${student.kind}`);
    expect(student.options.map((o) => (o.kind === 'object' ? o.fields.map((f) => f.key)[0] : o.kind))).toEqual(['arch', 'from', 'slim']);
    for (const branch of student.options) {
      if (branch.kind !== 'object') throw new Error('student branch is not an object');
      const size = branch.fields.find((f) => f.key === 'inputSize');
      expect(size).toMatchObject({ kind: 'number', int: true, min: 32, max: 224, optional: false });
    }
    expect(field('method')).toMatchObject({ kind: 'enum' });
    expect(field('method').kind === 'enum' && field('method')).toHaveProperty('options', [...METHODS]);
    expect(field('optim.lr')).toMatchObject({ kind: 'number', optional: true, defaultValue: 0.002, max: 10 });
    expect(field('loss.temperature')).toMatchObject({ kind: 'union', defaultValue: 1 });
    expect(field('peers')).toMatchObject({ kind: 'array', max: 7, optional: true });
    expect(field('data.mining')).toMatchObject({ kind: 'object', optional: true, defaultValue: undefined });
    expect(field('loss.weights')).toMatchObject({ kind: 'record' });
  });
  it('each trainable method has a one-line summary and only its own parameters, and its defaults are a valid config', () => {
    for (const m of IMPLEMENTED_METHODS) {
      expect(METHOD_INFO[m].summary.length).toBeGreaterThan(10);
      for (const p of METHOD_INFO[m].params) expect(unusedParams(m).has(p)).toBe(false);
      // the defaults of each method are a valid config
      expect(RunConfig.safeParse(defaultRunConfig(m, 'catdog', 'teacher')).success, m).toBe(true);
    }
    expect([...unusedParams('dkd')].sort()).toEqual(['loss.divergence', 'loss.featureLayers', 'loss.gamma', 'peers']);
    expect(unusedParams('ce').has('loss.temperature')).toBe(true);
    expect(unusedParams('at').has('loss.featureLayers')).toBe(false);
    // Every method in the schema trains today; a stored config of any of them stays readable.
    expect(METHODS.filter((x) => !(IMPLEMENTED_METHODS as readonly string[]).includes(x))).toEqual([]);
    for (const m of METHODS) expect(StoredRunConfig.safeParse(defaultRunConfig(m, 'catdog', 'teacher')).success, m).toBe(true);
  });
  it('a fresh optional group gets its required fields and defaults, valid for the schema', () => {
    const mining = field('data.mining');
    const v = initialValue({ ...mining, optional: false });
    expect(v).toEqual({ perClass: 1 });
    const cfg = setAt(defaultRunConfig('ce', 'catdog'), ['data', 'mining'], v);
    expect(RunConfig.safeParse(cfg).success).toBe(true);
  });
  it('setAt/getAt edit nested values immutably; undefined removes the key', () => {
    const a = { student: { arch: 'refnet', inputSize: 32 }, peers: [{ arch: 'refnet', inputSize: 32 }] };
    const b = setAt(a, ['peers', '0', 'inputSize'], 64);
    expect(getAt(b, ['peers', '0', 'inputSize'])).toBe(64);
    expect(a.peers[0]!.inputSize).toBe(32);
    expect(getAt(setAt(a, ['student', 'inputSize'], undefined), ['student'])).toEqual({ arch: 'refnet' });
  });
  it('schema issues land on the field they name', () => {
    const bad = { ...defaultRunConfig('kd', 'catdog'), student: { arch: 'refnet', inputSize: 8 } };
    const r = RunConfig.safeParse(bad);
    expect(r.success).toBe(false);
    const issues = issuesByPath(r.success ? null : r.error);
    expect(issues.get('student.inputSize')?.[0]).toMatch(/32/);
    expect(issues.get('teacher')?.[0]).toMatch(/needs a teacher/);
  });
  it('a union value selects its branch by shape', () => {
    const t = field('loss.temperature');
    if (t.kind !== 'union') throw new Error('not a union');
    expect(t.options[unionBranch(t, 4)]!.kind).toBe('number');
    expect(t.options[unionBranch(t, { start: 4, end: 1 })]!.kind).toBe('object');
  });
  it('a student selects the branch its keys name, and each branch is named by its first field', () => {
    const st = field('student');
    if (st.kind !== 'union') throw new Error('not a union');
    const firstKey = (v: unknown) => {
      const o = st.options[unionBranch(st, v)]!;
      return o.kind === 'object' ? o.fields[0]!.key : o.kind;
    };
    expect(firstKey({ arch: 'refnet', inputSize: 32 })).toBe('arch');
    expect(firstKey({ from: 'mobilenet_v1_075', inputSize: 128 })).toBe('from');
    expect(firstKey({ slim: 'mobilenet_v1_075', width: 0.5, inputSize: 128 })).toBe('slim');
    expect(st.options.map((o) => unionBranchName(st, o))).toEqual(['arch (width, inputSize)', 'from (featureLayer, inputSize)', 'slim (width, featureLayer, inputSize)']);
    const t = field('loss.temperature');
    if (t.kind !== 'union') throw new Error('not a union');
    expect(t.options.map((o) => unionBranchName(t, o))).toEqual(['fixed', 'schedule (start → end)']);
  });
});
