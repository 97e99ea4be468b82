// Loads a filtered image list page by page as the grid scrolls, so 25,000 rows never travel at once.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ImageQuery, ImageRow } from '../shared/api.js';
import { useApi, useConnection } from './api-context.js';
import { errorText } from './lib/format.js';

export const PAGE_SIZE = 400;
export type ImageFilter = Omit<ImageQuery, 'offset' | 'limit'>;

export interface ImagePages {
  total: number | null;
  get: (index: number) => ImageRow | undefined;
  ensure: (first: number, last: number) => void;
  error: string | null;
  version: number;
}

export function useImagePages(filter: ImageFilter | null): ImagePages {
  const client = useApi();
  const conn = useConnection();
  const key = filter ? JSON.stringify(filter) : null;
  const pages = useRef(new Map<number, ImageRow[]>());
  const inflight = useRef(new Set<number>());
  const generation = useRef(0);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  const load = useCallback(
    (page: number) => {
      if (key === null || pages.current.has(page) || inflight.current.has(page)) return;
      const gen = generation.current;
      inflight.current.add(page);
      const q = JSON.parse(key) as ImageFilter;
      client
        .call('images.query', { ...q, offset: page * PAGE_SIZE, limit: PAGE_SIZE })
        .then((r) => {
          if (gen !== generation.current) return;
          pages.current.set(page, r.items);
          setTotal(r.total);
          setError(null);
          setVersion((v) => v + 1);
        })
        .catch((err: unknown) => {
          if (gen === generation.current) setError(errorText(err));
        })
        .finally(() => {
          if (gen === generation.current) inflight.current.delete(page);
        });
    },
    [client, key],
  );

  useEffect(() => {
    generation.current++;
    pages.current = new Map();
    inflight.current = new Set();
    setTotal(null);
    setError(null);
    setVersion((v) => v + 1);
    if (conn === 'open') load(0);
  }, [key, load, conn]);

  const ensure = useCallback(
    (first: number, last: number) => {
      for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) load(p);
    },
    [load],
  );

  const get = useCallback((i: number) => pages.current.get(Math.floor(i / PAGE_SIZE))?.[i % PAGE_SIZE], []);

  return { total, get, ensure, error, version };
}
