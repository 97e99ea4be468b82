// Hash routing: `#/page?key=value`. Hash routes work the same from `distill serve` and from files in Electron.
import { useSyncExternalStore } from 'react';

export const PAGES = ['datasets', 'browser', 'teachers', 'new-run', 'runs', 'run', 'compare', 'agreement', 'export'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  params: URLSearchParams;
}

export type RouteParams = Record<string, string | number | boolean | null | undefined | Array<string | number>>;

export function parseHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const name = q < 0 ? body : body.slice(0, q);
  const page = (PAGES as readonly string[]).includes(name) ? (name as Page) : 'datasets';
  return { page, params: new URLSearchParams(q < 0 ? '' : body.slice(q + 1)) };
}

export function href(page: Page, params: RouteParams = {}): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    sp.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const qs = sp.toString();
  return `#/${page}${qs ? `?${qs}` : ''}`;
}

export function navigate(page: Page, params: RouteParams = {}): void {
  location.hash = href(page, params);
}

const subscribe = (cb: () => void) => {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return parseHash(hash);
}

export function numParam(params: URLSearchParams, key: string): number | undefined {
  const v = params.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
