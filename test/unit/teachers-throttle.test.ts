// Feature-pass progress: at most one line per interval, the final one always.
import { describe, expect, it } from 'vitest';
import { throttleProgress } from '../../src/main/engine/teachers/throttle.js';

describe('throttleProgress', () => {
  it('drops lines closer than the interval but never the last one', () => {
    let t = 0;
    const seen: number[] = [];
    const report = throttleProgress((done) => seen.push(done), 250, () => t);
    for (let done = 1; done <= 100; done++) {
      t += 10; // a batch every 10 ms
      report(done, 100);
    }
    // t = 10 → first line; then every 25th call (250 ms); and done === total at the end.
    expect(seen).toEqual([1, 26, 51, 76, 100]);
  });
});
