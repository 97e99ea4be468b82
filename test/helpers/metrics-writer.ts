// A process that logs metrics as fast as it can until it is killed: the crash drills kill it with
// SIGKILL mid-transaction. Usage: node --import tsx metrics-writer.ts HOME RUN_ID
import { Store } from '../../src/main/store/index.js';

const [home, runArg] = process.argv.slice(2);
if (!home || !runArg) throw new Error('usage: metrics-writer.ts HOME RUN_ID');
const store = Store.open(home);
const runId = Number(runArg);
/** Rows per transaction: a kill may drop a whole batch, never part of one. */
const BATCH = 500;
for (let step = 1; ; step++) {
  const rows = Array.from({ length: BATCH }, (_, i) => ({ scope: 'step' as const, step, epoch: step / 10, name: `loss/p${i % 7}`, value: i + step / 1000 }));
  store.metrics.insertMetrics(runId, rows);
  if (step % 5 === 0) process.stdout.write(`${step}\n`);
}
