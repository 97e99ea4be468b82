// SSLD's class-balanced mining: each unlabeled image goes to the teacher's argmax class; each class
// keeps its K most confident images (at least minConfidence). Images whose content duplicates a val
// image are excluded first, so validation never leaks into training. Ties break by image id, so the
// selection is reproducible.
export interface MiningCandidate {
  imageId: number;
  hash: string;
  probs: ArrayLike<number>;
}

export interface MinedImage {
  imageId: number;
  label: number;
  confidence: number;
  rank: number;
}

export interface MiningSelection {
  selected: MinedImage[];
  perClass: number[];
  /** How many each class falls short of K (0 where it was filled). */
  shortfall: number[];
  excludedDuplicates: number;
  belowConfidence: number;
}

export function selectTopKPerClass(
  candidates: MiningCandidate[],
  classes: number,
  perClass: number,
  minConfidence: number,
  excludeHashes: ReadonlySet<string>,
): MiningSelection {
  const buckets: MinedImage[][] = Array.from({ length: classes }, () => []);
  let excludedDuplicates = 0;
  let belowConfidence = 0;
  for (const c of candidates) {
    if (excludeHashes.has(c.hash)) {
      excludedDuplicates++;
      continue;
    }
    let best = 0;
    for (let k = 1; k < classes; k++) if (c.probs[k]! > c.probs[best]!) best = k;
    const confidence = c.probs[best]!;
    if (confidence < minConfidence) {
      belowConfidence++;
      continue;
    }
    buckets[best]!.push({ imageId: c.imageId, label: best, confidence, rank: 0 });
  }
  const selected: MinedImage[] = [];
  const counts: number[] = [];
  const shortfall: number[] = [];
  for (const bucket of buckets) {
    bucket.sort((a, b) => b.confidence - a.confidence || a.imageId - b.imageId);
    const kept = bucket.slice(0, perClass);
    kept.forEach((m, i) => (m.rank = i));
    selected.push(...kept);
    counts.push(kept.length);
    shortfall.push(Math.max(0, perClass - kept.length));
  }
  return { selected, perClass: counts, shortfall, excludedDuplicates, belowConfidence };
}
