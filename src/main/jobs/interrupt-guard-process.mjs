// Ctrl-C that always works: a tiny process in the trainer's process group. A terminal's Ctrl-C reaches
// both; the trainer cancels cleanly between steps, but a main thread stuck inside WASM never runs its
// signal handler. So: on SIGINT/SIGTERM this waits the grace period and, if the trainer is still
// there, ends it (SIGKILL). Its checkpoints stay; its pid is gone, so the registry reads 'interrupted'.
// It leaves by itself as soon as the trainer is gone. Args: trainer pid, grace ms, run id.
const [pidArg, graceArg, runArg] = process.argv.slice(2);
const pid = Number(pidArg);
const graceMs = Number(graceArg);
const runId = Number(runArg);

const alive = () => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

let pending = false;
const onSignal = () => {
  if (pending) return;
  pending = true;
  setTimeout(() => {
    if (!alive()) process.exit(0);
    process.stderr.write(
      `distill: run ${runId} did not stop within ${Math.round(graceMs / 1000)} s of the interrupt; ended it (checkpoints kept; resume with: distill run --resume ${runId})\n`,
    );
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    process.exit(0);
  }, graceMs);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
setInterval(() => {
  if (!alive()) process.exit(0);
}, 500);
