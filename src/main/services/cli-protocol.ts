// Parsing of the CLI's `--json` line protocol (docs/DECISIONS.md, App). The child is
// another process, so every line is validated before anything trusts it.
import { z } from 'zod';

export const ProgressLine = z.object({
  type: z.literal('progress'),
  phase: z.string(),
  done: z.number(),
  total: z.number(),
  message: z.string().optional(),
});
export type ProgressLine = z.infer<typeof ProgressLine>;

export const RunLine = z.object({ type: z.literal('run'), run: z.number().int() });
export const ErrorLine = z.object({ error: z.string() });

export type CliLine =
  | { kind: 'progress'; line: ProgressLine }
  | { kind: 'run'; run: number }
  | { kind: 'error'; message: string }
  | { kind: 'object'; value: Record<string, unknown> }
  | { kind: 'text'; text: string };

export function parseCliLine(raw: string): CliLine | null {
  const text = raw.trim();
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'text', text };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'text', text };
  const progress = ProgressLine.safeParse(value);
  if (progress.success) return { kind: 'progress', line: progress.data };
  const run = RunLine.safeParse(value);
  if (run.success) return { kind: 'run', run: run.data.run };
  const err = ErrorLine.safeParse(value);
  if (err.success && Object.keys(value).length === 1) return { kind: 'error', message: err.data.error };
  return { kind: 'object', value: value as Record<string, unknown> };
}

/**
 * The one-line `distill: <message>` the CLI writes on failure; for a crash (uncaught exception) the
 * `SomeError: …` line of Node's report; else the last meaningful stderr line.
 */
export function stderrMessage(stderr: string): string | null {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^distill: (.*)$/.exec(lines[i]!);
    if (m) return m[1]!;
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^[A-Za-z]*(Error|Exception)\b[^:]*: /.test(lines[i]!)) return lines[i]!;
  }
  const meaningful = lines.filter((l) => !/^at /.test(l) && !/^Node\.js v/.test(l) && !/^\^+$/.test(l));
  return meaningful.length ? meaningful[meaningful.length - 1]! : null;
}
