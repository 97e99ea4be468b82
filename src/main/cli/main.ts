// Entry of the `distill` command: dispatches to one file per command under ./commands.
import { createOutput, CliError } from './output.js';
import type { Command } from './command.js';
import { VERSION } from './version.js';

// Commands load lazily: tfjs and sharp take seconds to import, and `--help` or a job's first
// JSON line should not wait for them.
interface CommandEntry {
  name: string;
  usage: string;
  summary: string;
  load: () => Promise<Command>;
}

const COMMANDS: CommandEntry[] = [
  { name: 'dataset', usage: 'dataset add NAME --labeled DIR [--unlabeled DIR]… [--val DIR] | dataset ls', summary: 'index image folders (class subfolders for labeled/val)', load: async () => (await import('./commands/dataset.js')).datasetCommand },
  { name: 'teacher', usage: 'teacher train NAME --dataset D --arch A [--size S] [--epochs E] | teacher import NAME PATH --classes a,b | teacher ls', summary: 'train a supervised teacher, or import a TF.js model', load: async () => (await import('./commands/teacher.js')).teacherCommand },
  { name: 'mine', usage: 'mine --dataset D --teacher T --per-class K [--min-confidence C]', summary: 'SSLD class-balanced mining of the unlabeled pool', load: async () => (await import('./commands/mine.js')).mineCommand },
  { name: 'run', usage: 'run --config FILE | run --name N --dataset D --method M [--teacher T] … | run --resume RUN', summary: 'a distillation run (ce, kd, ssld, dml)', load: async () => (await import('./commands/run.js')).runCommand },
  { name: 'eval', usage: 'eval MODEL --data DIR', summary: 'accuracy on class subfolders; MODEL = run, teacher or a path', load: async () => (await import('./commands/eval.js')).evalCommand },
  { name: 'export', usage: 'export RUN --format tfjs|onnx|tflite [--quantize none|float16|uint8] --out DIR', summary: 'the student for mobile, verified by loading it back', load: async () => (await import('./commands/export.js')).exportCommand },
  { name: 'runs', usage: 'runs [ls | show RUN | compare A B …]', summary: 'the run registry', load: async () => (await import('./commands/runs.js')).runsCommand },
  { name: 'bench', usage: 'bench [--nets refnet,mobilenet_v2_035,resnet18] [--size 96] [--batch 32] [--pipeline DIR] [--torch]', summary: 'training/inference throughput (JSON lines)', load: async () => (await import('./commands/bench.js')).benchCommand },
  { name: 'serve', usage: 'serve [--port P]', summary: 'the UI in a browser (127.0.0.1 only, token in the URL)', load: async () => (await import('./commands/serve.js')).serveCommand },
  { name: 'demo', usage: 'demo [--size S] [--epochs E] [--keep]', summary: 'the whole job on a built-in synthetic two-class set', load: async () => (await import('./commands/demo.js')).demoCommand },
  { name: 'doctor', usage: 'doctor', summary: 'version, active compute backend and why the others are not', load: async () => (await import('./commands/doctor.js')).doctorCommand },
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
      return await (await COMMANDS.find((c) => c.name === 'doctor')!.load()).run(rest, out);
    }
    const entry = COMMANDS.find((c) => c.name === name);
    if (!entry) throw new CliError(`unknown command "${name}" (see distill --help)`);
    const cmd = await entry.load();
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
