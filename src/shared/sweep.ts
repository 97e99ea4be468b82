// A sweep: one base run config and a grid of values for one or more dotted config paths; every
// combination is a normal run named `<base>/τ=2,α=0.5`. Pure and shared by the CLI, services and UI.
import { z } from 'zod';
import { RunConfig, type RunConfigInput } from './run-config.js';

export const SweepAxis = z.object({
  /** Dotted path into the run config, e.g. "loss.temperature" or "loss.temperature.start". */
  path: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$/, 'a dotted config path such as loss.temperature'),
  values: z.array(z.unknown()).min(1).max(64),
});
export type SweepAxis = z.infer<typeof SweepAxis>;

export const SweepGrid = z
  .array(SweepAxis)
  .min(1)
  .max(4)
  .superRefine((axes, ctx) => {
    const seen = new Set<string>();
    for (const a of axes) {
      if (seen.has(a.path)) ctx.addIssue({ code: 'custom', message: `"${a.path}" is swept twice` });
      seen.add(a.path);
    }
    const total = axes.reduce((n, a) => n * a.values.length, 1);
    if (total > 256) ctx.addIssue({ code: 'custom', message: `the grid has ${total} combinations (at most 256)` });
  });
export type SweepGrid = z.infer<typeof SweepGrid>;

/** The values one run of a sweep was given, by path (JSON, as stored with the run). */
export const SweepValues = z.record(z.string(), z.unknown());
export type SweepValues = z.infer<typeof SweepValues>;

/** Fields whose short names read better in run names and tables. */
const SYMBOLS: Record<string, string> = {
  'loss.temperature': 'τ',
  'loss.alpha': 'α',
  'loss.beta': 'β',
  'loss.gamma': 'γ',
  'optim.lr': 'lr',
};

export function axisLabel(path: string): string {
  if (SYMBOLS[path]) return SYMBOLS[path]!;
  const start = /^(.*)\.(start|end)$/.exec(path);
  if (start && SYMBOLS[start[1]!]) return `${SYMBOLS[start[1]!]}.${start[2]}`;
  return path.split('.').pop()!;
}

/** A swept value as text: numbers and strings as they are, progressive τ {start,end} as "6→2". */
export function formatSweepValue(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v) && 'start' in v && 'end' in v) {
    const o = v as { start: unknown; end: unknown };
    return `${String(o.start)}→${String(o.end)}`;
  }
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

export function sweepRunName(base: string, values: SweepValues): string {
  return `${base}/${Object.entries(values)
    .map(([p, v]) => `${axisLabel(p)}=${formatSweepValue(v)}`)
    .join(',')}`;
}

/** Splits "a,b,{"start":6,"end":2}" on the commas outside brackets and quotes. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === '{' || ch === '[')) depth++;
    if (!quoted && (ch === '}' || ch === ']')) depth--;
    if (ch === ',' && depth === 0 && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}

/** One value as typed: JSON where it parses (numbers, booleans, {"start":6,"end":2}), else the text. */
function parseValue(text: string): unknown {
  if (text === '') throw new Error('an empty value');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `path=v1,v2,…` (a `--grid` flag) → an axis. Values are JSON where they parse: 2, true, {"start":6,"end":2}. */
export function parseGridFlag(flag: string): SweepAxis {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new Error(`--grid ${flag}: expected path=v1,v2,… (e.g. loss.temperature=2,4,6)`);
  const path = flag.slice(0, eq).trim();
  let values: unknown[];
  try {
    values = splitTopLevel(flag.slice(eq + 1)).map(parseValue);
  } catch (err) {
    throw new Error(`--grid ${flag}: ${(err as Error).message}`);
  }
  const parsed = SweepAxis.safeParse({ path, values });
  if (!parsed.success) throw new Error(`--grid ${flag}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  if (rest.length === 0) return { ...obj, [head]: value };
  const child = obj[head];
  const inner = child && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {};
  return { ...obj, [head]: setPath(inner, rest.join('.'), value) };
}

export interface SweepPoint {
  values: SweepValues;
  config: RunConfig;
}

/**
 * Every combination of the grid applied to the base config (the first axis varies slowest), each
 * validated as a run config and named after its values. A combination the schema refuses is an
 * error naming that combination: nothing is started.
 */
export function expandSweep(base: RunConfigInput, grid: SweepGrid): SweepPoint[] {
  let combos: SweepValues[] = [{}];
  for (const axis of grid) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.path]: v })));
  return combos.map((values) => {
    let cfg = structuredClone(base) as unknown as Record<string, unknown>;
    for (const [p, v] of Object.entries(values)) cfg = setPath(cfg, p, v);
    cfg.name = sweepRunName(base.name, values);
    const parsed = RunConfig.safeParse(cfg);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`sweep point ${sweepRunName('', values).slice(1)}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return { values, config: parsed.data };
  });
}

/** The best run by val accuracy (first on ties); null when none has one. */
export function bestOf<T extends { valAccuracy: number | null }>(rows: readonly T[]): T | null {
  let best: T | null = null;
  for (const r of rows) if (r.valAccuracy != null && (best === null || r.valAccuracy > best.valAccuracy!)) best = r;
  return best;
}
