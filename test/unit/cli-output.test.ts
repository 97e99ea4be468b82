// Quiet, useful progress: JSON progress lines at most ~4 a second whatever the caller emits, with each
// phase's first and last line always kept; other events and the result are never dropped.
import { describe, expect, it } from 'vitest';
import { createOutput, JSON_PROGRESS_MS } from '../../src/main/cli/output.js';

function capture(json: boolean) {
  const lines: string[] = [];
  let t = 0;
  const out = createOutput(json, (s) => lines.push(s.trimEnd()), () => t);
  return { out, lines, advance: (ms: number) => (t += ms) };
}

describe('CLI output', () => {
  it('JSON: 12,000 per-image progress events over 3 s give at most ~4 lines a second, first and last kept', () => {
    const { out, lines, advance } = capture(true);
    const total = 12_000;
    for (let done = 1; done <= total; done++) {
      out.event({ type: 'progress', phase: 'import-hash', done, total });
      advance(0.25); // 12,000 images in 3 s
    }
    out.result({ dataset: 1 });
    const progress = lines.map((l) => JSON.parse(l) as { type?: string; done?: number }).filter((o) => o.type === 'progress');
    expect(progress.length).toBeLessThanOrEqual(3 * (1000 / JSON_PROGRESS_MS) + 2);
    expect(progress.length).toBeGreaterThanOrEqual(3 * (1000 / JSON_PROGRESS_MS) - 1);
    expect(progress[0]!.done).toBe(1);
    expect(progress.at(-1)!.done).toBe(total);
    expect(JSON.parse(lines.at(-1)!)).toEqual({ dataset: 1 });
  });

  it('a new phase passes at once; info events are never throttled', () => {
    const { out, lines, advance } = capture(true);
    out.event({ type: 'progress', phase: 'train', message: 'teacher soft labels', done: 1, total: 10 });
    out.event({ type: 'progress', phase: 'train', message: 'teacher soft labels', done: 2, total: 10 });
    out.event({ type: 'info', message: 'a' });
    out.event({ type: 'progress', phase: 'train', message: 'epoch 1/2', done: 1, total: 10 });
    out.event({ type: 'info', message: 'b' });
    advance(JSON_PROGRESS_MS);
    out.event({ type: 'progress', phase: 'train', message: 'epoch 1/2', done: 3, total: 10 });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { type: 'progress', phase: 'train', message: 'teacher soft labels', done: 1, total: 10 },
      { type: 'info', message: 'a' },
      { type: 'progress', phase: 'train', message: 'epoch 1/2', done: 1, total: 10 },
      { type: 'info', message: 'b' },
      { type: 'progress', phase: 'train', message: 'epoch 1/2', done: 3, total: 10 },
    ]);
  });

  it('human lines: at most one progress line a second', () => {
    const { out, lines, advance } = capture(false);
    for (let done = 1; done <= 100; done++) {
      out.event({ type: 'progress', phase: 'eval', done, total: 100 }, `evaluating ${done}/100`);
      advance(50);
    }
    expect(lines.length).toBeLessThanOrEqual(7);
    expect(lines[0]).toBe('evaluating 1/100');
    expect(lines.at(-1)).toBe('evaluating 100/100');
  });
});
