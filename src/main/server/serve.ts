// `distill serve`: the built renderer, the API over a WebSocket and media, on loopback only, behind a
// random per-process token. The token arrives once in the printed URL (`?token=`); the server then
// sets an HttpOnly SameSite=Strict cookie so asset, image and socket requests carry it.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { EventName } from '../../shared/api.js';
import { ApiError, type MediaFile, type Services } from '../services/types.js';
import { handleRequest } from '../services/wire.js';
import { contentTypeFor } from '../services/content-type.js';

export const TOKEN_COOKIE = 'distill_token';

export interface ServerOptions {
  home: string;
  /** 0 or undefined: any free port. */
  port?: number;
  /** Loopback only; anything else is refused. */
  host?: '127.0.0.1';
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** Injected services (tests); default: createServices({ home }). */
  services?: Services;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The URL to open: url + `?token=`. */
  openUrl: string;
  token: string;
  port: number;
  services: Services;
  close(): Promise<void>;
}

const MAX_MESSAGE = 4 * 1024 * 1024;
/** Events are dropped for a client this far behind; it can catch up with runs.metrics(afterId). */
const MAX_BUFFERED = 8 * 1024 * 1024;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error('distill serve binds 127.0.0.1 only');
  const token = opts.token ?? crypto.randomBytes(32).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const ownServices = !opts.services;
  const services = opts.services ?? (await (await import('../services/index.js')).createServices({ home: opts.home }));
  const rendererDir = path.resolve(opts.rendererDir);
  let port = 0;

  const tokenOk = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const b = Buffer.from(candidate);
    return b.length === tokenBuf.length && crypto.timingSafeEqual(b, tokenBuf);
  };
  const requestToken = (req: http.IncomingMessage, url: URL): { ok: boolean; fromQuery: boolean } => {
    const q = url.searchParams.get('token');
    if (q !== null) return { ok: tokenOk(q), fromQuery: true };
    return { ok: tokenOk(cookie(req.headers.cookie, TOKEN_COOKIE)), fromQuery: false };
  };
  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host header.
  const hostOk = (h: string | undefined) => h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  const originOk = (o: string | undefined) => o === undefined || o === `http://127.0.0.1:${port}` || o === `http://localhost:${port}`;

  const server = http.createServer((req, res) => {
    handleHttp(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
      process.stderr.write(`distill serve: ${(e as Error).message}\n`);
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    baseHeaders(res);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostOk(req.headers.host)) return send(res, 421, 'text/plain; charset=utf-8', 'wrong host\n');
    const auth = requestToken(req, url);
    if (!auth.ok) {
      return send(res, 401, 'text/plain; charset=utf-8', 'Missing or wrong token: open the URL that `distill serve` printed.\n');
    }
    if (auth.fromQuery) {
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    const p = url.pathname;
    if (p.startsWith('/media/')) return serveMedia(req, res, url);
    if (p === '/ws') return send(res, 426, 'text/plain; charset=utf-8', 'WebSocket upgrade required\n');
    return serveRenderer(req, res, p);
  }

  async function serveMedia(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    let file: MediaFile;
    try {
      const thumb = /^\/media\/thumb\/(\d+)$/.exec(url.pathname);
      const image = /^\/media\/image\/(\d+)$/.exec(url.pathname);
      if (thumb) file = await services.media.thumbnail(Number(thumb[1]));
      else if (image) file = await services.media.image(Number(image[1]));
      else if (url.pathname === '/media/file') {
        const requested = url.searchParams.get('path');
        if (!requested) throw new ApiError('path is required', 400);
        file = await services.media.file(requested);
      } else throw new ApiError('no such media route', 404);
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 500;
      const msg = e instanceof ApiError ? e.message : 'media error';
      if (!(e instanceof ApiError)) process.stderr.write(`distill serve: media: ${(e as Error).message}\n`);
      return send(res, status, 'text/plain; charset=utf-8', msg + '\n');
    }
    // Private: images of the user's datasets; revalidate rather than keep them in shared caches.
    res.setHeader('Cache-Control', 'private, max-age=60');
    return sendFile(req, res, file.path, file.contentType);
  }

  async function serveRenderer(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void> {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
    }
    if (rel.includes('\0')) return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
    const target = path.resolve(rendererDir, '.' + path.posix.normalize('/' + rel));
    const inside = target === rendererDir || target.startsWith(rendererDir + path.sep);
    if (inside && target !== rendererDir) {
      const st = await fs.promises.stat(target).catch(() => null);
      if (st?.isFile()) {
        const type = contentTypeFor(target);
        if (type.startsWith('text/html')) return sendHtml(req, res, target);
        // Vite's hashed asset names never change content.
        res.setHeader('Cache-Control', /\/assets\//.test(rel) ? 'public, max-age=31536000, immutable' : 'no-cache');
        return sendFile(req, res, target, type);
      }
    }
    // The renderer is built with relative asset URLs (base './', as Electron needs), so a deep page
    // path like /runs/3 asks for /runs/assets/x.js: map any …/assets/<name> onto the built assets.
    const asset = /\/assets\/([^/]+)$/.exec(rel);
    if (asset && !inside) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    if (asset) {
      const file = path.join(rendererDir, 'assets', asset[1]!);
      const st = await fs.promises.stat(file).catch(() => null);
      if (st?.isFile()) {
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        return sendFile(req, res, file, contentTypeFor(file));
      }
    }
    // SPA fallback: a page path without an extension gets index.html; a missing asset is a real 404.
    if (path.extname(rel) && rel !== '/index.html') return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    const index = path.join(rendererDir, 'index.html');
    if (!fs.existsSync(index)) {
      return send(res, 503, 'text/plain; charset=utf-8', `The renderer is not built (${index} is missing): run \`npm run build:renderer\`.\n`);
    }
    return sendHtml(req, res, index);
  }

  async function sendHtml(req: http.IncomingMessage, res: http.ServerResponse, file: string): Promise<void> {
    res.setHeader('Content-Security-Policy', csp(port));
    res.setHeader('Cache-Control', 'no-store');
    return sendFile(req, res, file, 'text/html; charset=utf-8');
  }

  // ---- WebSocket API ----
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!hostOk(req.headers.host) || !originOk(req.headers.origin)) return refuse(403, 'Forbidden');
    if (!requestToken(req, url).ok) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const off = services.onEvent((event: EventName, data: unknown) => {
      if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > MAX_BUFFERED) return;
      ws.send(JSON.stringify({ event, data }));
    });
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        return;
      }
      void handleRequest(services, msg).then((reply) => {
        if (reply && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(reply));
      });
    });
    ws.on('close', off);
    ws.on('error', off);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    if (ownServices) await services.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'EADDRINUSE' ? `port ${opts.port} is already in use: pick another with --port` : (e as Error).message);
  }
  port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/`;

  let closing: Promise<void> | null = null;
  return {
    url,
    openUrl: `${url}?token=${token}`,
    token,
    port,
    services,
    close() {
      closing ??= (async () => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        if (ownServices) await services.close();
      })();
      return closing;
    },
  };
}

/** The HTML's policy: own scripts and styles, images from here, the API socket to this port only. */
export function csp(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

function baseHeaders(res: http.ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, type: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r').catch(() => null);
  if (!handle) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  try {
    const st = await handle.stat();
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const stream = handle.createReadStream({ autoClose: false });
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => resolve());
      stream.pipe(res);
    });
  } finally {
    await handle.close().catch(() => {});
  }
}

function cookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}
