// The format-neutral graph every exporter writes: a student lowered to inference ops, BatchNorm
// already folded into the conv before it, activations fused where the source allowed, the input
// normalization as the first op. All tensors are NHWC float32; weights are plain Float32Arrays.
// One lowering (lower.ts) produces it from a tfjs layers model; the ONNX and TFLite writers consume it.

export type Activation = 'linear' | 'relu' | 'relu6';
export type Padding = { top: number; bottom: number; left: number; right: number };

/** A value in the graph: the model input, or the output of an op, by name. */
export type ValueName = string;

export type ExportOp =
  /** y = x · scale + offset, per channel (length 1 or C): the model's input normalization. */
  | { kind: 'affine'; name: string; input: ValueName; output: ValueName; scale: Float32Array; offset: Float32Array }
  /** Conv2D, NHWC; filter [KH, KW, Cin, Cout] (tfjs layout), bias [Cout]; explicit padding. */
  | {
      kind: 'conv2d'; name: string; input: ValueName; output: ValueName;
      filter: Float32Array; filterShape: [number, number, number, number]; bias: Float32Array;
      strides: [number, number]; padding: Padding; activation: Activation;
    }
  /** Depthwise conv, multiplier 1; filter [KH, KW, C, 1] (tfjs layout), bias [C]. */
  | {
      kind: 'depthwise'; name: string; input: ValueName; output: ValueName;
      filter: Float32Array; filterShape: [number, number, number, 1]; bias: Float32Array;
      strides: [number, number]; padding: Padding; activation: Activation;
    }
  /** Elementwise sum of two values of the same shape. */
  | { kind: 'add'; name: string; inputs: [ValueName, ValueName]; output: ValueName; activation: Activation }
  | { kind: 'relu' | 'relu6'; name: string; input: ValueName; output: ValueName }
  /** Zero padding of H and W (a ZeroPadding2D the lowering could not fold into the conv after it). */
  | { kind: 'pad'; name: string; input: ValueName; output: ValueName; padding: Padding }
  /** Max pool; padded positions never win (−∞ padding, as TFLite SAME and ONNX MaxPool pads do). */
  | { kind: 'maxpool'; name: string; input: ValueName; output: ValueName; size: [number, number]; strides: [number, number]; padding: Padding }
  /** Global average pool: [N,H,W,C] → [N,C]. */
  | { kind: 'gap'; name: string; input: ValueName; output: ValueName }
  /** Dense: kernel [Cin, Cout] (tfjs layout), bias [Cout]; input [N, Cin]. */
  | { kind: 'dense'; name: string; input: ValueName; output: ValueName; kernel: Float32Array; kernelShape: [number, number]; bias: Float32Array; activation: Activation }
  | { kind: 'softmax'; name: string; input: ValueName; output: ValueName };

export interface ExportGraph {
  /** Input [N, S, S, 3], float32 RGB in [0,255]. */
  input: { name: ValueName; size: number; channels: 3 };
  ops: ExportOp[];
  /** The final output: [N, classes] float32 probabilities. */
  output: { name: ValueName; classes: number };
  /** Value name → its shape without the batch dim (filled by the lowering; writers may rely on it). */
  shapes: Record<ValueName, number[]>;
}
