// Renders batches on worker threads so augmentation does not run on the thread that drives the
// training step: on a 2-core machine the training thread stays busy while a worker fills the next
// batch on the other core (sharp already decodes on libuv's threads). Sources travel by structured
// clone (a memcpy of ~36 KB per 96-px image); the finished Float32 batch comes back transferred.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { makeRenderer, type RenderView } from './render.js';

// `__name` is the helper esbuild (tsx, vitest) wraps named functions in; the worker has no module scope.
const WORKER_SOURCE = `
const __name = (f) => f;
const { parentPort } = require('node:worker_threads');
const renderView = (${makeRenderer.toString()})();
parentPort.on('message', (m) => {
  try {
    const per = m.size * m.size * 3;
    const x = new Float32Array(m.sources.length * per);
    for (let r = 0; r < m.sources.length; r++) renderView(m.sources[r], m.side, m.views[r], m.size, x, r * per);
    parentPort.postMessage({ id: m.id, x }, [x.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
`;

interface Reply {
  id: number;
  x?: Float32Array;
  error?: string;
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (x: Float32Array) => void; reject: (e: Error) => void }>;
}

export class RenderPool {
  private readonly slots: (Slot | null)[];
  private nextId = 1;
  private closed = false;

  constructor(readonly threads = 1) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`render threads must be a positive integer, got ${threads}`);
    this.slots = Array.from({ length: threads }, () => null);
  }

  private spawn(i: number): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'distill-render' });
    const slot: Slot = { worker, pending: new Map() };
    // Idle workers must not keep the process alive; busy ones must (ref'd while jobs are pending).
    worker.unref();
    const failAll = (err: Error): void => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.slots[i] === slot) this.slots[i] = null; // respawned on the next job
    };
    worker.on('message', (m: Reply) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if (m.x) p.resolve(m.x);
      else p.reject(new Error(m.error ?? 'render worker sent no result'));
    });
    worker.on('error', (e) => failAll(new Error(`render worker failed: ${e.message}`)));
    worker.on('exit', (code) => failAll(new Error(`render worker exited (code ${code})`)));
    return slot;
  }

  /** Renders views[r] of sources[r] (side×side×3 uint8) into one N×size×size×3 Float32Array. */
  render(sources: readonly Uint8Array[], side: number, views: readonly RenderView[], size: number): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('render pool is closed'));
    if (sources.length !== views.length) return Promise.reject(new Error('render: sources and views differ in length'));
    let best = 0;
    for (let i = 1; i < this.slots.length; i++) {
      if ((this.slots[i]?.pending.size ?? 0) < (this.slots[best]?.pending.size ?? 0)) best = i;
    }
    const slot = (this.slots[best] ??= this.spawn(best));
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, sources, side, views: views.map((v) => ({ x: v.x, y: v.y, w: v.w, h: v.h, flip: v.flip })), size });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s, i) => {
        this.slots[i] = null;
        if (s) await s.worker.terminate();
      }),
    );
  }
}

let shared: RenderPool | null | undefined;

/**
 * The process-wide render pool: one worker where there is a second core to run it, otherwise null
 * (render on the calling thread). Workers are unref'd while idle, so the pool never holds the
 * process open.
 */
export function sharedRenderPool(): RenderPool | null {
  if (shared === undefined) shared = availableParallelism() >= 2 ? new RenderPool(1) : null;
  return shared;
}
