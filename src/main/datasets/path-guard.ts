// Decides whether a requested file may be served (the app's image protocol, the serve-mode image
// route): only real files inside registered roots (dataset folders, the thumbnail cache). Paths are
// compared after fs.realpath on both sides, so a symlink inside a root that points outside is refused,
// as is any ".." segment, a NUL byte, or an absolute path elsewhere. Callers URL-decode first.
import fs from 'node:fs';
import path from 'node:path';

function isWithin(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function realOrNull(p: string): string | null {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return null;
  }
}

/** Refusals that need no file system access. */
function malformed(requested: string): boolean {
  if (typeof requested !== 'string' || requested.length === 0 || requested.length > 4096) return true;
  if (requested.includes('\0')) return true;
  // Refused even where it would resolve inside a root: no legitimate request needs "..".
  return requested.split(/[\\/]/).some((seg) => seg === '..');
}

/**
 * The real path of `requested` if it is a regular file inside one of `roots`, else null. A relative
 * request is resolved against each root in turn; an absolute one must itself lie inside a root.
 */
export function resolveInside(roots: readonly string[], requested: string): string | null {
  if (malformed(requested)) return null;
  const realRoots = roots.map((r) => realOrNull(path.resolve(r))).filter((r): r is string => r !== null);
  if (realRoots.length === 0) return null;
  const candidates = path.isAbsolute(requested) ? [requested] : roots.map((r) => path.join(path.resolve(r), requested));
  for (const candidate of candidates) {
    const real = realOrNull(candidate);
    if (!real || !realRoots.some((root) => isWithin(root, real))) continue;
    try {
      if (fs.statSync(real).isFile()) return real;
    } catch {
      // vanished between realpath and stat
    }
  }
  return null;
}

/** The same check without blocking the event loop (for request handlers under load). */
export async function resolveInsideAsync(roots: readonly string[], requested: string): Promise<string | null> {
  if (malformed(requested)) return null;
  const real = async (p: string) => fs.promises.realpath(p).catch(() => null);
  const realRoots = (await Promise.all(roots.map((r) => real(path.resolve(r))))).filter((r): r is string => r !== null);
  if (realRoots.length === 0) return null;
  const candidates = path.isAbsolute(requested) ? [requested] : roots.map((r) => path.join(path.resolve(r), requested));
  for (const candidate of candidates) {
    const file = await real(candidate);
    if (!file || !realRoots.some((root) => isWithin(root, file))) continue;
    const st = await fs.promises.stat(file).catch(() => null);
    if (st?.isFile()) return file;
  }
  return null;
}
