// Every test file's temporary folders (and those of the CLI processes they start) go under one folder
// made for this test run, removed when it ends: a run leaves nothing in the machine's temp directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-tests-'));
  // Read by os.tmpdir() in the workers forked after this, and inherited by their child processes.
  process.env.TMPDIR = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
