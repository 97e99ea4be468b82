// The preload: exposes the typed API on window.distill (call, on) and, for the Datasets drop zone,
// the path of a dropped file; nothing else. Runs sandboxed, so it imports only 'electron'. Inputs
// are validated again in main; results are validated by the renderer's client.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { DistillApi, EventName, EventPayload, MethodName, Params, Result } from '../shared/api.js';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../main/app/channels.js';

type Envelope = { ok: true; result: unknown } | { ok: false; error: string };

const bridge: DistillApi & { pathForFile(file: File): string } = {
  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const reply = (await ipcRenderer.invoke(CALL_CHANNEL, method, params)) as Envelope;
    if (!reply || typeof reply !== 'object') throw new Error(`no reply from ${method}`);
    if (!reply.ok) throw new Error(reply.error);
    return reply.result as Result<M>;
  },
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    // The IpcRendererEvent (and its sender) never reaches the page.
    const handler = (_e: IpcRendererEvent, name: unknown, data: unknown) => {
      if (name === event) listener(data as EventPayload<E>);
    };
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    };
  },
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
};

contextBridge.exposeInMainWorld('distill', bridge);
