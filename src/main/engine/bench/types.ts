// Records of `distill bench`: one line per net, ours and the PyTorch yardstick's.
import { z } from 'zod';

/** What both engines measure per net. */
const Throughput = z.object({
  net: z.string(),
  size: z.number().int(),
  batch: z.number().int(),
  params: z.number().int(),
  /** Images per second, median over the repeats. */
  infer_img_s: z.number(),
  train_img_s: z.number(),
});

export const BenchLine = Throughput.extend({
  /** The active candidate of the BackendReport (wasm, tensorflow, …). */
  backend: z.string(),
  threads: z.number().int(),
});
export type BenchLine = z.infer<typeof BenchLine>;

/** One line of ../shared/bench/torch_ref.py. */
export const TorchLine = Throughput.extend({ engine: z.string() });
export type TorchLine = z.infer<typeof TorchLine>;

/** Our line plus PyTorch's figures measured in the same run, and ours ÷ theirs. */
export const ComparedLine = BenchLine.extend({
  torch_infer_img_s: z.number(),
  torch_train_img_s: z.number(),
  torch_engine: z.string(),
  infer_ratio: z.number(),
  train_ratio: z.number(),
});
export type ComparedLine = z.infer<typeof ComparedLine>;

export interface BenchOptions {
  nets: string[];
  size: number;
  batch: number;
  /** Timed iterations per measurement (after one warm-up). */
  iters: number;
  /** Measurements per figure; the median is reported. Default 1. */
  repeats?: number;
  /** Classes of the benchmark head; torch_ref uses 2. */
  classes?: number;
}
