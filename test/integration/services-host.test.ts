// The Electron shell's services host, driven the way Electron's main process drives it (fork + IPC),
// under plain Node: calls, validation, media refusal, events, and shutdown on disconnect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostClient, MediaError } from '../../src/main/app/host-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let home: string;
let folder: string;
let host: HostClient;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-host-'));
  folder = path.join(home, 'pool');
  fs.mkdirSync(folder);
  host = await HostClient.start({ home, nodePath: process.execPath, appRoot: ROOT });
});

afterAll(async () => {
  await host?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('services host', () => {
  it('answers API calls over IPC', async () => {
    expect(await host.call('datasets.list', {})).toEqual([]);
    expect(await host.call('jobs.list', {})).toEqual([]);
    expect(await host.runningJobs()).toBe(0);
  });

  it('reports validation and lookup errors as messages', async () => {
    await expect(host.call('datasets.get', { id: 'nope' })).rejects.toThrow('dataset "nope" not found');
    await expect(host.call('datasets.get', {})).rejects.toThrow(/id/);
    await expect(host.call('no.such', {})).rejects.toThrow('unknown method');
  });

  it('refuses media outside the dataset folders', async () => {
    const err = await host.media('file', '/etc/passwd').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).status).toBe(403);
    const bad = await host.media('thumb', '../1').catch((e: unknown) => e);
    expect((bad as MediaError).status).toBe(400);
  });

  it('forwards events (dataset.changed after an import)', async () => {
    fs.writeFileSync(path.join(folder, 'not-an-image.txt'), 'x');
    const got = new Promise<unknown>((resolve) => host.onEvent((event, data) => event === 'dataset.changed' && resolve(data)));
    const job = (await host.call('datasets.create', { name: 'pool', folders: [{ path: folder, role: 'unlabeled' }] })) as { kind: string };
    expect(job.kind).toBe('import');
    expect(await got).toEqual({ id: 1 });
  });

  it('exits when the app disconnects', async () => {
    const other = await HostClient.start({ home, nodePath: process.execPath, appRoot: ROOT });
    expect(other.alive).toBe(true);
    await other.close();
    expect(other.alive).toBe(false);
    await expect(other.call('datasets.list', {})).rejects.toThrow('not running');
  });
});
