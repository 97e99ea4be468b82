// Disk overflow for the image cache: one append-only packed file per cache, read back by offset.
// A packed file instead of one file per image: no directory with thousands of entries, one fd,
// and reads are single pread calls that the OS page cache often serves from RAM anyway.
// The file is scratch data for this process only; it is removed on close, at exit, and files left
// by dead processes are removed when the next cache opens the same folder.
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface SpillRecord {
  offset: number;
  length: number;
}

const NAME = /^spill-(\d+)-[0-9a-f]+\.u8pack$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes spill files whose owning process is gone (a crash or kill -9 skips close()). */
function removeStale(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !processAlive(pid)) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // Another process may have removed it first.
      }
    }
  }
}

export class SpillStore {
  readonly path: string;
  private fh: Promise<FileHandle> | null = null;
  private end = 0;
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly onExit = (): void => {
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  };

  constructor(readonly dir: string) {
    this.path = join(dir, `spill-${process.pid}-${randomBytes(4).toString('hex')}.u8pack`);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.end;
  }

  private handle(): Promise<FileHandle> {
    if (this.closed) return Promise.reject(new Error(`image cache spill file ${this.path} is closed`));
    if (!this.fh) {
      mkdirSync(this.dir, { recursive: true });
      removeStale(this.dir);
      process.once('exit', this.onExit);
      this.fh = open(this.path, 'w+');
    }
    return this.fh;
  }

  /** Appends bytes; writes are serialized so offsets never overlap. */
  append(data: Uint8Array): Promise<SpillRecord> {
    const offset = this.end;
    this.end += data.byteLength;
    const done = this.writes.then(async () => {
      const fh = await this.handle();
      let written = 0;
      while (written < data.byteLength) {
        const r = await fh.write(data, written, data.byteLength - written, offset + written);
        written += r.bytesWritten;
      }
      return { offset, length: data.byteLength };
    });
    this.writes = done.catch(() => undefined);
    return done;
  }

  async read(rec: SpillRecord): Promise<Uint8Array> {
    const fh = await this.handle();
    const out = new Uint8Array(rec.length);
    let got = 0;
    while (got < rec.length) {
      const r = await fh.read(out, got, rec.length - got, rec.offset + got);
      if (r.bytesRead === 0) throw new Error(`image cache spill file ${this.path} is shorter than expected`);
      got += r.bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes;
    this.closed = true;
    if (this.fh) {
      const fh = await this.fh;
      await fh.close();
      process.removeListener('exit', this.onExit);
      this.onExit();
    }
  }
}
