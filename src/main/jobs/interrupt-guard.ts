// Starts the interrupt guard (interrupt-guard-process.mjs) beside a trainer: Ctrl-C ends the process
// after a grace period even when its main thread cannot run the signal handler.
import { spawn } from 'node:child_process';
import path from 'node:path';

/** Grace before the guard ends a trainer that ignored Ctrl-C ($DISTILL_INTERRUPT_GRACE_SECONDS, default 10 s). */
export function interruptGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DISTILL_INTERRUPT_GRACE_SECONDS;
  if (raw === undefined || raw === '') return 10_000;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`DISTILL_INTERRUPT_GRACE_SECONDS: expected a positive number of seconds, got "${raw}"`);
  return s * 1000;
}

/** Spawns the guard in this process's group; it exits by itself once this process is gone. */
export function startInterruptGuard(runId: number, graceMs = interruptGraceMs()): { stop(): void } {
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'interrupt-guard-process.mjs');
  const child = spawn(process.execPath, [script, String(process.pid), String(graceMs), String(runId)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.unref();
  child.on('error', (e) => process.stderr.write(`distill: interrupt guard: ${e.message}\n`));
  return {
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
