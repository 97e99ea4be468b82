// Electron main's side of the services host: forks it under a plain Node (so native modules match),
// forwards API calls, media lookups and events. No Electron import here, so it is testable under Node.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventMessage, ResponseMessage } from '../../shared/api.js';
import { HostReady, JobsReply, MediaReply } from './host-protocol.js';
import type { MediaFile } from '../services/types.js';

export interface HostOptions {
  home: string;
  /** Node executable for the host; Electron's own binary only works if native modules were rebuilt for it. */
  nodePath: string;
  /** Repository root (tsx and bin/ live there). */
  appRoot: string;
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

export class MediaError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class HostClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: string, data: unknown) => void>();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw: unknown) => this.onMessage(raw));
    child.on('exit', (code, signal) => {
      this.exited = true;
      const err = new Error(`the services process exited (${signal ?? `code ${code}`})`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  static hostScript(appRoot: string): string {
    return path.join(appRoot, 'src', 'main', 'app', 'services-host.ts');
  }

  static async start(opts: HostOptions): Promise<HostClient> {
    const child = fork(HostClient.hostScript(opts.appRoot), ['--home', opts.home], {
      execPath: opts.nodePath,
      execArgv: ['--import', 'tsx'],
      cwd: opts.appRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const client = new HostClient(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error('the services process did not start in time'));
      }, opts.startTimeoutMs ?? 60_000);
      const onMsg = (raw: unknown) => {
        const ready = HostReady.safeParse(raw);
        if (!ready.success) return;
        clearTimeout(timer);
        child.off('message', onMsg);
        if (ready.data.ready) resolve();
        else reject(new Error(ready.data.error));
      };
      child.on('message', onMsg);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the services process exited with code ${code} before it was ready`));
      });
    });
    return client;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private onMessage(raw: unknown): void {
    const ev = EventMessage.safeParse(raw);
    if (ev.success && !(raw as { id?: unknown }).id) {
      for (const l of this.listeners) l(ev.data.event, ev.data.data);
      return;
    }
    const id = (raw as { id?: unknown })?.id;
    if (typeof id !== 'number') return;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.resolve(raw);
  }

  private request(msg: Record<string, unknown>): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('the services process is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...msg, id });
    });
  }

  async call(method: string, params: unknown): Promise<unknown> {
    const reply = ResponseMessage.parse(await this.request({ method, params }));
    if (!reply.ok) throw new Error(reply.error);
    return reply.result;
  }

  async media(kind: 'thumb' | 'image' | 'file', arg: string): Promise<MediaFile> {
    const reply = MediaReply.parse(await this.request({ media: kind, arg }));
    if (!reply.ok) throw new MediaError(reply.error, reply.status);
    return reply.media;
  }

  async runningJobs(): Promise<number> {
    return JobsReply.parse(await this.request({ jobs: 'running' })).running;
  }

  onEvent(listener: (event: string, data: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Disconnecting makes the host close its services (jobs get SIGINT) and exit. */
  async close(timeoutMs = 20_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** This repository's root, from src/main/app (source) or out/main (electron-vite build). */
export function defaultAppRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(path.dirname(here)) === 'out' ? path.resolve(here, '..', '..') : path.resolve(here, '..', '..', '..');
}
