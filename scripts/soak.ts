// `npm run soak [-- --minutes N --data DIR --teacher trained|fixture --max-rss-mb MB]`: a long SSLD run
// on a real folder through the `distill` CLI, as a user runs it, that fails on any stall, a live-tensor
// count that grows from epoch to epoch, or a trainer RSS above the bound. Not part of `npm test`.
// It imports the folder into a temp home, gets a teacher (the bundled pretrained MobileNet v1 at
// 224×224 with a head trained on the labeled split — its soft labels then fill the teacher cache — or,
// with --teacher fixture, test/fixtures/catdog-teacher), then runs a mobilenet_v2 ×0.35 @96 student for as many epochs as
// fit, and at the deadline stops it with SIGINT (which must end it, status cancelled). JSON lines on
// stdout (one per epoch), then a summary; exit 1 on any failure.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { z } from 'zod';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(ROOT, 'bin', 'distill.js');

const Flags = z.object({
  minutes: z.coerce.number().positive().default(60),
  data: z.string().default(path.join(ROOT, '..', 'shared', 'datasets', 'catdog')),
  teacher: z.enum(['trained', 'fixture']).default('trained'),
  'max-rss-mb': z.coerce.number().positive().default(2500),
  keep: z.boolean().default(false),
});

const flags = Flags.parse(
  parseArgs({
    options: { minutes: { type: 'string' }, data: { type: 'string' }, teacher: { type: 'string' }, 'max-rss-mb': { type: 'string' }, keep: { type: 'boolean' } },
    strict: true,
  }).values,
);

const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
const failures: string[] = [];

for (const sub of ['labeled', 'unlabeled', 'val']) {
  if (!fs.existsSync(path.join(flags.data, sub))) {
    process.stderr.write(`soak: ${flags.data} has no ${sub}/ folder (expected labeled/ unlabeled/ val/, as ../shared/datasets/catdog)\n`);
    process.exit(2);
  }
}
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-soak-'));
const started = Date.now();
const deadline = started + flags.minutes * 60_000;

/** A setup command; its result line, or the soak stops with its error. */
function cli(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [BIN, ...args, '--json', '--home', home], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) {
    process.stderr.write(`soak: distill ${args.join(' ')} failed (${r.status}): ${r.stderr}\n`);
    process.exit(1);
  }
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const ds = cli(['dataset', 'add', 'soak', '--labeled', path.join(flags.data, 'labeled'), '--unlabeled', path.join(flags.data, 'unlabeled'), '--val', path.join(flags.data, 'val')]);
emit({ type: 'dataset', labeled: ds.labeled, unlabeled: ds.unlabeled, val: ds.val });
const classes = Object.keys(ds.labeled as Record<string, number>).sort();
const teacher =
  flags.teacher === 'fixture'
    ? cli(['teacher', 'import', 'teacher', path.join(ROOT, 'test', 'fixtures', 'catdog-teacher', 'model.json'), '--classes', classes.join(',')])
    : cli(['teacher', 'train', 'teacher', '--dataset', 'soak', '--backbone', 'mobilenet_v1_075']);
emit({ type: 'teacher', ...teacher });

const Progress = z.object({ type: z.string(), run: z.number().optional(), message: z.string().optional() }).passthrough();
const MetricRow = z.object({ epoch: z.number(), name: z.string(), value: z.number() });

/** /proc RSS of a process in MB (Linux), null elsewhere or once it is gone. */
function procRssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const child = spawn(
  process.execPath,
  [BIN, 'run', '--name', 'soak', '--dataset', 'soak', '--method', 'ssld', '--teacher', 'teacher', '--no-labels', '--arch', 'mobilenet_v2', '--width', '0.35', '--size', '96', '--batch', '32', '--epochs', '10000', '--json', '--home', home],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let runId: number | null = null;
let stderr = '';
let peakRss = 0;
let stopping = false;
child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
let buf = '';
child.stdout.on('data', (d: Buffer) => {
  buf += d.toString();
  const lines = buf.split('\n');
  buf = lines.pop()!;
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const o = Progress.safeParse(JSON.parse(line));
    if (o.success && o.data.type === 'run' && o.data.run !== undefined) runId = o.data.run;
    if (o.success && o.data.type === 'info') emit({ type: 'info', message: o.data.message });
  }
});

