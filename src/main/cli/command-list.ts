// Name, usage line and one-line summary of every `distill` command, in `--help` order: the one copy of
// that text. It lives apart from the command files because they import tfjs, sharp and the store
// (seconds to load), and `distill --help` lists every command without loading any of them; each
// command file takes its own entry from here. Imports nothing on purpose.

export interface CommandInfo {
  name: string;
  usage: string;
  summary: string;
}

export const COMMAND_LIST = [
  { name: 'dataset', usage: 'dataset add NAME --labeled DIR [--unlabeled DIR]… [--val DIR] | dataset ls', summary: 'index image folders (class subfolders for labeled/val)' },
  { name: 'teacher', usage: 'teacher train NAME --dataset D (--arch A [--size S] | --backbone B (bundled name, model.json or .onnx) [--feature-layer L] [--head linear|mlp] [--views N] [--input-range R] [--mean r,g,b --std r,g,b]) [--epochs E] | teacher import NAME PATH --classes a,b [--input-range R] [--mean r,g,b --std r,g,b] | teacher ls', summary: 'train a supervised teacher (from scratch, or a head on a pretrained backbone), or import a TF.js model.json or an .onnx file as a frozen one' },
  { name: 'mine', usage: 'mine --dataset D --teacher T --per-class K [--min-confidence C] [--truth CSV]', summary: 'SSLD class-balanced mining of the unlabeled pool (per class: count, confidence range; --truth file,label CSV: precision)' },
  { name: 'run', usage: 'run --config FILE | run --name N --dataset D --method M [--teacher T] [--arch A | --from MODEL | --slim MODEL --width W] [--feature-weight W] [--hint-weight W] [--params 0.5M --minutes 20 --backbone B] … | run --resume RUN', summary: 'a distillation run (ce, kd, ssld, dml, dkd, dist, wsl); pretrained (--from) or slimmed (--slim) students, feature distillation, hints, a default recipe when no student is named' },
  { name: 'recipe', usage: 'recipe --dataset D --teacher T [--params 0.5M] [--minutes 20] [--backbone B] [--no-labels]', summary: 'the default recipe\'s plan without starting a run: the strongest student for the budget, its epochs and the expected time, measured on this machine' },
  { name: 'sweep', usage: 'sweep --config FILE --grid path=v1,v2,… [--grid …] [--name N]', summary: 'a grid of runs (e.g. loss.temperature × loss.alpha), one after another, grouped' },
  { name: 'eval', usage: 'eval MODEL --data DIR', summary: 'accuracy on class subfolders; MODEL = run, teacher, a model path or an export folder (onnx, tflite, tfjs)' },
  { name: 'explain', usage: 'explain RUN --image FILE [--class NAME]', summary: 'Grad-CAM maps of the run\'s student and its teacher for one image (where each looks for its class)' },
  { name: 'export', usage: 'export RUN --format onnx|tflite|tfjs [--quantize none|float16|int8 (tfjs also: uint8)] --out DIR [--data DIR] | export RUN --all [--data DIR]', summary: 'the student for phones and the web (model + labels.txt + metadata.json), run over the val images: accuracy, agreement with the float student, ms/image; --all measures every format × quantization' },
  { name: 'runs', usage: 'runs [ls | show RUN | compare A B …]', summary: 'the run registry' },
  { name: 'bench', usage: 'bench [--nets refnet,mobilenet_v2_035,resnet18] [--size 96] [--batch 32] [--pipeline DIR] [--torch] | bench --recipe DIR [--teacher MODEL.json | --backbone B] [--params 0.5M] [--minutes 20]', summary: 'training/inference throughput (JSON lines), optionally vs PyTorch; or the default recipe on a dataset folder: student val accuracy against wall time, the teacher\'s beside it' },
  { name: 'serve', usage: 'serve [--port P]', summary: 'the UI in a browser (127.0.0.1 only, token in the printed URL)' },
  { name: 'demo', usage: 'demo [--size S] [--epochs E]', summary: 'the whole job on a built-in synthetic two-class set (its images and export stay under the home, to browse with serve)' },
  { name: 'doctor', usage: 'doctor', summary: 'version, active compute backend and why the others are not; what each cache holds and its bound' },
] as const satisfies readonly CommandInfo[];

export type CommandName = (typeof COMMAND_LIST)[number]['name'];

/** The entry of `name` (a typo in a command file is a type error, not a missing --help line). */
export function commandInfo(name: CommandName): CommandInfo {
  return COMMAND_LIST.find((c) => c.name === name)!;
}
