// Entry of the `distill` command: dispatches to one file per command under ./commands.
import { createOutput, CliError } from './output.js';
import type { Command } from './command.js';
import { datasetCommand } from './commands/dataset.js';
import { teacherCommand } from './commands/teacher.js';
import { mineCommand } from './commands/mine.js';
import { runCommand } from './commands/run.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { runsCommand } from './commands/runs.js';
import { benchCommand } from './commands/bench.js';
import { serveCommand } from './commands/serve.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { VERSION } from './version.js';

const COMMANDS: Command[] = [
  datasetCommand,
  teacherCommand,
  mineCommand,
  runCommand,
  evalCommand,
  exportCommand,
  runsCommand,
  benchCommand,
  serveCommand,
  demoCommand,
  doctorCommand,
];

function help(): string {
  const lines = [
    `distill ${VERSION} — distill a small image classifier from unlabeled folders`,
    '',
    'Usage: distill <command> [options]   (every command takes --home DIR and --json)',
    '',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(74)} ${c.summary}`),
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
      return await doctorCommand.run(['--version', ...rest], out);
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) throw new CliError(`unknown command "${name}" (see distill --help)`);
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