const seen = new Map<number, Record<string, number>>();
const tensors: number[] = [];
const heaps: number[] = [];
function pollEpochs(): void {
  if (runId === null) return;
  const db = new Database(path.join(home, 'distill.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(`SELECT epoch, name, value FROM metrics WHERE run_id = ? AND scope = 'epoch' AND (name LIKE 'mem/%' OR name = 'val/accuracy') ORDER BY epoch`)
      .all(runId)
      .map((r) => MetricRow.parse(r));
    const byEpoch = new Map<number, Record<string, number>>();
    for (const r of rows) byEpoch.set(r.epoch, { ...(byEpoch.get(r.epoch) ?? {}), [r.name]: r.value });
    for (const [epoch, m] of byEpoch) {
      if (seen.has(epoch) || m['mem/tensors'] === undefined) continue;
      seen.set(epoch, m);
      tensors.push(m['mem/tensors']!);
      if (m['mem/wasm_heap_mb'] !== undefined) heaps.push(m['mem/wasm_heap_mb']);
      emit({ type: 'epoch', epoch, valAccuracy: m['val/accuracy'] ?? null, rssMb: m['mem/rss_mb'], wasmHeapMb: m['mem/wasm_heap_mb'] ?? null, tensors: m['mem/tensors'], peakRssMb: Math.round(peakRss), minutes: (Date.now() - started) / 60_000 });
      if ((m['mem/rss_mb'] ?? 0) > flags['max-rss-mb']) failures.push(`epoch ${epoch}: RSS ${m['mem/rss_mb']!.toFixed(0)} MB above ${flags['max-rss-mb']} MB`);
      // After the first epoch the live tensors (weights, optimizer slots) are a fixed set: any growth is a leak.
      if (tensors.length >= 2 && m['mem/tensors']! > tensors[0]!) failures.push(`epoch ${epoch}: ${m['mem/tensors']} live tensors, more than the ${tensors[0]} after the first epoch`);
      // The heap never shrinks; once the first epochs have set its working size it must stop growing
      // (scratch that outlives its kernel once grew it ~4 MB a step until the 4 GiB limit).
      if (heaps.length >= 4 && heaps[heaps.length - 1]! > heaps[2]! * 1.1 + 64) failures.push(`epoch ${epoch}: WASM heap ${heaps[heaps.length - 1]} MB, up from ${heaps[2]} MB at epoch 3`);
    }
  } finally {
    db.close();
  }
}

const timer = setInterval(() => {
  const rss = procRssMb(child.pid!);
  if (rss !== null) {
    peakRss = Math.max(peakRss, rss);
    if (rss > flags['max-rss-mb'] && !failures.some((f) => f.startsWith('peak'))) failures.push(`peak RSS ${rss.toFixed(0)} MB above ${flags['max-rss-mb']} MB`);
  }
  try {
    pollEpochs();
  } catch (e) {
    failures.push(`reading metrics: ${(e as Error).message}`);
  }
  if (!stopping && Date.now() >= deadline) {
    stopping = true;
    child.kill('SIGINT'); // the run must stop cleanly (cancelled) within the interrupt guard's grace
  }
}, 2000);

const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
clearInterval(timer);
pollEpochs();
if (/stalled/.test(stderr)) failures.push(`stalled: ${stderr.trim().split('\n').pop()}`);
if (!stopping) failures.push(`the run ended before the deadline (exit ${exit.code ?? exit.signal}): ${stderr.trim().split('\n').pop() ?? ''}`);
let status: string | null = null;
if (runId !== null) {
  const db = new Database(path.join(home, 'distill.db'), { readonly: true });
  status = (db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined)?.status ?? null;
  db.close();
}
if (stopping && status !== 'cancelled') failures.push(`after SIGINT the run is "${status}", expected cancelled`);
if (seen.size === 0) failures.push('no epoch finished: give it more minutes');

const summary = {
  type: 'summary',
  ok: failures.length === 0,
  minutes: (Date.now() - started) / 60_000,
  epochs: seen.size,
  status,
  peakRssMb: Math.round(peakRss),
  maxRssMb: flags['max-rss-mb'],
  tensors: tensors.length ? { first: tensors[0], last: tensors[tensors.length - 1] } : null,
  wasmHeapMb: heaps.length ? { first: heaps[0], last: heaps[heaps.length - 1] } : null,
  failures,
  home: flags.keep ? home : null,
};
emit(summary);
if (!flags.keep) fs.rmSync(home, { recursive: true, force: true });
process.exit(failures.length === 0 ? 0 : 1);
