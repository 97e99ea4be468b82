// Live metrics of one or more runs: the stored rows first, then `run.metrics` pushes, with a slow
// catch-up poll (a push can be missed across a reconnect). Redraws are batched to ~4 per second.
import { useEffect, useRef, useState } from 'react';
import type { MetricRow } from '../shared/domain.js';
import { useApi, useConnection, useEvent } from './api-context.js';
import { SeriesBook } from './lib/series.js';

export function useRunMetrics(runIds: readonly number[], live: boolean): { books: Map<number, SeriesBook>; version: number } {
  const client = useApi();
  const conn = useConnection();
  const key = runIds.join(',');
  const books = useRef(new Map<number, SeriesBook>());
  const loaded = useRef(new Set<number>());
  const buffered = useRef(new Map<number, MetricRow[]>());
  const [version, setVersion] = useState(0);
  const dirty = useRef(false);

  const bump = () => {
    if (dirty.current) return;
    dirty.current = true;
    setTimeout(() => {
      dirty.current = false;
      setVersion((v) => v + 1);
    }, 250);
  };

  useEffect(() => {
    books.current = new Map(runIds.map((id) => [id, books.current.get(id) ?? new SeriesBook()]));
    let stop = false;
    for (const id of runIds) {
      if (loaded.current.has(id)) continue;
      const book = books.current.get(id)!;
      client
        .call('runs.metrics', { id, afterId: book.lastId })
        .then((rows) => {
          if (stop) return;
          book.add(rows);
          loaded.current.add(id);
          book.add(buffered.current.get(id) ?? []);
          buffered.current.delete(id);
          bump();
        })
        .catch(() => {});
    }
    return () => {
      stop = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);

  useEvent('run.metrics', ({ runId, rows }) => {
    const book = books.current.get(runId);
    if (!book) return;
    if (!loaded.current.has(runId)) {
      buffered.current.set(runId, [...(buffered.current.get(runId) ?? []), ...rows]);
      return;
    }
    if (book.add(rows)) bump();
  });

  useEffect(() => {
    if (!live || conn !== 'open') return;
    const t = setInterval(() => {
      for (const [id, book] of books.current) {
        if (!loaded.current.has(id)) continue;
        client
          .call('runs.metrics', { id, afterId: book.lastId })
          .then((rows) => {
            if (book.add(rows)) bump();
          })
          .catch(() => {});
      }
    }, 4000);
    return () => clearInterval(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, live, conn]);

  return { books: books.current, version };
}
