// `distill bench`'s engine side: our throughput, the PyTorch yardstick, and the comparison.
export { median, runBench } from './run-bench.js';
export { compareWithTorch, runTorchRef, TORCH_REF, torchUnavailable, type TorchOptions } from './torch.js';
export { BenchLine, type BenchOptions, ComparedLine, TorchLine } from './types.js';
