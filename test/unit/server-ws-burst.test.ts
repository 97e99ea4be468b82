// Drill: `distill serve` under a bounded burst of malformed, oversized and unauthenticated WebSocket
// traffic on loopback. It stays up, answers every request it can correlate with an error, drops the
// connections it must, and leaks nothing (event listeners, sockets and heap back to about where they were).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type RunningServer } from '../../src/main/server/serve.js';
import { ApiError, type EventListener, type Services } from '../../src/main/services/types.js';

const TOKEN = 'burst-token-' + 'y'.repeat(24);
let dir: string;
let server: RunningServer;
const listeners = new Set<EventListener>();

const services: Services = {
  home: '',
  async call(method) {
    if (method === 'app.info') return { version: '0', home: dir, backend: { active: 'cpu', threads: 1, simd: null, forcedBy: null, candidates: [] } };
    throw new ApiError(`unknown method "${method}"`, 404);
  },
  onEvent(l) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  media: {
    thumbnail: async () => { throw new ApiError('none', 404); },
    image: async () => { throw new ApiError('none', 404); },
    file: async () => { throw new ApiError('none', 403); },
  },
  async close() {},
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-burst-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
  server = await startServer({ home: dir, rendererDir: dir, services, token: TOKEN });
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const wsUrl = (token: string | null) => `ws://127.0.0.1:${server.port}/ws${token === null ? '' : `?token=${token}`}`;

function open(token: string | null): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(token));
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', () => resolve({ status: -1 }));
  });
}

/** Sends and collects replies by id until every expected id answered (or 5 s passed). */
function exchange(ws: WebSocket, sends: (string | Buffer)[], expectIds: number[]): Promise<Map<number, { ok: boolean; error?: string }>> {
  const got = new Map<number, { ok: boolean; error?: string }>();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(got), 5000);
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { id?: number; ok: boolean; error?: string };
      if (typeof m.id === 'number') got.set(m.id, m);
      if (expectIds.every((id) => got.has(id))) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    for (const s of sends) ws.send(s);
  });
}

const closed = (ws: WebSocket): Promise<number> => new Promise((r) => (ws.readyState === WebSocket.CLOSED ? r(-1) : ws.once('close', (code) => r(code))));

async function round(k: number): Promise<void> {
  // Unauthenticated and wrong-token upgrades are refused before any WebSocket exists.
  expect(await open(null)).toEqual({ status: 401 });
  expect(await open('nope')).toEqual({ status: 401 });

  const c = await open(TOKEN);
  if (!('ws' in c)) throw new Error(`authenticated upgrade refused: ${c.status}`);
  const base = k * 100;
  const sends = [
    'not json at all {',
    '',
    Buffer.from([0xff, 0x00, 0x13]),
    JSON.stringify([1, 2, 3]),
    JSON.stringify({ id: base + 1 }),
    JSON.stringify({ id: base + 2, method: 42 }),
    JSON.stringify({ id: base + 3, method: 'no.such.method', params: {} }),
    JSON.stringify({ id: base + 4, method: 'app.info', params: { extra: 'x'.repeat(10_000) } }),
    JSON.stringify({ id: base + 5, method: 'app.info', params: {} }),
  ];
  const replies = await exchange(c.ws, sends, [1, 2, 3, 5].map((i) => base + i));
  expect(replies.get(base + 1)).toMatchObject({ ok: false, error: 'malformed request' });
  expect(replies.get(base + 2)).toMatchObject({ ok: false, error: 'malformed request' });
  expect(replies.get(base + 3)).toMatchObject({ ok: false, error: 'unknown method "no.such.method"' });
  // The well-formed request after all that garbage is still answered on the same socket.
  expect(replies.get(base + 5)).toMatchObject({ ok: true });

  // A message over the 4 MiB limit closes that socket (1009), and only that one.
  const big = await open(TOKEN);
  if (!('ws' in big)) throw new Error('second socket refused');
  big.ws.send(Buffer.alloc(5 * 1024 * 1024, 0x61).toString());
  expect(await closed(big.ws)).toBe(1009);
  const after = await exchange(c.ws, [JSON.stringify({ id: base + 6, method: 'app.info', params: {} })], [base + 6]);
  expect(after.get(base + 6)).toMatchObject({ ok: true });
  c.ws.close();
  await closed(c.ws);
}

describe('distill serve under a WebSocket burst', () => {
  it('stays up, answers errors, and returns to its resting state', async () => {
    await round(0); // warm-up: lazily created internals exist before the baseline
    await new Promise((r) => setTimeout(r, 100));
    const handlesBefore = process.getActiveResourcesInfo().length;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let k = 1; k <= 15; k++) await round(k);
    await new Promise((r) => setTimeout(r, 200));

    expect(listeners.size).toBe(0); // every socket's event subscription was released
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(handlesBefore + 2);
    // 15 rounds moved ~80 MB through the server (5 MiB oversized messages); what stays is far less.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(40 * 1024 * 1024);
    // Still serving.
    const c = await open(TOKEN);
    if (!('ws' in c)) throw new Error('server stopped accepting');
    const r = await exchange(c.ws, [JSON.stringify({ id: 1, method: 'app.info', params: {} })], [1]);
    expect(r.get(1)).toMatchObject({ ok: true });
    c.ws.close();
  });
});
