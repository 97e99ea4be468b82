// The shape every CLI command file exports, and argument parsing shared by them (node:util parseArgs,
// then a zod schema so a bad flag value is a one-line error naming the flag).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { CliError, type Output } from './output.js';

export interface Command {
  name: string;
  usage: string;
  summary: string;
  details?: string;
  run(args: string[], out: Output): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Options;

/**
 * parseArgs refuses `--flag -1-1` ("argument is ambiguous"): a value starting with '-' could be a
 * flag. A value that starts with '-' and a digit or '.' (a negative number, the -1-1 range) never names a
 * flag, so it is joined to its string flag as `--flag=-1-1`.
 */
export function joinDashValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Parses flags with parseArgs, then validates the values with `schema`. */
export function parseFlags<S extends z.ZodType>(
  args: string[],
  options: Options,
  schema: S,
): { values: z.infer<S>; positionals: string[] } {
  let parsed;
  try {
    const all = { ...COMMON_OPTIONS, ...options };
    parsed = parseArgs({ args: joinDashValues(args, all), options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message.replace(/^TypeError \[[A-Z_]+\]: /, '') : String(err), 2);
  }
  const result = schema.safeParse(parsed.values);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new CliError(`--${issue.path.join('.')}: ${issue.message}`, 2);
  }
  return { values: result.data, positionals: parsed.positionals };
}

/** Numbers arrive as strings from the command line. */
export const numArg = (schema: z.ZodNumber = z.number()) => z.coerce.number().pipe(schema);
export const intArg = () => z.coerce.number().pipe(z.number().int());

