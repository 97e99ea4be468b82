// The PyTorch yardstick: runs ../shared/bench/torch_ref.py (Debian's python3-torch) with the same
// nets, size and batch, so that `distill bench` can print ours ÷ theirs measured on the same machine
// in the same run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './run-bench.js';
import { type BenchLine, type BenchOptions, ComparedLine, TorchLine } from './types.js';

const PYTHON = '/usr/bin/python3';
/** ../shared/bench/torch_ref.py next to the repository. */
export const TORCH_REF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../shared/bench/torch_ref.py');

export interface TorchOptions extends BenchOptions {
  threads: number;
  /** Defaults: /usr/bin/python3 and TORCH_REF. */
  python?: string;
  script?: string;
}

/** null when the yardstick can run here, else why not. */
export function torchUnavailable(opts: { python?: string; script?: string } = {}): string | null {
  const python = opts.python ?? PYTHON;
  const script = opts.script ?? TORCH_REF;
  if (!fs.existsSync(python)) return `${python} not found`;
  if (!fs.existsSync(script)) return `${script} not found`;
  return null;
}

/**
 * Runs torch_ref.py `repeats` times (default 1) and yields, per net, the line with the median
 * figures. Throws with the script's stderr if it fails (e.g. python3-torch not installed).
 */
export async function* runTorchRef(opts: TorchOptions): AsyncIterable<TorchLine> {
  const why = torchUnavailable(opts);
  if (why) throw new Error(`PyTorch reference unavailable: ${why}`);
  const runs: TorchLine[][] = [];
  for (let r = 0; r < (opts.repeats ?? 1); r++) runs.push(await runOnce(opts));
  for (const net of opts.nets) {
    const lines = runs.map((run) => run.find((l) => l.net === net)).filter((l): l is TorchLine => l !== undefined);
    if (lines.length === 0) throw new Error(`torch_ref.py printed no line for ${net}`);
    yield {
      ...lines[0]!,
      infer_img_s: median(lines.map((l) => l.infer_img_s)),
      train_img_s: median(lines.map((l) => l.train_img_s)),
    };
  }
}

function runOnce(opts: TorchOptions): Promise<TorchLine[]> {
  const args = [
    opts.script ?? TORCH_REF,
    '--size', String(opts.size),
    '--batch', String(opts.batch),
    '--iters', String(opts.iters),
    '--threads', String(opts.threads),
    '--nets', opts.nets.join(','),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(opts.python ?? PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        const last = err.trim().split('\n').pop() ?? '';
        reject(new Error(`torch_ref.py exited with ${code}: ${last}`));
        return;
      }
      try {
        resolve(
          out
            .split('\n')
            .filter((l) => l.trim().startsWith('{'))
            .map((l) => TorchLine.parse(JSON.parse(l))),
        );
      } catch (e) {
        reject(new Error(`torch_ref.py printed an unexpected line: ${(e as Error).message}`));
      }
    });
  });
}

/** Our line with PyTorch's figures and the ratios ours ÷ PyTorch (rounded to 0.01). */
export function compareWithTorch(ours: BenchLine, torch: TorchLine): ComparedLine {
  if (ours.net !== torch.net || ours.size !== torch.size || ours.batch !== torch.batch) {
    throw new Error(`comparing different runs: ${ours.net}@${ours.size}/${ours.batch} vs ${torch.net}@${torch.size}/${torch.batch}`);
  }
  return ComparedLine.parse({
    ...ours,
    torch_infer_img_s: torch.infer_img_s,
    torch_train_img_s: torch.train_img_s,
    torch_engine: torch.engine,
    infer_ratio: Math.round((ours.infer_img_s / torch.infer_img_s) * 100) / 100,
    train_ratio: Math.round((ours.train_img_s / torch.train_img_s) * 100) / 100,
  });
}

