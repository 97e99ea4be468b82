// Files are written atomically: temp name in the same folder, fsync, rename (design.md conventions),
// so a crash never leaves a half-written checkpoint or export behind.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Writes a whole folder atomically: `fill` writes into a temp sibling folder, which is fsynced and then
 * renamed onto `dir` (replacing an older one).
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void> | void): Promise<void> {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  fs.mkdirSync(tmp);
  try {
    await fill(tmp);
    for (const name of fs.readdirSync(tmp)) {
      const fd = fs.openSync(path.join(tmp, name), 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    const pfd = fs.openSync(parent, 'r');
    fs.fsyncSync(pfd);
    fs.closeSync(pfd);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
