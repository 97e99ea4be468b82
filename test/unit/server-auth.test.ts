import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { WebSocket } from 'ws';
import { startServer, csp, type RunningServer } from '../../src/main/server/serve.js';
import { ApiError, type EventListener, type Services } from '../../src/main/services/types.js';
import { api, type EventName } from '../../src/shared/api.js';

// Services stand-in: the server's job is transport and auth, tested here on its own.
function fakeServices(home: string) {
  const listeners = new Set<EventListener>();
  const calls: { method: string; params: unknown }[] = [];
  const services: Services = {
    home,
    async call(method, params) {
      calls.push({ method, params });
      if (method === 'jobs.get') throw new ApiError('job x not found', 404);
      if (method !== 'app.info') throw new ApiError(`unknown method "${method}"`, 404);
      api['app.info'].input.parse(params);
      return { version: '9.9.9', home, backend: { active: 'cpu', threads: 1, simd: null, forcedBy: null, candidates: [] } };
    },
    onEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    media: {
      thumbnail: async () => { throw new ApiError('no thumbnails here', 404); },
      image: async () => { throw new ApiError('no images here', 404); },
      file: async () => { throw new ApiError('outside the dataset folders', 403); },
    },
    async close() {},
  };
  const emit = (event: EventName, data: unknown) => {
    for (const l of listeners) (l as (e: EventName, d: unknown) => void)(event, data);
  };
  return { services, calls, emit, listenerCount: () => listeners.size };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with 'open' or the HTTP status the upgrade was refused with. */
function wsOutcome(url: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.once('error', () => resolve({ status: -1 }));
  });
}

