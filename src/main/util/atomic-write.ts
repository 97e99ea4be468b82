// Files are written atomically: temp name in the same folder, fsync, rename (design.md conventions),
// so a crash never leaves a half-written checkpoint or export behind.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/**
 * The one fault point of the writers, for drills (disk full, I/O errors): called with the final path
 * just before the data is made durable; whatever it throws is what the write fails with. Null in use.
 */
export type WriteFault = (target: string) => void;
let fault: WriteFault | null = null;

/** Installs a fault (null removes it); returns the previous one. */
export function setWriteFault(f: WriteFault | null): WriteFault | null {
  const prev = fault;
  fault = f;
  return prev;
}

/** Names the target in the error, keeping the system code (ENOSPC …) for callers that branch on it. */
function failedWrite(target: string, err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const out = new Error(`could not write ${target}: ${e.message}`, { cause: e }) as NodeJS.ErrnoException;
  const code = (e as NodeJS.ErrnoException).code;
  if (code) out.code = code;
  return out;
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fault?.(file);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // The previous file (if any) is untouched; no temp file is left behind.
    fs.rmSync(tmp, { force: true });
    throw failedWrite(file, err);
  }
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
    fault?.(dir);
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
    throw failedWrite(dir, err);
  }
}
