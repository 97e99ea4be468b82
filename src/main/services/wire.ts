// One request in the wire format of src/shared/api.ts → one response; shared by the WebSocket server,
// the Electron IPC handler and the Electron services host. Never throws.
import { z } from 'zod';
import { RequestMessage, type ResponseMessage } from '../../shared/api.js';
import { ApiError, type Services } from './types.js';

export type Response = z.infer<typeof ResponseMessage>;

export async function handleRequest(services: Services, raw: unknown): Promise<Response | null> {
  const req = RequestMessage.safeParse(raw);
  if (!req.success) {
    const id = raw && typeof raw === 'object' && Number.isInteger((raw as { id?: unknown }).id) ? (raw as { id: number }).id : null;
    return id === null ? null : { id, ok: false, error: 'malformed request' };
  }
  const { id, method, params } = req.data;
  try {
    const result = await services.call(method, params);
    return { id, ok: true, result };
  } catch (e) {
    return { id, ok: false, error: errorMessage(e) };
  }
}

/** A message for the UI: schema problems name the field; internal errors keep their one-line message. */
export function errorMessage(e: unknown): string {
  if (e instanceof z.ZodError) {
    const first = e.issues[0];
    return first ? `${first.path.length ? first.path.join('.') + ': ' : ''}${first.message}` : 'invalid input';
  }
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message.split('\n')[0] ?? 'error';
  return String(e);
}
