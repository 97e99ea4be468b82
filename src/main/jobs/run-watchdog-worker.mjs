// The run watchdog's thread (plain JS: a worker must load under node, tsx and vitest alike). It lives
// off the main thread's event loop, so it keeps working while the main thread is stuck inside WASM.
// Every pollMs it reads the heartbeat the main thread writes into a SharedArrayBuffer (see
// run-watchdog.ts for the layout); every beatMs it stamps the run's heartbeat in SQLite; when no
// progress came within the limit it captures the main thread's stack (node:inspector), writes it to the
// run's log, marks the run 'stalled', prints one line with the resume command and ends the process.
import fs from 'node:fs';
import inspector from 'node:inspector';
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ sab: SharedArrayBuffer, dbFile: string, runId: number, runName: string, logFile: string, pid: number, pollMs: number, beatMs: number, phases: string[], exitCode: number }} */
const cfg = workerData;
const hb = new Float64Array(cfg.sab);
const LAST = 0, LIMIT = 1, PHASE = 2, EPOCH = 3, STEP = 4, STOP = 5;

const db = new Database(cfg.dbFile);
db.pragma('busy_timeout = 10000');
const beat = db.prepare('UPDATE runs SET heartbeat_at = ?, pid = ? WHERE id = ?');
let lastBeat = 0;
let firing = false;
// CPU time of the whole process when the last progress was seen: a step spinning inside WASM burns
// CPU without progress, while a trainer starved by other programs (a busy laptop, a niced job) burns
// almost none. Only the first is a stall within the limit; a silent one is caught after 10 × the limit.
let progressSeen = hb[LAST];
let cpuAtProgress = cpuSeconds();
const STARVED_FACTOR = 10;

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function stamp(now) {
  try {
    beat.run(now, cfg.pid, cfg.runId);
    lastBeat = now;
  } catch {
    // busy beyond the timeout: the next round retries; staleness allows many missed beats
  }
}

/** The main thread's JS stack, paused through the inspector (frames only; null when it cannot). */
function captureStack(timeoutMs) {
  return new Promise((resolve) => {
    let session;
    const done = (v) => {
      clearTimeout(timer);
      try {
        session?.post('Debugger.resume', () => session.disconnect());
      } catch {
        /* already gone */
      }
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    try {
      session = new inspector.Session();
      session.connectToMainThread();
      // Debugger.enable reports every script first; frames name theirs by id only.
      const scripts = new Map();
      session.on('Debugger.scriptParsed', ({ params }) => scripts.set(params.scriptId, params.url));
      session.on('Debugger.paused', ({ params }) => {
        const frames = params.callFrames.slice(0, 15).map((f) => {
          const url = scripts.get(f.location.scriptId) || f.url || 'wasm/native';
          return `${f.functionName || '(anonymous)'} (${url}:${f.location.lineNumber + 1}:${f.location.columnNumber + 1})`;
        });
        done(frames);
      });
      session.post('Debugger.enable', () => session.post('Debugger.pause'));
    } catch {
      done(null);
    }
  });
}

async function fire(now) {
  firing = true;
  const idle = Math.round((now - hb[LAST]) / 1000);
  const limit = Math.round(hb[LIMIT] / 1000);
  const cpu = Math.round(cpuSeconds() - cpuAtProgress);
  const phase = cfg.phases[hb[PHASE]] ?? 'unknown';
  const where = `phase ${phase}, epoch ${hb[EPOCH] + 1}, step ${hb[STEP]}`;
  const frames = await captureStack(5000);
  const message = `stalled: no progress for ${idle} s (limit ${limit} s; ${cpu} CPU-s used meanwhile) in ${where}`;
  const log =
    `${new Date().toISOString()} ${message}\n` +
    (frames ? frames.map((f) => `    at ${f}\n`).join('') : '    (the main thread stack could not be captured)\n');
  try {
    fs.appendFileSync(cfg.logFile, log);
  } catch {
    /* the status and the stderr line still tell */
  }
  try {
    db.prepare(
      `UPDATE runs SET status = 'stalled', error = ?, finished_at = ?, pid = NULL WHERE id = ? AND status IN ('queued','running','paused')`,
    ).run(`${message}; resume with: distill run --resume ${cfg.runId}`, new Date().toISOString(), cfg.runId);
  } catch {
    /* the dead pid makes it read as interrupted */
  }
  fs.writeSync(2, `distill: run ${cfg.runId} "${cfg.runName}" stalled (${message}); resume with: distill run --resume ${cfg.runId}\n`);
  // A worker's process.exit ends only the worker: the whole process goes with a signal to itself.
  process.kill(cfg.pid, 'SIGKILL');
}

const timer = setInterval(() => {
  if (hb[STOP] === 1) {
    clearInterval(timer);
    db.close();
    return;
  }
  if (firing) return;
  const now = Date.now();
  if (now - lastBeat >= cfg.beatMs) stamp(now);
  if (hb[LAST] !== progressSeen) {
    progressSeen = hb[LAST];
    cpuAtProgress = cpuSeconds();
  }
  const idle = now - hb[LAST];
  if (hb[LAST] > 0 && idle > hb[LIMIT]) {
    const busy = cpuSeconds() - cpuAtProgress >= (0.5 * hb[LIMIT]) / 1000;
    if (busy || idle > STARVED_FACTOR * hb[LIMIT]) void fire(now);
  }
}, cfg.pollMs);
stamp(Date.now());
