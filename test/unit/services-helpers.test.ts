import { describe, expect, it } from 'vitest';
import { configDiff } from '../../src/shared/config-diff.js';
import { etaSeconds, stepsPerEpochFrom } from '../../src/main/services/eta.js';
import { parseCliLine, stderrMessage } from '../../src/main/services/cli-protocol.js';
import { RunConfig } from '../../src/shared/run-config.js';

describe('config diff (shared helper, as runs.compare uses it)', () => {
  it('lists every path of any config, one value per run, and marks differences', () => {
    const a = RunConfig.parse({ name: 'a', dataset: 'd', method: 'ce', student: { arch: 'refnet', inputSize: 64 }, epochs: 3 });
    const b = RunConfig.parse({
      name: 'b',
      dataset: 'd',
      method: 'dml',
      student: { arch: 'refnet', inputSize: 64 },
      peers: [{ arch: 'resnet18', inputSize: 64 }],
      epochs: 3,
      optim: { lr: 0.01 },
    });
    const diff = configDiff([a, b]);
    const row = (p: string) => diff.find((r) => r.path === p);
    expect(row('name')).toEqual({ path: 'name', values: ['a', 'b'], differs: true });
    expect(row('epochs')).toEqual({ path: 'epochs', values: [3, 3], differs: false });
    expect(row('optim.lr')).toEqual({ path: 'optim.lr', values: [0.002, 0.01], differs: true });
    expect(row('student.arch')!.differs).toBe(false);
    expect(row('peers[0].arch')).toEqual({ path: 'peers[0].arch', values: [undefined, 'resnet18'], differs: true });
    expect(diff.filter((r) => r.differs).map((r) => r.path)).toEqual(['method', 'name', 'optim.lr', 'peers[0].arch', 'peers[0].inputSize']);
  });
});

describe('ETA', () => {
  it('divides the steps left by the recent rate', () => {
    // 10 steps/s over the last 30 s; 500 left → 50 s.
    const samples = Array.from({ length: 31 }, (_, i) => ({ t: i * 1000, done: 200 + i * 10 }));
    expect(etaSeconds(samples, 1000)).toBeCloseTo((1000 - 500) / 10, 6);
  });

  it('ignores samples older than the window (a slow warm-up)', () => {
    const slow = Array.from({ length: 60 }, (_, i) => ({ t: i * 1000, done: i })); // 1 step/s for a minute
    const fast = Array.from({ length: 20 }, (_, i) => ({ t: 60_000 + (i + 1) * 1000, done: 59 + (i + 1) * 4 })); // then 4/s
    const eta = etaSeconds([...slow, ...fast], 400, 30_000)!;
    // window = the last 30 s, from t=50 s (step 50) to t=80 s (step 139): 89 steps / 30 s.
    const done = 59 + 80;
    expect(eta).toBeCloseTo(((400 - done) * 30) / 89, 6);
    // The whole history would give a much longer ETA (139 steps / 80 s).
    expect(etaSeconds([...slow, ...fast], 400, 1e9)!).toBeCloseTo(((400 - done) * 80) / 139, 6);
  });

  it('is null without a rate and 0 when done', () => {
    expect(etaSeconds([], 10)).toBeNull();
    expect(etaSeconds([{ t: 0, done: 1 }], 10)).toBeNull();
    expect(etaSeconds([{ t: 0, done: 1 }, { t: 1000, done: 1 }], 10)).toBeNull();
    expect(etaSeconds([{ t: 0, done: 1 }, { t: 1000, done: 10 }], 10)).toBe(0);
  });

  it('derives steps per epoch from epoch rows', () => {
    expect(stepsPerEpochFrom([{ step: 40, epoch: 0 }, { step: 80, epoch: 1 }])).toBe(40);
    expect(stepsPerEpochFrom([])).toBeNull();
  });
});

describe('CLI line protocol', () => {
  it('classifies lines', () => {
    expect(parseCliLine('{"type":"progress","phase":"train","done":3,"total":9,"message":"e1"}')).toEqual({
      kind: 'progress',
      line: { type: 'progress', phase: 'train', done: 3, total: 9, message: 'e1' },
    });
    expect(parseCliLine('{"type":"run","run":4}')).toEqual({ kind: 'run', run: 4 });
    expect(parseCliLine('{"error":"boom"}')).toEqual({ kind: 'error', message: 'boom' });
    // A result that happens to have an error field among others is a result.
    expect(parseCliLine('{"error":"x","run":1}')).toEqual({ kind: 'object', value: { error: 'x', run: 1 } });
    expect(parseCliLine('[1,2]')).toEqual({ kind: 'text', text: '[1,2]' });
    expect(parseCliLine('  ')).toBeNull();
  });

  it('finds the message in stderr', () => {
    expect(stderrMessage('warn\ndistill: run "x" not found\n')).toBe('run "x" not found');
    const crash = 'file:///x.js:3\n  throw new Error("oops")\n  ^\n\nError: oops\n    at foo (x.js:3:9)\n\nNode.js v20.1.0\n';
    expect(stderrMessage(crash)).toBe('Error: oops');
    expect(stderrMessage('Killed\n')).toBe('Killed');
    expect(stderrMessage('')).toBeNull();
  });
});
