// The Electron shell's security decisions as pure functions (no Electron import), so they are tested
// under Node where the Electron binary is missing: which URLs are the app's own, which file an
// app-protocol URL maps to, what a media-protocol URL asks for, and which requests may load at all.
import fs from 'node:fs';
import path from 'node:path';

export const APP_SCHEME = 'distill-app';
export const APP_HOST = 'renderer';
export const MEDIA_SCHEME = 'distill-media';

/** The app's own renderer: distill-app://renderer/…, or the electron-vite dev server in development. */
export function isAppUrl(raw: string, devUrl?: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST) return true;
  if (devUrl) {
    const dev = new URL(devUrl);
    return u.protocol === dev.protocol && u.host === dev.host;
  }
  return false;
}

/**
 * The file under rendererDir for a distill-app:// URL: index.html for page paths (hash routing), null
 * for another host, traversal or a missing asset.
 */
export function appFileFor(rendererDir: string, rawUrl: string): string | null {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.split(/[\\/]/).includes('..')) return null;
  const root = path.resolve(rendererDir);
  const target = path.resolve(root, '.' + path.posix.normalize('/' + rel));
  if (target === root) return path.join(root, 'index.html');
  if (!target.startsWith(root + path.sep)) return null;
  const st = fs.statSync(target, { throwIfNoEntry: false });
  if (st?.isFile()) return target;
  if (path.extname(rel)) return null;
  return path.join(root, 'index.html');
}

export type MediaAsk = { kind: 'thumb' | 'image'; arg: string } | { kind: 'file'; arg: string };

/** distill-media://thumb/<id>, distill-media://image/<id>, distill-media://file/?path=… */
export function mediaAskFor(rawUrl: string): MediaAsk | null {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    return null;
  }
  if (u.protocol !== `${MEDIA_SCHEME}:`) return null;
  if (u.host === 'thumb' || u.host === 'image') {
    const id = u.pathname.replace(/^\/+/, '');
    return /^\d{1,15}$/.test(id) ? { kind: u.host, arg: id } : null;
  }
  if (u.host === 'file') {
    const p = u.searchParams.get('path');
    return p ? { kind: 'file', arg: p } : null;
  }
  return null;
}

/** No remote content: only the app's schemes, inline data, devtools, and the dev server in development. */
export function requestAllowed(url: string, devUrl?: string): boolean {
  if (url.startsWith(`${APP_SCHEME}:`) || url.startsWith(`${MEDIA_SCHEME}:`)) return true;
  if (url.startsWith('data:') || url.startsWith('blob:') || url.startsWith('devtools:')) return true;
  if (!devUrl) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const dev = new URL(devUrl);
  return u.host === dev.host && (u.protocol === dev.protocol || u.protocol === (dev.protocol === 'https:' ? 'wss:' : 'ws:'));
}
