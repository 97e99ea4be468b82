// Starts one real `distill serve` for the whole E2E suite: a temporary home, a small copy of the
// shared cat/dog set (kept tiny so the suite stays quick), the renderer built if it is stale.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_CATDOG } from '../shared-paths.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where ../shared is not beside the checkout: a stand-in with the cat/dog set's layout, drawn with
 * sharp (warm discs for "cat", cool squares for "dog", on noise), so the suite still drives the UI.
 */
async function drawStandIn(dest: string): Promise<void> {
  const sharp = (await import('sharp')).default;
  const draw = async (file: string, cls: 'cat' | 'dog', i: number) => {
    const size = 96;
    const px = Buffer.alloc(size * size * 3);
    let h = (i + 1) * 2654435761 + (cls === 'dog' ? 97 : 0);
    const rnd = () => ((h = (h * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    const cx = 30 + rnd() * 36;
    const cy = 30 + rnd() * 36;
    const r = 14 + rnd() * 10;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = cls === 'cat' ? (x - cx) ** 2 + (y - cy) ** 2 < r * r : Math.abs(x - cx) < r && Math.abs(y - cy) < r;
        const base = inside ? (cls === 'cat' ? [220, 120, 60] : [60, 110, 220]) : [128, 128, 128];
        for (let c = 0; c < 3; c++) px[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, base[c]! + (rnd() - 0.5) * 60));
      }
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await sharp(px, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
  };
  for (const cls of ['cat', 'dog'] as const) {
    for (let i = 0; i < 24; i++) await draw(path.join(dest, 'labeled', cls, `${cls}.${i}.jpg`), cls, i);
    for (let i = 0; i < 20; i++) await draw(path.join(dest, 'val', cls, `${cls}.${100 + i}.jpg`), cls, 100 + i);
    for (let i = 0; i < 30; i++) await draw(path.join(dest, 'unlabeled', `${1000 + i + (cls === 'dog' ? 30 : 0)}.jpg`), cls, 200 + i);
  }
}

/** labeled: 20/class, val: 20/class, unlabeled: 60, plus two broken images that must be reported as skipped. */
function copySubset(CATDOG: string, dest: string): void {
  const take = (from: string, to: string, n: number) => {
    fs.mkdirSync(to, { recursive: true });
    const names = fs.readdirSync(from).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n);
    if (names.length < n) throw new Error(`${from} has only ${names.length} images, the E2E suite needs ${n}`);
    for (const f of names) fs.copyFileSync(path.join(from, f), path.join(to, f));
  };
  for (const c of ['cat', 'dog']) {
    take(path.join(CATDOG, 'labeled', c), path.join(dest, 'labeled', c), 20);
    take(path.join(CATDOG, 'val', c), path.join(dest, 'val', c), 20);
  }
  take(path.join(CATDOG, 'unlabeled'), path.join(dest, 'unlabeled'), 60);
  fs.writeFileSync(path.join(dest, 'unlabeled', 'notes.txt'), 'not an image\n');
  fs.writeFileSync(path.join(dest, 'unlabeled', 'truncated.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]));
  fs.writeFileSync(path.join(dest, 'unlabeled', 'empty.png'), Buffer.alloc(0));
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** `npm test` builds the renderer first; a direct `playwright test` after an edit rebuilds here. */
function ensureRenderer(): void {
  const index = path.join(ROOT, 'out', 'renderer', 'index.html');
  const src = Math.max(newestMtime(path.join(ROOT, 'src', 'renderer')), newestMtime(path.join(ROOT, 'src', 'shared')));
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= src) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('building the renderer failed');
}

function startServe(home: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'distill.js'), 'serve', '--home', home, '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env },
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`distill serve printed no URL within 120 s\nstdout: ${out}\nstderr: ${err}`));
    }, 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Distill Studio: (http:\/\/127\.0\.0\.1:\d+\/\?token=[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (process.env.DISTILL_E2E_VERBOSE) process.stderr.write(d);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`distill serve exited with ${code} before printing its URL\nstderr: ${err}`));
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  ensureRenderer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-e2e-'));
  const home = path.join(tmp, 'home');
  const data = path.join(tmp, 'catdog');
  fs.mkdirSync(home);
  let catdog = SHARED_CATDOG;
  if (catdog === null) {
    catdog = path.join(tmp, 'stand-in');
    console.log(`E2E: ../shared/datasets/catdog is absent or hidden; using a drawn stand-in with its layout (${catdog})`);
    await drawStandIn(catdog);
  }
  copySubset(catdog, data);
  const screens = path.join(ROOT, 'test-results', 'screens');
  fs.rmSync(screens, { recursive: true, force: true });
  fs.mkdirSync(screens, { recursive: true });

  const { child, url } = await startServe(home);
  process.env.DISTILL_E2E_URL = url;
  process.env.DISTILL_E2E_DATA = data;
  process.env.DISTILL_E2E_HOME = home;
  process.env.DISTILL_E2E_SCREENS = screens;
  process.env.DISTILL_E2E_CATDOG = catdog;

  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
}
