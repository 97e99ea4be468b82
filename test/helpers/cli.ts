// `distill` run as a user runs it, for the CLI tests: a child process with --json --home HOME, its
// JSON lines parsed; `result` is the last line of a command that must succeed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'distill.js');

export interface CliRun {
  code: number;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** `home` and `env` (added to the process's environment) are read at each call (suites create folders in beforeAll). */
export function distillCli(
  home: () => string,
  timeoutMs = 600_000,
  env: () => Record<string, string> = () => ({}),
): { cli: (args: string[]) => CliRun; result: (args: string[]) => Record<string, unknown> } {
  const cli = (args: string[]): CliRun => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--json', '--home', home()], {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 2 ** 20,
      env: { ...process.env, ...env() },
    });
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { code: r.status ?? -1, lines, stderr: r.stderr };
  };
  const result = (args: string[]): Record<string, unknown> => {
    const r = cli(args);
    if (r.code !== 0) throw new Error(`distill ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.lines[r.lines.length - 1]!;
  };
  return { cli, result };
}
