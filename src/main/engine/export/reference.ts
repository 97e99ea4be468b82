// A plain-JS interpreter of ExportGraph: straightforward loops, float64 accumulation, float32 values.
// The yardstick the writers are tested against, and the source of activation ranges for int8
// calibration. Slow by design (no tricks that could hide a layout mistake).
import type { Activation, ExportGraph, ExportOp, ValueName } from './graph.js';

export interface GraphRun {
  /** [n, classes] probabilities. */
  output: Float32Array;
  /** Every value by name ([n, ...shape]), when asked for. */
  values?: Map<ValueName, Float32Array>;
}

function activate(v: number, a: Activation): number {
  if (a === 'relu') return v > 0 ? v : 0;
  if (a === 'relu6') return v < 0 ? 0 : v > 6 ? 6 : v;
  return v;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Runs `graph` on `n` images `x` (NHWC float32, [0,255]). */
export function runGraph(graph: ExportGraph, x: Float32Array, n: number, options: { keepValues?: boolean } = {}): GraphRun {
  const inShape = graph.shapes[graph.input.name]!;
  if (x.length !== n * size(inShape)) throw new Error(`runGraph: input has ${x.length} values, expected ${n}×${inShape.join('×')}`);
  const values = new Map<ValueName, Float32Array>([[graph.input.name, x]]);
  const get = (v: ValueName): Float32Array => {
    const t = values.get(v);
    if (!t) throw new Error(`runGraph: value "${v}" is read before it is computed`);
    return t;
  };
  for (const op of graph.ops) {
    const outShape = graph.shapes[op.output];
    if (!outShape) throw new Error(`runGraph: no shape for "${op.output}"`);
    const y = new Float32Array(n * size(outShape));
    runOp(op, graph, get, y, n, outShape);
    values.set(op.output, y);
  }
  const output = get(graph.output.name);
  return options.keepValues ? { output, values } : { output };
}

function runOp(op: ExportOp, graph: ExportGraph, get: (v: ValueName) => Float32Array, y: Float32Array, n: number, os: number[]): void {
  switch (op.kind) {
    case 'affine': {
      const x = get(op.input);
      const c = graph.shapes[op.input]!.at(-1)!;
      for (let i = 0; i < x.length; i++) {
        const ch = i % c;
        y[i] = x[i]! * op.scale[op.scale.length === 1 ? 0 : ch]! + op.offset[op.offset.length === 1 ? 0 : ch]!;
      }
      return;
    }
    case 'relu':
    case 'relu6': {
      const x = get(op.input);
      for (let i = 0; i < x.length; i++) y[i] = activate(x[i]!, op.kind);
      return;
    }
    case 'add': {
      const a = get(op.inputs[0]);
      const b = get(op.inputs[1]);
      for (let i = 0; i < y.length; i++) y[i] = activate(a[i]! + b[i]!, op.activation);
      return;
    }
    case 'pad': {
      const x = get(op.input);
      const [h, w, c] = graph.shapes[op.input]!;
      const [oh, ow] = os;
      for (let b = 0; b < n; b++)
        for (let i = 0; i < h!; i++)
          for (let j = 0; j < w!; j++)
            for (let k = 0; k < c!; k++) {
              y[((b * oh! + i + op.padding.top) * ow! + j + op.padding.left) * c! + k] = x[((b * h! + i) * w! + j) * c! + k]!;
            }
      return;
    }
    case 'conv2d':
    case 'depthwise': {
      const x = get(op.input);
      const [h, w, cin] = graph.shapes[op.input] as [number, number, number];
      const [oh, ow, cout] = os as [number, number, number];
      const [kh, kw] = op.filterShape;
      const [sy, sx] = op.strides;
      const f = op.filter;
      const acc = new Float64Array(cout);
      for (let b = 0; b < n; b++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            for (let co = 0; co < cout; co++) acc[co] = op.bias[co]!;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sy + ky - op.padding.top;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sx + kx - op.padding.left;
                if (ix < 0 || ix >= w) continue;
                const base = ((b * h + iy) * w + ix) * cin;
                const fk = (ky * kw + kx) * cin;
                if (op.kind === 'depthwise') {
                  for (let c = 0; c < cin; c++) acc[c]! += x[base + c]! * f[fk + c]!;
                } else {
                  for (let ci = 0; ci < cin; ci++) {
                    const v = x[base + ci]!;
                    if (v === 0) continue;
                    const fo = (fk + ci) * cout;
                    for (let co = 0; co < cout; co++) acc[co]! += v * f[fo + co]!;
                  }
                }
              }
            }
            const o = ((b * oh + oy) * ow + ox) * cout;
            for (let co = 0; co < cout; co++) y[o + co] = activate(acc[co]!, op.activation);
          }
      return;
    }
    case 'maxpool': {
      const x = get(op.input);
      const [h, w, c] = graph.shapes[op.input] as [number, number, number];
      const [oh, ow] = os as [number, number];
      for (let b = 0; b < n; b++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++)
            for (let k = 0; k < c; k++) {
              let m = -Infinity;
              for (let ky = 0; ky < op.size[0]; ky++) {
                const iy = oy * op.strides[0] + ky - op.padding.top;
                if (iy < 0 || iy >= h) continue;
                for (let kx = 0; kx < op.size[1]; kx++) {
                  const ix = ox * op.strides[1] + kx - op.padding.left;
                  if (ix < 0 || ix >= w) continue;
                  m = Math.max(m, x[((b * h + iy) * w + ix) * c + k]!);
                }
              }
              y[((b * oh + oy) * ow + ox) * c + k] = m;
            }
      return;
    }
    case 'gap': {
      const x = get(op.input);
      const [h, w, c] = graph.shapes[op.input] as [number, number, number];
      const acc = new Float64Array(c);
      for (let b = 0; b < n; b++) {
        acc.fill(0);
        for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) acc[k]! += x[(b * h * w + p) * c + k]!;
        for (let k = 0; k < c; k++) y[b * c + k] = acc[k]! / (h * w);
      }
      return;
    }
    case 'dense': {
      const x = get(op.input);
      const [cin, cout] = op.kernelShape;
      for (let b = 0; b < n; b++)
        for (let o = 0; o < cout; o++) {
          let s = op.bias[o]!;
          for (let i = 0; i < cin; i++) s += x[b * cin + i]! * op.kernel[i * cout + o]!;
          y[b * cout + o] = activate(s, op.activation);
        }
      return;
    }
    case 'softmax': {
      const x = get(op.input);
      const c = os.at(-1)!;
      for (let b = 0; b < n; b++) {
        let m = -Infinity;
        for (let k = 0; k < c; k++) m = Math.max(m, x[b * c + k]!);
        let s = 0;
        for (let k = 0; k < c; k++) s += Math.exp(x[b * c + k]! - m);
        for (let k = 0; k < c; k++) y[b * c + k] = Math.exp(x[b * c + k]! - m) / s;
      }
      return;
    }
    default: {
      const never: never = op;
      throw new Error(`runGraph: unknown op ${JSON.stringify((never as ExportOp).kind)}`);
    }
  }
}
