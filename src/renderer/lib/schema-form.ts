// Reads a zod schema into a tree of form fields (kind, bounds, options, defaults), so the New-run form
// follows the run-config schema instead of restating it. Pure: no React, no DOM.
import { z } from 'zod';

interface Base {
  key: string;
  path: string[];
  /** May be left empty (optional, or the schema fills a default). */
  optional: boolean;
  /** The schema's default when left empty. */
  defaultValue?: unknown;
}

export type FieldNode =
  | (Base & { kind: 'object'; fields: FieldNode[] })
  | (Base & { kind: 'number'; int: boolean; min: number | null; max: number | null; minExclusive: boolean })
  | (Base & { kind: 'string'; minLength: number | null; maxLength: number | null })
  | (Base & { kind: 'boolean' })
  | (Base & { kind: 'enum'; options: string[] })
  | (Base & { kind: 'union'; options: FieldNode[] })
  | (Base & { kind: 'array'; element: FieldNode; max: number | null })
  | (Base & { kind: 'record'; value: FieldNode })
  | (Base & { kind: 'unknown' });

function finite(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

function evalDefault(d: unknown): unknown {
  return typeof d === 'function' ? (d as () => unknown)() : d;
}

export function describe(schema: z.ZodType, path: string[] = []): FieldNode {
  const key = path[path.length - 1] ?? '';
  let optional = false;
  let defaultValue: unknown;
  let s: z.ZodType = schema;
  // Peel wrappers, remembering what they say about emptiness.
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      optional = true;
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
      optional = true;
      defaultValue = evalDefault((s.def as { defaultValue: unknown }).defaultValue);
      s = s.unwrap() as z.ZodType;
    } else break;
  }
  const base = { key, path, optional, defaultValue };
  if (s instanceof z.ZodObject) {
    const shape = s.shape as Record<string, z.ZodType>;
    return { ...base, kind: 'object', fields: Object.entries(shape).map(([k, v]) => describe(v, [...path, k])) };
  }
  if (s instanceof z.ZodNumber) {
    // .positive() is "greater than 0": the bound itself is not allowed.
    const minExclusive = (s.def.checks ?? []).some((c) => {
      const d = c._zod.def as { check?: string; inclusive?: boolean; value?: unknown };
      return d.check === 'greater_than' && d.inclusive === false && d.value === s.minValue;
    });
    return { ...base, kind: 'number', int: s.isInt, min: finite(s.minValue), max: finite(s.maxValue), minExclusive };
  }
  if (s instanceof z.ZodString) return { ...base, kind: 'string', minLength: finite(s.minLength), maxLength: finite(s.maxLength) };
  if (s instanceof z.ZodBoolean) return { ...base, kind: 'boolean' };
  if (s instanceof z.ZodEnum) return { ...base, kind: 'enum', options: s.options.map(String) };
  if (s instanceof z.ZodUnion) return { ...base, kind: 'union', options: (s.options as readonly z.ZodType[]).map((o) => describe(o, path)) };
  if (s instanceof z.ZodArray) {
    const max = (s.def.checks ?? [])
      .map((c) => (c._zod.def as { check?: string; maximum?: number }))
      .find((d) => d.check === 'max_length')?.maximum;
    return { ...base, kind: 'array', element: describe(s.element as z.ZodType, [...path, '0']), max: finite(max) };
  }
  if (s instanceof z.ZodRecord) return { ...base, kind: 'record', value: describe(s.valueType as z.ZodType, [...path, '*']) };
  return { ...base, kind: 'unknown' };
}

/** A fresh value for a field that is being switched on or added (array item, union branch). */
export function initialValue(node: FieldNode): unknown {
  if (node.defaultValue !== undefined) return structuredClone(node.defaultValue);
  switch (node.kind) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const f of node.fields) if (!f.optional) out[f.key] = initialValue(f);
      return out;
    }
    case 'number': {
      const min = node.min ?? 0;
      if (!node.minExclusive) return min;
      return node.int ? Math.floor(min) + 1 : min + (node.max !== null ? (node.max - min) / 2 : 1);
    }
    case 'string':
      return '';
    case 'boolean':
      return false;
    case 'enum':
      return node.options[0];
    case 'union':
      return node.options[0] ? initialValue(node.options[0]) : undefined;
    case 'array':
      return [];
    case 'record':
      return {};
    default:
      return undefined;
  }
}

/**
 * Which branch of a union the current value belongs to (by shape, not by validity). Among object
 * branches, the one whose fields cover the value's keys best ({slim, width, inputSize} is the slim
 * student, not the first object branch).
 */
export function unionBranch(node: Extract<FieldNode, { kind: 'union' }>, value: unknown): number {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    let best = -1;
    let bestScore = -Infinity;
    node.options.forEach((o, i) => {
      if (o.kind !== 'object') return;
      const own = new Set(o.fields.map((f) => f.key));
      const required = o.fields.filter((f) => !f.optional && f.defaultValue === undefined).map((f) => f.key);
      const score = keys.filter((k) => own.has(k)).length - keys.filter((k) => !own.has(k)).length + required.filter((k) => keys.includes(k)).length;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    });
    if (best >= 0) return best;
  }
  const i = node.options.findIndex((o) => {
    if (o.kind === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
    if (o.kind === 'number') return typeof value === 'number' || typeof value === 'string' || value === undefined;
    if (o.kind === 'boolean') return typeof value === 'boolean';
    return typeof value === 'string';
  });
  return Math.max(0, i);
}

/** A union branch's name in the switch: object branches of an all-object union by their first field. */
export function unionBranchName(node: Extract<FieldNode, { kind: 'union' }>, o: FieldNode): string {
  if (o.kind === 'object') {
    const keys = o.fields.map((f) => f.key);
    return node.options.every((x) => x.kind === 'object') ? `${keys[0]} (${keys.slice(1).join(', ')})` : `schedule (${keys.join(' → ')})`;
  }
  return o.kind === 'number' ? 'fixed' : o.kind;
}

export function getAt(value: unknown, path: readonly string[]): unknown {
  let cur = value;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Immutable set; `undefined` deletes the key (so the schema's default applies). */
export function setAt(value: unknown, path: readonly string[], next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path as [string, ...string[]];
  const isIndex = /^\d+$/.test(head);
  if (isIndex) {
    const arr = Array.isArray(value) ? value.slice() : [];
    arr[Number(head)] = setAt(arr[Number(head)], rest, next);
    return arr;
  }
  const obj = value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
  const child = setAt(obj[head], rest, next);
  if (child === undefined) delete obj[head];
  else obj[head] = child;
  return obj;
}

/** zod issues keyed by dotted path ("student.inputSize"; "" for the whole object). */
export function issuesByPath(error: z.ZodError | null | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const issue of error?.issues ?? []) {
    const k = issue.path.map(String).join('.');
    out.set(k, [...(out.get(k) ?? []), issue.message]);
  }
  return out;
}