let dir: string;
let rendererDir: string;
let server: RunningServer;
let fake: ReturnType<typeof fakeServices>;
const TOKEN = 'test-token-' + 'x'.repeat(20);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-server-'));
  rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Distill</title><script type="module" src="./assets/app.js"></script>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.css'), 'body{}');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside the renderer');
  fake = fakeServices(dir);
  server = await startServer({ home: dir, rendererDir, services: fake.services, token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('distill serve: token', () => {
  it('binds 127.0.0.1 and prints a tokened URL', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.openUrl).toBe(`${server.url}?token=${TOKEN}`);
  });

  it('generates a long random token when none is given', async () => {
    const other = await startServer({ home: dir, rendererDir, services: fake.services });
    try {
      expect(other.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(other.token).not.toBe(server.token);
      expect((await get(other.url)).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('says which port is taken', async () => {
    await expect(startServer({ home: dir, rendererDir, services: fake.services, port: server.port })).rejects.toThrow(
      `port ${server.port} is already in use`,
    );
  });

  it('refuses HTTP without a token or with a wrong one (401)', async () => {
    expect((await get(server.url)).status).toBe(401);
    expect((await get(`${server.url}assets/app.js`)).status).toBe(401);
    expect((await get(`${server.url}?token=wrong`)).status).toBe(401);
    expect((await get(`${server.url}?token=${TOKEN}x`)).status).toBe(401);
    expect((await get(server.url, { cookie: 'distill_token=nope' })).status).toBe(401);
    expect((await get(`${server.url}media/file?path=${encodeURIComponent('/etc/passwd')}`)).status).toBe(401);
  });

  it('accepts ?token= once, then sets an HttpOnly SameSite=Strict cookie that works alone', async () => {
    const first = await get(`${server.url}?token=${TOKEN}`);
    expect(first.status).toBe(200);
    expect(first.body).toContain('<title>Distill</title>');
    const cookie = first.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^distill_token=${TOKEN};`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const pair = cookie.split(';')[0]!;
    const asset = await get(`${server.url}assets/app.js`, { cookie: `other=1; ${pair}` });
    expect(asset.status).toBe(200);
    expect(asset.body).toBe('console.log(1)');
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const r = await get(`${server.url}?token=${TOKEN}`, { host: `evil.example:${server.port}` });
    expect(r.status).toBe(421);
  });
});

describe('distill serve: renderer', () => {
  const auth = () => ({ cookie: `distill_token=${TOKEN}` });

  it('serves index.html with a CSP, assets with their content types, and SPA fallback', async () => {
    const index = await get(server.url, auth());
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toBe(csp(server.port));
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(`${server.url}assets/app.js`, auth())).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(`${server.url}assets/app.css`, auth())).headers['content-type']).toBe('text/css; charset=utf-8');
    const page = await get(`${server.url}runs/3`, auth());
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Distill</title>');
    // Relative asset URLs from a deep page path still resolve.
    expect((await get(`${server.url}runs/assets/app.js`, auth())).body).toBe('console.log(1)');
    expect((await get(`${server.url}assets/missing.js`, auth())).status).toBe(404);
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['../secret.txt', '%2e%2e/secret.txt', 'assets/%2e%2e/%2e%2e/secret.txt', '..%2fsecret.txt']) {
      const r = await get(`${server.url}${p}`, auth());
      expect(r.body, p).not.toContain('outside the renderer');
    }
  });

  it('allows only GET and HEAD', async () => {
    expect((await get(server.url, auth(), 'POST')).status).toBe(405);
    const head = await get(`${server.url}assets/app.js`, auth(), 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('14');
    expect(head.body).toBe('');
  });
});

describe('distill serve: WebSocket API', () => {
  const wsUrl = () => server.url.replace(/^http/, 'ws') + 'ws';

  it('refuses an upgrade without a token, with a wrong one, or from a foreign origin', async () => {
    expect((await wsOutcome(wsUrl())).status).toBe(401);
    expect((await wsOutcome(`${wsUrl()}?token=bad`)).status).toBe(401);
    expect((await wsOutcome(wsUrl(), { cookie: 'distill_token=bad' })).status).toBe(401);
    expect((await wsOutcome(`${wsUrl()}?token=${TOKEN}`, { origin: 'http://evil.example' })).status).toBe(403);
    expect(fake.listenerCount()).toBe(0);
  });

  it('round-trips a call, reports errors, and pushes events', async () => {
    const { ws } = await wsOutcome(`${wsUrl()}?token=${TOKEN}`, { origin: server.url.slice(0, -1) });
    expect(ws).toBeDefined();
    const messages: unknown[] = [];
    const waitFor = (pred: (m: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const hit = messages.find((m) => pred(m as Record<string, unknown>));
          if (hit) resolve(hit as Record<string, unknown>);
          else setTimeout(check, 5);
        };
        check();
      });
    ws!.on('message', (d) => messages.push(JSON.parse(String(d))));

    ws!.send(JSON.stringify({ id: 1, method: 'app.info', params: {} }));
    const ok = await waitFor((m) => m.id === 1);
    expect(ok).toEqual({ id: 1, ok: true, result: expect.objectContaining({ version: '9.9.9', home: dir }) });

    ws!.send(JSON.stringify({ id: 2, method: 'jobs.get', params: { id: 'x' } }));
    expect(await waitFor((m) => m.id === 2)).toEqual({ id: 2, ok: false, error: 'job x not found' });

    ws!.send(JSON.stringify({ id: 3, method: 42 }));
    expect(await waitFor((m) => m.id === 3)).toEqual({ id: 3, ok: false, error: 'malformed request' });
    ws!.send('not json'); // ignored, connection stays up

    fake.emit('dataset.changed', { id: 5 });
    expect(await waitFor((m) => m.event === 'dataset.changed')).toEqual({ event: 'dataset.changed', data: { id: 5 } });
    expect(fake.calls.map((c) => c.method)).toEqual(['app.info', 'jobs.get']);

    const closed = new Promise((r) => ws!.once('close', r));
    ws!.close();
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.listenerCount()).toBe(0);
  });

  it('accepts the cookie alone on the upgrade (what a browser sends)', async () => {
    const { ws, status } = await wsOutcome(wsUrl(), { cookie: `distill_token=${TOKEN}` });
    expect(status).toBeUndefined();
    ws!.close();
  });
});
