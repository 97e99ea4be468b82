// React access to the API client: a context, a data-loading hook that re-runs on reconnect, and an
// event subscription hook.
import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { EventName, EventPayload, MethodName, Params, Result } from '../shared/api.js';
import type { ClientApi, ConnectionState } from './api-client.js';
import { errorText } from './lib/format.js';

const ApiContext = createContext<ClientApi | null>(null);

export function ApiProvider({ client, children }: { client: ClientApi; children: ReactNode }) {
  return <ApiContext.Provider value={client}>{children}</ApiContext.Provider>;
}

export function useApi(): ClientApi {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi outside ApiProvider');
  return client;
}

export function useConnection(): ConnectionState {
  const client = useApi();
  return useSyncExternalStore(
    (cb) => client.onConnection(cb),
    () => client.connection(),
  );
}

/** Counts reconnections so that loaders refetch what they may have missed while offline. */
function useOnlineEpoch(): number {
  const client = useApi();
  const [epoch, setEpoch] = useState(0);
  useEffect(
    () =>
      client.onConnection((s) => {
        if (s === 'open') setEpoch((e) => e + 1);
      }),
    [client],
  );
  return epoch;
}

export interface CallState<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
  setData: (update: (prev: T | undefined) => T | undefined) => void;
}

/** Calls `method` whenever its params change (null params: not yet). Stale replies are dropped. */
export function useCall<M extends MethodName>(method: M, params: Params<M> | null): CallState<Result<M>> {
  const client = useApi();
  const epoch = useOnlineEpoch();
  const key = params === null ? null : JSON.stringify(params);
  const [data, setDataState] = useState<Result<M> | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);

  useEffect(() => {
    if (key === null) return;
    const mine = ++seq.current;
    setLoading(true);
    client
      .call(method, JSON.parse(key) as Params<M>)
      .then((result) => {
        if (seq.current !== mine) return;
        setDataState(result);
        setError(null);
      })
      .catch((err: unknown) => {
        if (seq.current === mine) setError(errorText(err));
      })
      .finally(() => {
        if (seq.current === mine) setLoading(false);
      });
  }, [client, method, key, nonce, epoch]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const setData = useCallback((update: (prev: Result<M> | undefined) => Result<M> | undefined) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}

/** Subscribes to a server event for the component's lifetime; the latest handler is always used. */
export function useEvent<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): void {
  const client = useApi();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => client.on(event, (p) => ref.current(p)), [client, event]);
}

/** Reloads a list when something may have added to it: a job finished, a dataset or a run changed. */
export function useRefreshOnChange(reload: () => void): void {
  useEvent('job.progress', (j) => {
    if (j.status !== 'running') reload();
  });
  useEvent('dataset.changed', () => reload());
  useEvent('run.status', () => reload());
}

/** Runs `fn` every `ms` while `active`. */
export function useInterval(fn: () => void, ms: number, active = true): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [ms, active]);
}
