// A minimal WebAssembly assembler: enough to build a few SIMD kernels at run time that work in
// place on tfjs's WASM heap (the module imports that memory). Avoids shipping an opaque binary or
// adding a compiler to the toolchain: the kernels are readable TypeScript (see simd-module.ts).

export type ValType = 'i32' | 'f32' | 'v128';
const TYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function str(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

export class Local {
  constructor(
    readonly index: number,
    readonly type: ValType,
  ) {}
}

/** Emits one function body. Methods push instructions in stack-machine order. */
export class Fn {
  readonly code: number[] = [];
  readonly params: Local[];
  private readonly extra: ValType[] = [];

  constructor(
    readonly name: string,
    paramTypes: ValType[],
  ) {
    this.params = paramTypes.map((t, i) => new Local(i, t));
  }

  local(type: ValType): Local {
    this.extra.push(type);
    return new Local(this.params.length + this.extra.length - 1, type);
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    return this;
  }

  get(l: Local): this {
    this.op(0x20);
    uleb(l.index, this.code);
    return this;
  }
  set(l: Local): this {
    this.op(0x21);
    uleb(l.index, this.code);
    return this;
  }
  tee(l: Local): this {
    this.op(0x22);
    uleb(l.index, this.code);
    return this;
  }
  i32(n: number): this {
    this.op(0x41);
    sleb(n | 0, this.code);
    return this;
  }
  f32(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, ...b);
  }

  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  shl(): this { return this.op(0x74); }
  divU(): this { return this.op(0x6e); }
  or(): this { return this.op(0x72); }
  ltS(): this { return this.op(0x48); }
  i32LtU(): this { return this.op(0x49); }
  geS(): this { return this.op(0x4e); }
  eqz(): this { return this.op(0x45); }
  eq(): this { return this.op(0x46); }
  and(): this { return this.op(0x71); }
  /** select: stack [a, b, cond] → cond ? a : b. */
  select(): this { return this.op(0x1b); }
  /** memory.fill: stack [dst, byteValue, bytes] (bulk memory). */
  memoryFill(): this {
    this.code.push(0xfc);
    uleb(11, this.code);
    this.code.push(0);
    return this;
  }
  /** memory.copy: stack [dst, src, bytes] (bulk memory). */
  memoryCopy(): this {
    this.code.push(0xfc);
    uleb(10, this.code);
    this.code.push(0, 0);
    return this;
  }

  f32Add(): this { return this.op(0x92); }
  f32Mul(): this { return this.op(0x94); }

  /** Loads/stores take a byte address from the stack; `offset` is a constant byte offset. */
  f32Load(offset = 0): this {
    this.op(0x2a, 2);
    uleb(offset, this.code);
    return this;
  }
  f32Store(offset = 0): this {
    this.op(0x38, 2);
    uleb(offset, this.code);
    return this;
  }
  v128Load(offset = 0): this {
    this.simd(0x00);
    this.code.push(2);
    uleb(offset, this.code);
    return this;
  }
  v128Store(offset = 0): this {
    this.simd(0x0b);
    this.code.push(2);
    uleb(offset, this.code);
    return this;
  }
  /** v128.load32_splat: one float from the byte address on the stack, in all 4 lanes. */
  v128Load32Splat(offset = 0): this {
    this.simd(0x09);
    this.code.push(2);
    uleb(offset, this.code);
    return this;
  }
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Sqrt(): this { return this.simd(0xe3); }
  f32Div(): this { return this.op(0x95); }
  f32Sqrt(): this { return this.op(0x91); }
  f32x4Eq(): this { return this.simd(0x41); }
  f32x4Gt(): this { return this.simd(0x44); }
  /** pmin/pmax: b < a ? b : a / a < b ? b : a — a NaN in `a` passes through. */
  f32x4Pmin(): this { return this.simd(0xea); }
  f32x4Pmax(): this { return this.simd(0xeb); }
  /** v128.bitselect: stack [v1, v2, mask] → mask ? v1 : v2 bitwise. */
  bitselect(): this { return this.simd(0x52); }
  f32Sub(): this { return this.op(0x93); }
  f32ReinterpretI32(): this { return this.op(0xbe); }
  f32Gt(): this { return this.op(0x5e); }
  f32Eq(): this { return this.op(0x5b); }
  f32Lt(): this { return this.op(0x5d); }
  f32Le(): this { return this.op(0x5f); }
  f32Ge(): this { return this.op(0x60); }
  shrU(): this { return this.op(0x76); }
  divS(): this { return this.op(0x6d); }
  /** i32.store8: stack [address, value]. */
  i32Store8(offset = 0): this {
    this.op(0x3a, 0);
    uleb(offset, this.code);
    return this;
  }
  f32x4Min(): this { return this.simd(0xe8); }
  f32x4Max(): this { return this.simd(0xe9); }
  f32Max(): this { return this.op(0x97); }
  f32Min(): this { return this.op(0x96); }
  f32x4Mul(): this { return this.simd(0xe6); }
  /** f32x4.relaxed_madd (relaxed SIMD): stack [a, b, c] → a·b + c, fused or not as the hardware does it. */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }
  /** i8x16.shuffle with 4 float lanes picked from a (0–3) and b (4–7). */
  shuffle32(lanes: [number, number, number, number]): this {
    this.simd(0x0d);
    for (const l of lanes) for (let k = 0; k < 4; k++) this.code.push(l * 4 + k);
    return this;
  }
  v128Zero(): this {
    this.simd(0x0c);
    for (let k = 0; k < 16; k++) this.code.push(0);
    return this;
  }
  i32x4Splat(): this { return this.simd(0x11); }
  i32x4ExtractLane(lane: number): this {
    this.simd(0x1b);
    this.code.push(lane);
    return this;
  }
  f32x4ExtractLane(lane: number): this {
    this.simd(0x1f);
    this.code.push(lane);
    return this;
  }

  /** `addr = base + idx * 4` for float element addressing. */
  addr(base: Local, idx: Local | (() => void)): this {
    this.get(base);
    if (idx instanceof Local) this.get(idx);
    else idx();
    return this.i32(2).shl().add();
  }

  /** call: the function at `index` in the module (its position in the list given to assemble). */
  call(index: number): this {
    this.op(0x10);
    uleb(index, this.code);
    return this;
  }

  /** block … end: `br`/`brIf` with depth d leave the d-th enclosing block (or restart a loop). */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  loopBlock(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  br(depth: number): this {
    this.op(0x0c);
    uleb(depth, this.code);
    return this;
  }
  brIf(depth: number): this {
    this.op(0x0d);
    uleb(depth, this.code);
    return this;
  }

  /** if (cond on stack) then() [else otherwise()]. */
  ifElse(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }

  /** for (i = from; i < to; i += step) body — from/to/step are locals or constants. */
  loop(i: Local, from: Local | number, to: Local | number, step: number | Local, body: () => void): this {
    if (typeof from === 'number') this.i32(from);
    else this.get(from);
    this.set(i);
    this.op(0x02, 0x40); // block
    this.get(i);
    if (typeof to === 'number') this.i32(to);
    else this.get(to);
    this.geS().op(0x0d, 0); // br_if 0: exit when i >= to
    this.op(0x03, 0x40); // loop
    body();
    this.get(i);
    if (typeof step === 'number') this.i32(step);
    else this.get(step);
    this.add().tee(i);
    if (typeof to === 'number') this.i32(to);
    else this.get(to);
    this.ltS().op(0x0d, 0); // br_if 0: continue
    this.op(0x0b, 0x0b); // end loop, end block
    return this;
  }

  body(): number[] {
    const out: number[] = [];
    // Locals grouped one entry per local (simple and valid).
    uleb(this.extra.length, out);
    for (const t of this.extra) {
      out.push(1, TYPE[t]);
    }
    out.push(...this.code, 0x0b);
    const sized: number[] = [];
    uleb(out.length, sized);
    return sized.concat(out);
  }

  typeBytes(): number[] {
    const out = [0x60];
    uleb(this.params.length, out);
    for (const p of this.params) out.push(TYPE[p.type]);
    out.push(0); // no results
    return out;
  }
}

function section(id: number, payload: number[], out: number[]): void {
  out.push(id);
  uleb(payload.length, out);
  out.push(...payload);
}

/** A module importing `env.memory` (shared or not, like tfjs's) and exporting `fns`. */
export function assemble(fns: Fn[], memory: { shared: boolean; minPages: number }): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(fns.length, types);
  for (const f of fns) types.push(...f.typeBytes());
  section(1, types, out);

  const imports: number[] = [];
  uleb(1, imports);
  str('env', imports);
  str('memory', imports);
  imports.push(0x02);
  if (memory.shared) {
    imports.push(0x03);
    uleb(memory.minPages, imports);
    uleb(65536, imports);
  } else {
    imports.push(0x00);
    uleb(memory.minPages, imports);
  }
  section(2, imports, out);

  const funcs: number[] = [];
  uleb(fns.length, funcs);
  fns.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);

  const exports: number[] = [];
  uleb(fns.length, exports);
  fns.forEach((f, i) => {
    str(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);

  const code: number[] = [];
  uleb(fns.length, code);
  for (const f of fns) code.push(...f.body());
  section(10, code, out);
  return new Uint8Array(out);
}
