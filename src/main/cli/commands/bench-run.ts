// Temporary until the engine's bench lands: says so instead of failing at import time.
import type { Output } from '../output.js';
export async function runBenchCommand(_o: unknown, _out: Output): Promise<number> {
  throw new Error('bench is not wired yet');
}
