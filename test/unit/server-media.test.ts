// Media through `distill serve` with the real services and path guard: files inside a registered
// dataset folder are served; `..`, absolute paths elsewhere and symlinks out of the folder are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../src/main/server/serve.js';
import { createServices } from '../../src/main/services/index.js';
import type { Services } from '../../src/main/services/types.js';
import { JobInfo } from '../../src/shared/api.js';

function get(url: string, cookie?: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: cookie ? { cookie } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

let dir: string;
let pool: string;
let services: Services;
let server: RunningServer;
let cookie: string;
const inside = () => path.join(pool, 'red.png');
const fileUrl = (p: string) => `${server.url}media/file?path=${encodeURIComponent(p)}`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-media-'));
  pool = path.join(dir, 'pool');
  fs.mkdirSync(pool);
  const png = (r: number) => sharp({ create: { width: 40, height: 30, channels: 3, background: { r, g: 0, b: 0 } } }).png().toBuffer();
  fs.writeFileSync(inside(), await png(255));
  fs.writeFileSync(path.join(dir, 'secret.png'), await png(10)); // next to the dataset folder, not in it
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  fs.symlinkSync(path.join(dir, 'secret.png'), path.join(pool, 'link.png'));
  fs.writeFileSync(path.join(pool, 'notes.txt'), 'not an image');

  services = await createServices({ home: path.join(dir, 'home'), watch: false });
  const job = JobInfo.parse(await services.call('datasets.create', { name: 'pool', folders: [{ path: pool, role: 'unlabeled' }] }));
  const done = await new Promise<JobInfo>((resolve) => {
    const off = services.onEvent((event, data) => {
      if (event === 'job.progress' && (data as JobInfo).id === job.id && (data as JobInfo).status !== 'running') {
        off();
        resolve(data as JobInfo);
      }
    });
  });
  expect(done.status).toBe('done');
  server = await startServer({ home: services.home, rendererDir: path.join(dir, 'no-renderer'), services });
  cookie = `distill_token=${server.token}`;
});

afterAll(async () => {
  await server?.close();
  await services?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('media routes', () => {
  it('serves an image inside a dataset folder, by path and by id, and its thumbnail', async () => {
    const byPath = await get(fileUrl(inside()), cookie);
    expect(byPath.status).toBe(200);
    expect(byPath.type).toBe('image/png');
    expect(byPath.body.equals(fs.readFileSync(inside()))).toBe(true);

    const { items } = (await services.call('images.query', { dataset: 'pool' })) as { items: { id: number; path: string }[] };
    const red = items.find((i) => i.path === inside())!;
    expect(red).toBeDefined();
    const byId = await get(`${server.url}media/image/${red.id}`, cookie);
    expect(byId.body.equals(byPath.body)).toBe(true);

    const thumb = await get(`${server.url}media/thumb/${red.id}`, cookie);
    expect(thumb.status).toBe(200);
    expect(thumb.type).toBe('image/jpeg');
    const meta = await sharp(thumb.body).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([40, 30]); // small images are not enlarged
    const { data } = await sharp(thumb.body).raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(240); // still red
    expect(data[1]).toBeLessThan(15);
    // Cached under the thumbnail folder, and that cache is itself a served root.
    const cached = fs.readdirSync(path.join(services.home, 'thumbs'), { recursive: true }).map(String).find((f) => f.endsWith('.jpg'))!;
    expect((await get(fileUrl(path.join(services.home, 'thumbs', cached)), cookie)).status).toBe(200);
  });

  it('refuses .. traversal, absolute paths outside, and symlinks out of the folder (403)', async () => {
    const refused = [
      path.join(pool, '..', 'secret.png'), // `..` that resolves outside
      `${pool}/../pool/red.png`, // `..` even where it lands back inside
      '../secret.png', // relative traversal
      path.join(dir, 'secret.png'), // absolute, outside every root
      '/etc/passwd',
      path.join(pool, 'link.png'), // symlink inside pointing out
      path.join(pool, 'notes.txt'), // inside, but not an image
      path.join(pool, 'missing.png'),
    ];
    for (const p of refused) {
      const r = await get(fileUrl(p), cookie);
      expect(r.status, p).toBe(403);
      expect(r.body.toString(), p).not.toContain('secret');
    }
    // Encoded traversal in the raw URL as well.
    expect((await get(`${server.url}media/file?path=${pool}%2F..%2Fsecret.png`, cookie)).status).toBe(403);
  });

  it('answers unknown images with 404 and needs the token like everything else', async () => {
    expect((await get(`${server.url}media/thumb/999999`, cookie)).status).toBe(404);
    expect((await get(`${server.url}media/nope`, cookie)).status).toBe(404);
    expect((await get(`${server.url}media/file`, cookie)).status).toBe(400);
    expect((await get(fileUrl(inside()))).status).toBe(401);
  });

  it('says how to build the renderer when it is missing', async () => {
    const r = await get(server.url, cookie);
    expect(r.status).toBe(503);
    expect(r.body.toString()).toContain('npm run build:renderer');
  });
});
