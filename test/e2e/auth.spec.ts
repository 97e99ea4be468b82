// `distill serve` answers only to its token: pages, media and the API socket all refuse without it.
import { test, expect, request as pwRequest } from '@playwright/test';
import WebSocket from 'ws';
import { e2e } from './env.js';

/** Resolves with the HTTP status of a refused upgrade, or 101 when the socket opens. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
  });
}

test('no token: pages, media and the API are refused; the right token opens them', async () => {
  const ctx = await pwRequest.newContext();
  try {
    for (const p of ['/', '/index.html', '/media/thumb/1', '/media/image/1', '/media/file?path=%2Fetc%2Fpasswd', '/?token=wrong']) {
      const r = await ctx.get(`${e2e.origin}${p}`);
      expect(r.status(), p).toBe(401);
      expect(await r.text(), p).not.toContain('<div id="root">');
    }
    const ok = await ctx.get(e2e.url);
    expect(ok.status()).toBe(200);
    expect(await ok.text()).toContain('<div id="root">');
  } finally {
    await ctx.dispose();
  }

  const ws = `${e2e.origin.replace(/^http/, 'ws')}/ws`;
  const origin = { Origin: e2e.origin };
  expect(await upgradeStatus(ws, origin)).toBe(401);
  expect(await upgradeStatus(`${ws}?token=wrong`, origin)).toBe(401);
  expect(await upgradeStatus(`${ws}?token=${encodeURIComponent(e2e.token)}`, origin)).toBe(101);
});

test('a browser without the token sees the refusal, not the app', async ({ page }) => {
  const r = await page.goto(e2e.origin + '/');
  expect(r?.status()).toBe(401);
  await expect(page.locator('body')).toContainText('token');
  await expect(page.getByTestId('sidebar')).toHaveCount(0);
});
