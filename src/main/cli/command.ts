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

/** Parses flags with parseArgs, then validates the values with `schema`. */
export function parseFlags<S extends z.ZodType>(
  args: string[],
  options: Options,
  schema: S,
): { values: z.infer<S>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
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

