// Entry of the `distill` command: dispatches to one file per command under ./commands.
import { createOutput, CliError } from './output.js';
import type { Command } from './command.js';
import { COMMAND_LIST, type CommandName } from './command-list.js';
import { VERSION } from './version.js';

// Commands load lazily: tfjs and sharp take seconds to import, and `--help` or a job's first
// JSON line should not wait for them. Their names, usage and summaries come from command-list.ts.
const LOADERS: Record<CommandName, () => Promise<Command>> = {
  dataset: async () => (await import('./commands/dataset.js')).datasetCommand,
  teacher: async () => (await import('./commands/teacher.js')).teacherCommand,
  mine: async () => (await import('./commands/mine.js')).mineCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
  recipe: async () => (await import('./commands/recipe.js')).recipeCommand,
  sweep: async () => (await import('./commands/sweep.js')).sweepCommand,
  eval: async () => (await import('./commands/eval.js')).evalCommand,
  export: async () => (await import('./commands/export.js')).exportCommand,
  explain: async () => (await import('./commands/explain.js')).explainCommand,
  runs: async () => (await import('./commands/runs.js')).runsCommand,
  bench: async () => (await import('./commands/bench.js')).benchCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
};

const isCommandName = (name: string): name is CommandName => COMMAND_LIST.some((c) => c.name === name);

function help(): string {
  const lines = [
    `distill ${VERSION} — distill a small image classifier from unlabeled folders`,
    '',
    'Usage: distill <command> [options]   (every command takes --home DIR and --json)',
    '',
    ...COMMAND_LIST.map((c) => `  ${c.usage.padEnd(74)} ${c.summary}`),
    '',
    'distill --version prints the version and the compute backends (active one and why the others are not).',
  ];
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const out = createOutput(json);
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(help() + '\n');
      return name ? 0 : 1;
    }
    if (name === '--version' || name === '-v') {
      return await (await LOADERS.doctor()).run(rest, out);
    }
    if (!isCommandName(name)) throw new CliError(`unknown command "${name}" (see distill --help)`);
    const cmd = await LOADERS[name]();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`Usage: distill ${cmd.usage}\n${cmd.summary}\n${cmd.details ?? ''}\n`);
      return 0;
    }
    return await cmd.run(rest, out);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`distill: ${message.split('\n')[0]}\n`);
    if (json) process.stdout.write(JSON.stringify({ error: message }) + '\n');
    if (process.env.DISTILL_DEBUG && err instanceof Error) process.stderr.write(String(err.stack) + '\n');
    return err instanceof CliError ? err.exitCode : 1;
  }
}
