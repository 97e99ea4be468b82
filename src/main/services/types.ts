// What the transports (WebSocket server, Electron IPC) need from the services: one validated entry
// point for every API method, the event stream, and media resolution behind the path guard.
import type { EventName, EventPayload } from '../../shared/api.js';

export type EventListener = <E extends EventName>(event: E, data: EventPayload<E>) => void;

/** A failure the caller caused (bad params, unknown id): reported as is, never logged as a bug. */
export class ApiError extends Error {
  constructor(message: string, readonly status: 400 | 403 | 404 | 409 = 400) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface MediaFile {
  path: string;
  contentType: string;
}

export interface MediaSource {
  /** The cached thumbnail of an image (made on first request); ApiError 404 for an unknown image. */
  thumbnail(imageId: number): Promise<MediaFile>;
  /** The original file of an indexed image. */
  image(imageId: number): Promise<MediaFile>;
  /**
   * A file named by path, allowed only inside the registered dataset folders or the thumbnail cache
   * (symlinks resolved); ApiError 403 otherwise.
   */
  file(requested: string): Promise<MediaFile>;
}

export interface Services {
  readonly home: string;
  /** Validates params with the method's input schema and the result with its output schema. */
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: EventListener): () => void;
  readonly media: MediaSource;
  /** Stops pollers and watchers; running child jobs are cancelled (the trainer stops cleanly). */
  close(): Promise<void>;
}
