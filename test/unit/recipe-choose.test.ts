import { describe, expect, it } from 'vitest';
import { chooseRecipe, MAX_EPOCHS, parseParamBudget, type RecipeCandidate } from '../../src/main/engine/recipe/choose.js';

const slim = (width: number, inputSize: number, params: number, ips: number): RecipeCandidate => ({ student: { slim: 'bb', width, inputSize }, params, trainImgPerSec: ips, pretrained: true });
const v2 = (width: number, params: number, ips: number): RecipeCandidate => ({ student: { arch: 'mobilenet_v2', width, inputSize: 96 }, params, trainImgPerSec: ips, pretrained: false });
const budget = { maxParams: 500_000, minutes: 20, trainImages: 8000, overheadSeconds: 100, evalSecondsPerEpoch: 10 };

describe('default recipe rule', () => {
  it('picks the strongest pretrained student within the parameter budget that gets its minimum epochs', () => {
    const c = [slim(0.25, 96, 150_000, 120), slim(0.5, 96, 460_000, 60), slim(0.5, 128, 460_000, 30), slim(1, 96, 1_800_000, 20), v2(0.35, 400_000, 100)];
    const r = chooseRecipe(c, budget);
    // slim 0.5 @128: (1200 − 100) / (8000/30 + 10) = 3.97 → 3 epochs ≥ 2; larger params than ×0.25, larger input than @96.
    expect(r.candidate).toBe(c[2]);
    expect(r.epochs).toBe(3);
    expect(r.expectedSeconds).toBeCloseTo(100 + 3 * (8000 / 30 + 10), 6);
    expect(r.table.find((t) => t.student === c[3]!.student)!.verdict).toMatch(/parameter budget/);
  });

  it('skips a candidate too slow for its minimum epochs, caps epochs, and falls back to the fastest', () => {
    const slow = slim(0.5, 128, 460_000, 10); // (1200−100)/(800+10) → 1 epoch < 2
    const fast = slim(0.25, 96, 150_000, 2000);
    const r = chooseRecipe([slow, fast], budget);
    expect(r.candidate).toBe(fast);
    expect(r.epochs).toBe(MAX_EPOCHS);
    const none = chooseRecipe([v2(0.35, 400_000, 5), v2(0.5, 450_000, 4)], budget);
    expect(none.candidate.trainImgPerSec).toBe(5);
    expect(none.epochs).toBe(1);
    expect(() => chooseRecipe([v2(1, 2_000_000, 50)], budget)).toThrow(/at most 500000 parameters/);
  });

  it('parses parameter budgets', () => {
    expect(parseParamBudget('0.5M')).toBe(500_000);
    expect(parseParamBudget('250k')).toBe(250_000);
    expect(parseParamBudget('123456')).toBe(123_456);
    expect(() => parseParamBudget('lots')).toThrow(/--params.*"lots"/);
  });
});
