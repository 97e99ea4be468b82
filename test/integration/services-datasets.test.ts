// Datasets through the services: folder inspection, import as a job with progress, counts, watching
// (a file added or removed while the app runs shows up by itself), rescan and removal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createServices } from '../../src/main/services/index.js';
import type { Services } from '../../src/main/services/types.js';
import { JobInfo, type EventName } from '../../src/shared/api.js';
import { DatasetSummary } from '../../src/shared/domain.js';

let dir: string;
let services: Services;
const seen: { event: EventName; data: unknown }[] = [];

const png = (r: number, g: number) => sharp({ create: { width: 24, height: 24, channels: 3, background: { r, g, b: 0 } } }).png().toBuffer();

async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const jobDone = (id: string) =>
  until(`job ${id}`, () => (seen.filter((e) => e.event === 'job.progress').map((e) => e.data) as JobInfo[]).find((j) => j.id === id && j.status !== 'running'));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-ds-'));
  for (const [cls, r, g] of [['cat', 200, 0], ['dog', 0, 200]] as const) {
    fs.mkdirSync(path.join(dir, 'train', cls), { recursive: true });
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(dir, 'train', cls, `${i}.png`), await png(r, g + i));
  }
  fs.mkdirSync(path.join(dir, 'pool'));
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(dir, 'pool', `u${i}.png`), await png(i * 10, 50));
  fs.writeFileSync(path.join(dir, 'pool', 'broken.png'), Buffer.from('not a png at all'));
  services = await createServices({ home: path.join(dir, 'home') });
  services.onEvent((event, data) => seen.push({ event, data }));
});

afterAll(async () => {
  await services?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('datasets', () => {
  it('guesses a folder of class subfolders as labeled and a flat one as unlabeled', async () => {
    expect(await services.call('datasets.inspectFolder', { path: path.join(dir, 'train') })).toEqual({
      path: path.join(dir, 'train'),
      role: 'labeled',
      classes: ['cat', 'dog'],
      images: 6,
    });
    expect(await services.call('datasets.inspectFolder', { path: path.join(dir, 'pool') })).toMatchObject({ role: 'unlabeled', classes: [] });
    await expect(services.call('datasets.inspectFolder', { path: path.join(dir, 'nope') })).rejects.toThrow('not found');
  });

  it('imports as a job with progress, then lists counts and skipped files', async () => {
    const job = JobInfo.parse(
      await services.call('datasets.create', {
        name: 'pets',
        folders: [
          { path: path.join(dir, 'train'), role: 'labeled' },
          { path: path.join(dir, 'pool'), role: 'unlabeled' },
        ],
      }),
    );
    expect(job).toMatchObject({ kind: 'import', status: 'running' });
    const done = await jobDone(job.id);
    expect(done.status).toBe('done');
    const progress = (seen.filter((e) => e.event === 'job.progress').map((e) => e.data) as JobInfo[]).filter((j) => j.id === job.id);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
    expect(seen.some((e) => e.event === 'dataset.changed')).toBe(true);

    const list = ((await services.call('datasets.list', {})) as unknown[]).map((d) => DatasetSummary.parse(d));
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: 'pets', classes: ['cat', 'dog'], labeled: { cat: 3, dog: 3 }, unlabeled: 4, val: {} });
    expect(list[0]!.skipped).toEqual([{ file: path.join(dir, 'pool', 'broken.png'), reason: expect.any(String) }]);
    await expect(services.call('datasets.create', { name: 'pets', folders: [{ path: path.join(dir, 'pool'), role: 'unlabeled' }] })).rejects.toThrow('already exists');
    await expect(services.call('datasets.create', { name: 'x', folders: [{ path: path.join(dir, 'nope'), role: 'unlabeled' }] })).rejects.toThrow('not a folder');
  });

  it('follows files added and removed while running (watcher)', async () => {
    const count = async () => DatasetSummary.parse(await services.call('datasets.get', { id: 'pets' }));
    const changes = () => seen.filter((e) => e.event === 'dataset.changed').length;
    const before = changes();
    fs.writeFileSync(path.join(dir, 'train', 'cat', 'new.png'), await png(250, 9));
    await until('cat count 4', async () => (await count()).labeled.cat === 4);
    expect(changes()).toBeGreaterThan(before);
    fs.rmSync(path.join(dir, 'pool', 'u0.png'));
    await until('unlabeled 3', async () => (await count()).unlabeled === 3);
  });

  it('rescans as a job and removes a dataset', async () => {
    const job = JobInfo.parse(await services.call('datasets.rescan', { id: 'pets' }));
    expect((await jobDone(job.id)).status).toBe('done');
    expect(await services.call('datasets.remove', { id: 'pets' })).toEqual({ ok: true });
    expect(await services.call('datasets.list', {})).toEqual([]);
    await expect(services.call('datasets.get', { id: 'pets' })).rejects.toThrow('not found');
  });
});
