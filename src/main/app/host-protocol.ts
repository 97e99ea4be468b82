// Messages between the Electron main process and the services host (a plain Node child that owns the
// store, the watchers and the job children). API calls and events use the shared wire format; media
// lookups are a separate, main-only message so the renderer can never reach them as API methods.
import { z } from 'zod';

export const MediaRequest = z.object({
  id: z.number().int(),
  media: z.enum(['thumb', 'image', 'file']),
  arg: z.string().max(8192),
});
export type MediaRequest = z.infer<typeof MediaRequest>;

export const MediaReply = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), media: z.object({ path: z.string(), contentType: z.string() }) }),
  z.object({ id: z.number().int(), ok: z.literal(false), status: z.number().int(), error: z.string() }),
]);
export type MediaReply = z.infer<typeof MediaReply>;

/** Sent by the host once services are up (or failed to start). */
export const HostReady = z.union([
  z.object({ ready: z.literal(true), home: z.string() }),
  z.object({ ready: z.literal(false), error: z.string() }),
]);

/** Asked by main when the last window closes: keep the app alive while jobs run. */
export const JobsQuery = z.object({ id: z.number().int(), jobs: z.literal('running') });
export const JobsReply = z.object({ id: z.number().int(), running: z.number().int() });
