import { describe, expect, it } from 'vitest';
import { selectTopKPerClass } from '../../src/main/engine/mining/select-top-k.js';

describe('selectTopKPerClass', () => {
  const cands = [
    { imageId: 1, hash: 'a', probs: [0.9, 0.1] },
    { imageId: 2, hash: 'b', probs: [0.6, 0.4] },
    { imageId: 3, hash: 'c', probs: [0.2, 0.8] },
    { imageId: 4, hash: 'd', probs: [0.95, 0.05] },
    { imageId: 5, hash: 'e', probs: [0.7, 0.3] },
    { imageId: 6, hash: 'val-dup', probs: [0.99, 0.01] },
    { imageId: 7, hash: 'g', probs: [0.7, 0.3] },
  ];

  it('keeps the K most confident per class, excluding val duplicates, ties by id', () => {
    const s = selectTopKPerClass(cands, 2, 3, 0, new Set(['val-dup']));
    const c0 = s.selected.filter((m) => m.label === 0).map((m) => m.imageId);
    expect(c0).toEqual([4, 1, 5]); // 0.95, 0.9, then 0.7 tie between 5 and 7 → lower id
    expect(s.selected.filter((m) => m.label === 1).map((m) => m.imageId)).toEqual([3]);
    expect(s.perClass).toEqual([3, 1]);
    expect(s.shortfall).toEqual([0, 2]);
    expect(s.excludedDuplicates).toBe(1);
  });

  it('applies the minimum confidence', () => {
    const s = selectTopKPerClass(cands, 2, 10, 0.75, new Set());
    expect(s.selected.map((m) => m.imageId).sort()).toEqual([1, 3, 4, 6]);
    expect(s.belowConfidence).toBe(3);
    expect(s.shortfall).toEqual([7, 9]);
  });
});
