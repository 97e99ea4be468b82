// createServices: every method of the API contract (src/shared/api.ts) over one store, one job runner
// and one event stream. Used by `distill serve` (WebSocket) and the Electron services host (IPC).
// Inputs are parsed with the method's schema, outputs checked against its output schema.
import { EventEmitter } from 'node:events';
import { api, events, type EventName, type EventPayload, type MethodName } from '../../shared/api.js';
import { Store, NotFoundError } from '../store/index.js';
import type { HandlerGroup, Handlers, ServiceContext } from './context.js';
import { JobRunner } from './job-runner.js';
import { RunMonitor } from './run-monitor.js';
import { ApiError, type EventListener, type Services } from './types.js';
import { appInfoHandlers } from './app-info.js';
import { datasetService } from './datasets.js';
import { imageHandlers } from './images.js';
import { teacherHandlers } from './teachers.js';
import { miningHandlers } from './mining.js';
import { runHandlers } from './runs.js';
import { sweepHandlers } from './sweeps.js';
import { jobHandlers } from './jobs.js';
import { createMedia } from './media.js';

export interface ServicesOptions {
  home: string;
  /** Script run as the CLI for jobs (tests pass a fake); default bin/distill.js. */
  cli?: string;
  /** Node for job children; default this process's executable. */
  nodePath?: string;
  /** Metric/status poll interval for live runs (ms). */
  pollMs?: number;
  /** How often runs not started here get their trainer pid checked (ms). */
  pidCheckMs?: number;
  /** Watch dataset folders for changes (chokidar); default true. */
  watch?: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function createServices(opts: ServicesOptions): Promise<Services> {
  const store = Store.open(opts.home);
  const jobs = new JobRunner({ home: store.home, cli: opts.cli, nodePath: opts.nodePath, env: opts.env });
  const bus = new EventEmitter();
  bus.setMaxListeners(0);

  const emit = <E extends EventName>(event: E, data: EventPayload<E>): void => {
    // Events cross a process boundary too: a malformed one is a bug here, not something to send.
    const checked = events[event].safeParse(data);
    if (!checked.success) {
      process.stderr.write(`distill: dropped invalid ${event} event: ${checked.error.issues[0]?.message}\n`);
      return;
    }
    bus.emit('event', event, checked.data);
  };
  const ctx: ServiceContext = { home: store.home, store, jobs, emit };
  jobs.on('job', (info) => emit('job.progress', info));

  const monitor = new RunMonitor(ctx, { pollMs: opts.pollMs, pidCheckMs: opts.pidCheckMs });
  monitor.start();
  const datasets = datasetService(ctx, { watch: opts.watch ?? true });

  const handlers: Handlers = {
    ...appInfoHandlers(ctx),
    ...datasets.handlers,
    ...imageHandlers(ctx),
    ...teacherHandlers(ctx),
    ...miningHandlers(ctx),
    ...runHandlers(ctx, monitor),
    ...sweepHandlers(ctx, monitor),
    ...jobHandlers(ctx),
  } satisfies HandlerGroup<MethodName>;

  let closed = false;
  return {
    home: store.home,
    media: createMedia(ctx, () => datasets.roots()),

    async call(method: string, params: unknown): Promise<unknown> {
      if (closed) throw new ApiError('the services are shutting down', 409);
      if (!Object.hasOwn(api, method)) throw new ApiError(`unknown method "${method}"`, 404);
      const m = method as MethodName;
      const input = api[m].input.parse(params ?? {});
      let result: unknown;
      try {
        result = await (handlers[m] as (p: unknown) => unknown)(input);
      } catch (e) {
        if (e instanceof NotFoundError) throw new ApiError(e.message, 404);
        throw e;
      }
      const out = api[m].output.safeParse(result);
      if (!out.success) {
        const issue = out.error.issues[0];
        throw new Error(`internal error: ${method} produced an invalid result (${issue?.path.join('.')}: ${issue?.message})`);
      }
      return out.data;
    },

    onEvent(listener: EventListener): () => void {
      const l = (event: EventName, data: unknown) => {
        try {
          (listener as (e: EventName, d: unknown) => void)(event, data);
        } catch (e) {
          process.stderr.write(`distill: event listener failed: ${(e as Error).message}\n`);
        }
      };
      bus.on('event', l);
      return () => bus.off('event', l);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      monitor.stop();
      await datasets.close();
      await jobs.shutdown();
      // Last statuses written by the exiting children, then the db.
      monitor.poll();
      store.close();
      bus.removeAllListeners();
    },
  };
}

export type { Services } from './types.js';
