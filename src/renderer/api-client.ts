// The renderer's one way to the backend: the preload bridge (Electron) when present, else the
// `distill serve` WebSocket. Either way params are checked with the method's input schema before they
// leave and results are parsed with its output schema when they arrive.
import {
  api,
  events,
  EventMessage,
  ResponseMessage,
  type DistillApi,
  type EventName,
  type EventPayload,
  type MethodName,
  type Params,
  type Result,
} from '../shared/api.js';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ClientApi extends DistillApi {
  readonly transport: 'ipc' | 'websocket';
  connection(): ConnectionState;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** Electron only: the filesystem path of a dropped File (null in a browser, which never reveals it). */
  pathForFile(file: File): string | null;
  thumbUrl(imageId: number): string;
  /** The full-size image of an indexed image. */
  imageUrl(imageId: number): string;
  fileUrl(path: string): string;
}

/** What the preload puts on window.distill: the API, and optionally a helper for dropped files. */
interface PreloadBridge extends DistillApi {
  pathForFile?: (file: File) => string;
  /** Override the default distill-media:// URLs (the dev mock serves images over http). */
  thumbUrl?: (imageId: number) => string;
  imageUrl?: (imageId: number) => string;
  fileUrl?: (path: string) => string;
}

function preloadBridge(): PreloadBridge | null {
  const candidate = (globalThis as { distill?: unknown }).distill;
  if (candidate && typeof candidate === 'object' && typeof (candidate as PreloadBridge).call === 'function') {
    return candidate as PreloadBridge;
  }
  return null;
}

function checkParams<M extends MethodName>(method: M, params: Params<M>): unknown {
  const schema = api[method]?.input;
  if (!schema) throw new Error(`unknown API method "${method}"`);
  return schema.parse(params ?? {});
}

function parseResult<M extends MethodName>(method: M, raw: unknown): Result<M> {
  const parsed = api[method].output.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`bad reply from ${method}: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}`);
  }
  return parsed.data as Result<M>;
}

function parseEvent<E extends EventName>(event: E, raw: unknown): EventPayload<E> | null {
  const schema = events[event];
  if (!schema) return null;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    console.warn(`distill: dropped malformed "${event}" event`, parsed.error.issues[0]);
    return null;
  }
  return parsed.data as EventPayload<E>;
}

class IpcClient implements ClientApi {
  readonly transport = 'ipc' as const;
  constructor(private readonly bridge: PreloadBridge) {}
  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const sent = checkParams(method, params) as Params<M>;
    return parseResult(method, await this.bridge.call(method, sent));
  }
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    return this.bridge.on(event, (raw: unknown) => {
      const payload = parseEvent(event, raw);
      if (payload) listener(payload);
    });
  }
  connection(): ConnectionState {
    return 'open';
  }
  onConnection(): () => void {
    return () => {};
  }
  pathForFile(file: File): string | null {
    return this.bridge.pathForFile ? this.bridge.pathForFile(file) || null : null;
  }
  thumbUrl(imageId: number): string {
    return this.bridge.thumbUrl ? this.bridge.thumbUrl(imageId) : `distill-media://thumb/${imageId}`;
  }
  imageUrl(imageId: number): string {
    return this.bridge.imageUrl ? this.bridge.imageUrl(imageId) : `distill-media://image/${imageId}`;
  }
  fileUrl(path: string): string {
    return this.bridge.fileUrl ? this.bridge.fileUrl(path) : `distill-media://file/?path=${encodeURIComponent(path)}`;
  }
}

interface Pending {
  method: MethodName;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const TOKEN_KEY = 'distill.token';

/** The session token: from `?token=` (first visit), else this tab's storage, else the server's cookie. */
export function findToken(loc: Location = location): string | null {
  const fromUrl = new URLSearchParams(loc.search).get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      /* storage disabled: the cookie still works */
    }
    return fromUrl;
  }
  try {
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (stored) return stored;
  } catch {
    /* ignore */
  }
  const cookie = document.cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith('distill_token='));
  return cookie ? decodeURIComponent(cookie.slice('distill_token='.length)) : null;
}

class WebSocketClient implements ClientApi {
  readonly transport = 'websocket' as const;
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests made while the socket is down, sent in order once it opens. */
  private outbox: string[] = [];
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly connListeners = new Set<(state: ConnectionState) => void>();
  private state: ConnectionState = 'connecting';
  private attempts = 0;

  constructor(private readonly url: string) {
    this.connect();
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const l of this.connListeners) l(state);
  }

  private connect(): void {
    this.setState('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.setState('open');
      const queued = this.outbox;
      this.outbox = [];
      for (const msg of queued) ws.send(msg);
    };
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') this.handle(e.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      // In-flight requests may or may not have run; retrying could start a run twice, so fail them.
      for (const [id, p] of this.pending) {
        p.reject(new Error(`connection lost during ${p.method}`));
        this.pending.delete(id);
      }
      this.setState('closed');
      const delay = Math.min(5000, 250 * 2 ** this.attempts++);
      setTimeout(() => this.connect(), delay);
    };
  }

  private handle(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    const ev = EventMessage.safeParse(raw);
    if (ev.success) {
      const set = this.listeners.get(ev.data.event);
      if (!set || set.size === 0) return;
      const payload = parseEvent(ev.data.event as EventName, ev.data.data);
      if (payload) for (const l of set) l(payload);
      return;
    }
    const res = ResponseMessage.safeParse(raw);
    if (!res.success) return;
    const p = this.pending.get(res.data.id);
    if (!p) return;
    this.pending.delete(res.data.id);
    if (res.data.ok) {
      try {
        p.resolve(parseResult(p.method, res.data.result));
      } catch (err) {
        p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    } else {
      p.reject(new Error(res.data.error));
    }
  }

  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    let sent: unknown;
    try {
      sent = checkParams(method, params);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    const msg = JSON.stringify({ id, method, params: sent });
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(msg);
      else this.outbox.push(msg);
    });
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  connection(): ConnectionState {
    return this.state;
  }
  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.connListeners.add(listener);
    return () => this.connListeners.delete(listener);
  }
  pathForFile(): string | null {
    return null;
  }
  thumbUrl(imageId: number): string {
    return `/media/thumb/${imageId}`;
  }
  imageUrl(imageId: number): string {
    return `/media/image/${imageId}`;
  }
  fileUrl(path: string): string {
    return `/media/file?path=${encodeURIComponent(path)}`;
  }
}

export function socketUrl(loc: Location = location, token: string | null = findToken(loc)): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export function createApiClient(): ClientApi {
  const bridge = preloadBridge();
  return bridge ? new IpcClient(bridge) : new WebSocketClient(socketUrl());
}
