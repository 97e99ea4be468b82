// The services over a real store, with a fake trainer CLI that writes the runs/metrics tables the way
// the real one does and obeys the control column: start, live metrics and status events, pause,
// resume, cancel, crashes and kills, resume after cancel, runs not started here, compare, jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServices } from '../../src/main/services/index.js';
import type { Services } from '../../src/main/services/types.js';
import { Store } from '../../src/main/store/index.js';
import { JobInfo, events, type EventName } from '../../src/shared/api.js';
import { MetricRow, RunRecord } from '../../src/shared/domain.js';
import type { RunConfigInput } from '../../src/shared/run-config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// Behaviour by the run's name: ok-* (6 quick steps), slow-* (a step every 60 ms, 200 steps),
// crash-* (dies after 3 steps with a CLI error), kill-* (SIGKILLs itself after 3 steps).
const FAKE_CLI = `
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
const require = createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))});
const Database = require('better-sqlite3');
const args = process.argv.slice(2);
const flag = (f) => { const i = args.indexOf(f); return i >= 0 ? args[i + 1] : undefined; };
const home = flag('--home');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
if (args[0] === '--version') {
  out({ version: 'fake', backend: { active: 'cpu', threads: 1, simd: null, forcedBy: null, candidates: [{ name: 'cpu', available: true, reason: null }] } });
  process.exit(0);
}
if (args[0] === 'teacher' || args[0] === 'mine' || args[0] === 'export') {
  for (let i = 1; i <= 3; i++) out({ type: 'progress', phase: args[0], done: i, total: 3 });
  if (args.includes('--fail')) { process.stderr.write('distill: no labeled images\\n'); out({ error: 'no labeled images' }); process.exit(1); }
  out({ ok: true, args });
  process.exit(0);
}
const db = new Database(path.join(home, 'distill.db'));
db.pragma('busy_timeout = 10000');
let runId, config, step = 0;
if (flag('--resume')) {
  runId = Number(flag('--resume'));
  config = JSON.parse(db.prepare('SELECT config_json FROM runs WHERE id = ?').get(runId).config_json);
  step = db.prepare("SELECT COALESCE(MAX(step) + 1, 0) AS s FROM metrics WHERE run_id = ? AND scope = 'step'").get(runId).s;
  db.prepare("UPDATE runs SET status = 'running', pid = ?, control = NULL, error = NULL WHERE id = ?").run(process.pid, runId);
} else {
  config = JSON.parse(fs.readFileSync(flag('--config'), 'utf8'));
  const ds = db.prepare('SELECT id FROM datasets WHERE name = ? OR id = ?').get(config.dataset, Number(config.dataset) || -1).id;
  runId = Number(db.prepare(\`INSERT INTO runs (name, dataset_id, method, config_json, status, created_at, started_at, pid)
    VALUES (?, ?, ?, ?, 'running', ?, ?, ?)\`).run(config.name, ds, config.method, JSON.stringify(config), new Date().toISOString(), new Date().toISOString(), process.pid).lastInsertRowid);
}
out({ type: 'run', run: runId });
const kind = config.name.split('-')[0];
const total = kind === 'slow' ? 200 : 6;
const perEpoch = total / 2;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const control = () => db.prepare('SELECT control FROM runs WHERE id = ?').get(runId).control;
const setStatus = (s) => db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(s, runId);
const insert = db.prepare('INSERT INTO metrics (run_id, model, scope, step, epoch, name, value, time) VALUES (?, 0, ?, ?, ?, ?, ?, ?)');
for (; step < total; step++) {
  let c = control();
  if (c === 'pause') {
    setStatus('paused');
    while ((c = control()) === 'pause') await sleep(20);
    if (c !== 'cancel') setStatus('running');
  }
  if (c === 'cancel') {
    db.prepare("UPDATE runs SET status = 'cancelled', control = NULL, finished_at = ? WHERE id = ?").run(new Date().toISOString(), runId);
    out({ run: runId, cancelled: true });
    process.exit(0);
  }
  const epoch = Math.floor(step / perEpoch);
  insert.run(runId, 'step', step, epoch, 'loss', 1 / (step + 1), Date.now());
  insert.run(runId, 'step', step, epoch, 'img_per_sec', 100, Date.now());
  if ((step + 1) % perEpoch === 0) {
    insert.run(runId, 'epoch', step + 1, epoch, 'val_accuracy', 0.5 + epoch / 10, Date.now());
    db.prepare('UPDATE runs SET epochs_done = ?, last_val_acc = ? WHERE id = ?').run(epoch + 1, 0.5 + epoch / 10, runId);
  }
  out({ type: 'progress', phase: 'train', done: step + 1, total, message: 'epoch ' + (epoch + 1) });
  if (step === 2 && kind === 'crash') { process.stderr.write('distill: out of memory while decoding a batch\\n'); process.exit(3); }
  if (step === 2 && kind === 'kill') process.kill(process.pid, 'SIGKILL');
  await sleep(kind === 'slow' ? 60 : 5);
}
db.prepare("UPDATE runs SET status = 'completed', finished_at = ?, best_val_acc = 0.6 WHERE id = ?").run(new Date().toISOString(), runId);
out({ run: runId, valAccuracy: 0.6, epochs: 2, backend: 'cpu', imgPerSec: 100 });
`;

