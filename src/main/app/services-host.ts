// The services host: a plain Node process (system node, run through tsx) forked by Electron's main
// process. It owns the SQLite store, dataset import and watching, and the job children, so that the
// Electron main thread does no heavy work and never loads native modules built for another ABI.
// Talks to main over the fork IPC channel (see host-protocol.ts).
import { createServices } from '../services/index.js';
import { handleRequest } from '../services/wire.js';
import { ApiError } from '../services/types.js';
import { HostReady, JobsQuery, MediaRequest, type MediaReply } from './host-protocol.js';
import type { z } from 'zod';

function send(msg: unknown): void {
  if (process.connected) process.send!(msg);
}

async function main(): Promise<void> {
  if (!process.send) {
    process.stderr.write('distill services host: must be started by the app (no IPC channel)\n');
    process.exit(2);
  }
  const homeFlag = process.argv.indexOf('--home');
  const home = homeFlag >= 0 ? process.argv[homeFlag + 1] : undefined;
  if (!home) throw new Error('--home is required');
  const services = await createServices({ home });

  services.onEvent((event, data) => send({ event, data }));
  process.on('message', (raw: unknown) => {
    const media = MediaRequest.safeParse(raw);
    if (media.success) {
      void resolveMedia(media.data).then(send);
      return;
    }
    const jobs = JobsQuery.safeParse(raw);
    if (jobs.success) {
      void services.call('jobs.list', {}).then(
        (list) => send({ id: jobs.data.id, running: (list as { status: string }[]).filter((j) => j.status === 'running').length }),
        () => send({ id: jobs.data.id, running: 0 }),
      );
      return;
    }
    void handleRequest(services, raw).then((reply) => reply && send(reply));
  });

  async function resolveMedia(req: MediaRequest): Promise<MediaReply> {
    try {
      const m = services.media;
      const file =
        req.media === 'file' ? await m.file(req.arg) : req.media === 'thumb' ? await m.thumbnail(idArg(req.arg)) : await m.image(idArg(req.arg));
      return { id: req.id, ok: true, media: file };
    } catch (e) {
      return { id: req.id, ok: false, status: e instanceof ApiError ? e.status : 500, error: (e as Error).message };
    }
  }

  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    // The trainer children get SIGINT: they stop cleanly (status 'cancelled', checkpoints kept).
    void services.close().finally(() => process.exit(0));
  };
  process.on('disconnect', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  send({ ready: true, home } satisfies z.infer<typeof HostReady>);
}

function idArg(s: string): number {
  if (!/^\d{1,15}$/.test(s)) throw new ApiError('bad image id', 400);
  return Number(s);
}

main().catch((e: unknown) => {
  send({ ready: false, error: e instanceof Error ? e.message : String(e) } satisfies z.infer<typeof HostReady>);
  process.stderr.write(`distill services host: ${e instanceof Error ? e.stack : String(e)}\n`);
  setTimeout(() => process.exit(1), 100);
});