let home: string;
let services: Services;
let seeded: Store;
const seen: { event: EventName; data: unknown }[] = [];

function config(name: string, extra: Record<string, unknown> = {}): RunConfigInput {
  return { name, dataset: 'cats', method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 2, ...extra } as RunConfigInput;
}

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statusEvents = (runId: number) =>
  seen.filter((e) => e.event === 'run.status').map((e) => RunRecord.parse(e.data)).filter((r) => r.id === runId);
const lastStatus = (runId: number) => statusEvents(runId).at(-1)?.status;
const metricEvents = (runId: number): MetricRow[] =>
  seen
    .filter((e) => e.event === 'run.metrics' && (e.data as { runId: number }).runId === runId)
    .flatMap((e) => (e.data as { rows: MetricRow[] }).rows);

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-services-'));
  const cli = path.join(home, 'fake-distill.mjs');
  fs.writeFileSync(cli, FAKE_CLI);
  seeded = Store.open(home);
  seeded.datasets.createDataset('cats');
  services = await createServices({ home, cli, pollMs: 50, pidCheckMs: 100, watch: false });
  services.onEvent((event, data) => {
    // Every pushed event satisfies its schema.
    events[event].parse(data);
    seen.push({ event, data });
  });
});

afterAll(async () => {
  await services?.close();
  seeded?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('runs through a trainer child', () => {
  it('starts a run, streams its metrics and statuses, and completes', async () => {
    const run = RunRecord.parse(await services.call('runs.start', { config: config('ok-1') }));
    expect(run.name).toBe('ok-1');
    expect(run.config.optim.lr).toBe(0.002); // defaults applied by the schema before the CLI saw it
    await until('completed', () => lastStatus(run.id) === 'completed');
    const rows = (await services.call('runs.metrics', { id: run.id })) as MetricRow[];
    expect(rows).toHaveLength(6 * 2 + 2);
    // Every row reached the event stream exactly once, in id order.
    const streamed = metricEvents(run.id);
    expect(streamed.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    const after = (await services.call('runs.metrics', { id: 'ok-1', afterId: rows[5]!.id })) as MetricRow[];
    expect(after.map((r) => r.id)).toEqual(rows.slice(6).map((r) => r.id));
    const got = (await services.call('runs.get', { id: run.id })) as { run: RunRecord; etaSeconds: number | null };
    expect(got.run.status).toBe('completed');
    expect(got.run.bestValAccuracy).toBe(0.6);
    expect(got.etaSeconds).toBeNull();
    // The trainer exits just after it marks the run completed.
    const jobs = async () => (await services.call('jobs.list', {})) as JobInfo[];
    let job: JobInfo | undefined;
    for (let i = 0; i < 200 && job?.status !== 'done'; i++) {
      job = (await jobs()).find((j) => j.kind === 'run');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(job).toMatchObject({ status: 'done', progress: 1, result: { run: run.id, valAccuracy: 0.6 } });
    // The temporary config file is gone.
    expect(fs.readdirSync(path.join(home, 'tmp')).filter((f) => f.startsWith('run-config-'))).toEqual([]);
  });

  it('refuses an unknown dataset, a taken name and an invalid config', async () => {
    await expect(services.call('runs.start', { config: config('x', { dataset: 'nope' }) })).rejects.toThrow('dataset "nope" not found');
    await expect(services.call('runs.start', { config: config('ok-1') })).rejects.toThrow('already exists');
    await expect(services.call('runs.start', { config: config('y', { method: 'kd' }) })).rejects.toThrow(/needs a teacher/);
    await expect(services.call('runs.start', { config: { ...config('z'), epochs: 0 } })).rejects.toThrow();
  });

  it('marks a crashed trainer failed with its message, and keeps serving', async () => {
    const run = RunRecord.parse(await services.call('runs.start', { config: config('crash-1') }));
    await until('failed', () => lastStatus(run.id) === 'failed');
    const rec = RunRecord.parse(((await services.call('runs.get', { id: run.id })) as { run: unknown }).run);
    expect(rec.status).toBe('failed');
    expect(rec.error).toBe('out of memory while decoding a batch');
    expect(rec.finishedAt).not.toBeNull();
    expect(((await services.call('runs.list', {})) as unknown[]).length).toBeGreaterThanOrEqual(2);
  });

  it('marks a killed trainer interrupted, with why', async () => {
    const run = RunRecord.parse(await services.call('runs.start', { config: config('kill-1') }));
    await until('interrupted', () => lastStatus(run.id) === 'interrupted' && /SIGKILL/.test(statusEvents(run.id).at(-1)!.error ?? ''));
    expect(statusEvents(run.id).at(-1)!.error).toMatch(/killed by SIGKILL/);
    expect(RunRecord.parse(await services.call('runs.get', { id: run.id }).then((r) => (r as { run: unknown }).run)).status).toBe('interrupted');
  });

  it('pauses, resumes and cancels through the control column, with an ETA while running', async () => {
    const run = RunRecord.parse(await services.call('runs.start', { config: config('slow-1') }));
    await until('some steps', () => metricEvents(run.id).length >= 16);
    const running = (await services.call('runs.get', { id: run.id })) as { etaSeconds: number | null };
    // ~60 ms a step, 200 steps, 8 done: about 11 s left on an idle machine.
    expect(running.etaSeconds).toBeGreaterThan(2);
    expect(running.etaSeconds).toBeLessThan(120); // generous: a loaded machine runs the fake slower

    await services.call('runs.pause', { id: run.id });
    await until('paused', () => lastStatus(run.id) === 'paused');
    const n = metricEvents(run.id).length;
    await new Promise((r) => setTimeout(r, 300));
    expect(metricEvents(run.id).length).toBe(n); // nothing logged while paused
    expect(((await services.call('runs.get', { id: run.id })) as { etaSeconds: number | null }).etaSeconds).toBeNull();

    await services.call('runs.resume', { id: run.id });
    await until('running again', () => lastStatus(run.id) === 'running' && metricEvents(run.id).length > n);

    await services.call('runs.cancel', { id: run.id });
    await until('cancelled', () => lastStatus(run.id) === 'cancelled');
    await expect(services.call('runs.pause', { id: run.id })).rejects.toThrow(/cancelled/);
        const job = await until('run job cancelled', () =>
      (seen.filter((e) => e.event === 'job.progress').map((e) => e.data) as JobInfo[]).find((j) => j.kind === 'run' && j.status === 'cancelled'),
    );
    expect(job.message).toBe('cancelled');
  });

  it('resumes a cancelled run in a new trainer (--resume) from where it stopped', async () => {
    const run = RunRecord.parse(await services.call('runs.start', { config: config('slow-2') }));
    await until('some steps', () => metricEvents(run.id).length >= 6);
    await services.call('runs.cancel', { id: run.id });
    await until('cancelled', () => lastStatus(run.id) === 'cancelled');
    const stepsBefore = ((await services.call('runs.metrics', { id: run.id })) as MetricRow[]).filter((r) => r.name === 'loss').length;
    const resumed = RunRecord.parse(await services.call('runs.resume', { id: run.id }));
    expect(['queued', 'running']).toContain(resumed.status);
    await until('more steps', () => metricEvents(run.id).filter((r) => r.name === 'loss').length > stepsBefore + 3);
    const steps = ((await services.call('runs.metrics', { id: run.id })) as MetricRow[]).filter((r) => r.name === 'loss').map((r) => r.step);
    // Continued where it stopped: no step logged twice.
    expect(new Set(steps).size).toBe(steps.length);
    await services.call('runs.cancel', { id: run.id });
    await until('cancelled again', () => lastStatus(run.id) === 'cancelled' && statusEvents(run.id).filter((r) => r.status === 'cancelled').length >= 2);
  });

  it('follows a run started elsewhere and reads it interrupted when its trainer process is gone', async () => {
    const dead = 2 ** 22 + 12345; // above the default pid_max: no such process
    const ds = seeded.datasets.findDatasetId('cats')!;
    const rec = seeded.runs.createRun({ config: config('elsewhere-1'), datasetId: ds, status: 'running' });
    seeded.runs.updateRun(rec.id, { pid: dead });
    await until('interrupted', () => lastStatus(rec.id) === 'interrupted');
    expect(((await services.call('runs.list', {})) as RunRecord[]).find((r) => r.id === rec.id)!.status).toBe('interrupted');
    // A cancel on a queued run with no trainer at all settles it directly.
    const queued = seeded.runs.createRun({ config: config('elsewhere-2'), datasetId: ds });
    const cancelled = RunRecord.parse(await services.call('runs.cancel', { id: 'elsewhere-2' }));
    expect(cancelled.status).toBe('cancelled');
    expect(queued.id).toBe(cancelled.id);
  });

  it('compares runs: records, config diff and (absent) confusions', async () => {
    const res = (await services.call('runs.compare', { ids: ['ok-1', 'crash-1'] })) as {
      runs: RunRecord[];
      configDiff: { path: string; values: unknown[]; differs: boolean }[];
      confusions: unknown[];
    };
    expect(res.runs.map((r) => r.name)).toEqual(['ok-1', 'crash-1']);
    expect(res.configDiff.find((r) => r.path === 'name')).toEqual({ path: 'name', values: ['ok-1', 'crash-1'], differs: true });
    expect(res.configDiff.find((r) => r.path === 'epochs')).toEqual({ path: 'epochs', values: [2, 2], differs: false });
    expect(res.confusions).toEqual([null, null]);
    await expect(services.call('runs.compare', { ids: ['ok-1'] })).rejects.toThrow();
    await expect(services.call('runs.get', { id: 'no-such-run' })).rejects.toThrow('run "no-such-run" not found');
  });
});

describe('other jobs', () => {
  it('teacher training runs the CLI with the schema defaults and reports its result', async () => {
    const job = JobInfo.parse(await services.call('teachers.train', { name: 't1', dataset: 'cats', arch: 'resnet18' }));
    expect(job.kind).toBe('teacher-train');
    await until('done', () => ((seen.filter((e) => e.event === 'job.progress').map((e) => e.data) as JobInfo[]).find((j) => j.id === job.id && j.status === 'done')));
    const done = JobInfo.parse(await services.call('jobs.get', { id: job.id }));
    expect(done.result).toEqual({ ok: true, args: expect.arrayContaining(['teacher', 'train', 't1', '--size', '96', '--epochs', '10', '--json', '--home', home]) });
    await expect(services.call('teachers.train', { name: 't2', dataset: 'nope', arch: 'resnet18' })).rejects.toThrow('not found');
  });

  it('app.info reports the backend the CLI found', async () => {
    const info = (await services.call('app.info', {})) as { backend: { active: string }; home: string };
    expect(info.backend.active).toBe('cpu');
    expect(info.home).toBe(home);
    // The probe is not a user-visible job.
    expect(((await services.call('jobs.list', {})) as JobInfo[]).some((j) => j.kind === 'eval')).toBe(false);
  });

  it('rejects unknown methods and bad params with a message naming the field', async () => {
    await expect(services.call('nope.nope', {})).rejects.toThrow('unknown method');
    await expect(services.call('runs.metrics', { id: 1, afterId: 'x' })).rejects.toThrow(/afterId/);
  });
});
