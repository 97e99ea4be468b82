import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInside, resolveInsideAsync } from '../../src/main/datasets/path-guard.js';

// Layout:
//   base/root/cat/a.jpg          allowed
//   base/root/link-in.jpg   -> root/cat/a.jpg      allowed (resolves inside)
//   base/root/link-out.jpg  -> base/secret.txt     refused (points out)
//   base/root/dir-out       -> base/outside        refused for files under it
//   base/root-sibling/x.jpg                       refused (prefix of the root name is not inside)
//   base/secret.txt, base/outside/o.jpg
let base: string;
let root: string;
let rootViaLink: string;
beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'distill-guard-')));
  root = path.join(base, 'root');
  fs.mkdirSync(path.join(root, 'cat'), { recursive: true });
  fs.mkdirSync(path.join(base, 'outside'));
  fs.mkdirSync(path.join(base, 'root-sibling'));
  fs.writeFileSync(path.join(root, 'cat', 'a.jpg'), 'a');
  fs.writeFileSync(path.join(base, 'secret.txt'), 'secret');
  fs.writeFileSync(path.join(base, 'outside', 'o.jpg'), 'o');
  fs.writeFileSync(path.join(base, 'root-sibling', 'x.jpg'), 'x');
  fs.symlinkSync(path.join(root, 'cat', 'a.jpg'), path.join(root, 'link-in.jpg'));
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'link-out.jpg'));
  fs.symlinkSync(path.join(base, 'outside'), path.join(root, 'dir-out'));
  // The root itself reached through a symlink: still the same real folder.
  rootViaLink = path.join(base, 'root-link');
  fs.symlinkSync(root, rootViaLink);
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const a = () => path.join(root, 'cat', 'a.jpg');

describe.each([
  ['sync', (roots: string[], p: string) => Promise.resolve(resolveInside(roots, p))],
  ['async', resolveInsideAsync],
])('resolveInside (%s)', (_name, guard) => {
  it('allows files inside a root, by absolute or root-relative path, returning the real path', async () => {
    expect(await guard([root], a())).toBe(a());
    expect(await guard([root], 'cat/a.jpg')).toBe(a());
    expect(await guard([path.join(base, 'nope'), root], 'cat/a.jpg')).toBe(a());
    expect(await guard([root], path.join(root, 'link-in.jpg'))).toBe(a());
    expect(await guard([rootViaLink], path.join(rootViaLink, 'cat', 'a.jpg'))).toBe(a());
    expect(await guard([root], path.join(rootViaLink, 'cat', 'a.jpg'))).toBe(a());
  });

  it('refuses .. traversal, even when it would land inside', async () => {
    expect(await guard([root], '../secret.txt')).toBeNull();
    expect(await guard([root], 'cat/../../secret.txt')).toBeNull();
    expect(await guard([root], path.join(root, 'cat') + '/../cat/a.jpg')).toBeNull();
    expect(await guard([root], 'cat\\..\\..\\secret.txt')).toBeNull();
  });

  it('refuses absolute paths outside every root, including a sibling sharing the name prefix', async () => {
    expect(await guard([root], path.join(base, 'secret.txt'))).toBeNull();
    expect(await guard([root], '/etc/passwd')).toBeNull();
    expect(await guard([root], path.join(base, 'root-sibling', 'x.jpg'))).toBeNull();
  });

  it('refuses symlinks pointing out, as files or as folders', async () => {
    expect(await guard([root], path.join(root, 'link-out.jpg'))).toBeNull();
    expect(await guard([root], 'link-out.jpg')).toBeNull();
    expect(await guard([root], path.join(root, 'dir-out', 'o.jpg'))).toBeNull();
    expect(await guard([root], 'dir-out/o.jpg')).toBeNull();
  });

  it('refuses NUL bytes, empty requests, folders, missing files and empty root lists', async () => {
    expect(await guard([root], a() + '\0.png')).toBeNull();
    expect(await guard([root], 'cat/a.jpg\0')).toBeNull();
    expect(await guard([root], '')).toBeNull();
    expect(await guard([root], path.join(root, 'cat'))).toBeNull();
    expect(await guard([root], root)).toBeNull();
    expect(await guard([root], path.join(root, 'cat', 'missing.jpg'))).toBeNull();
    expect(await guard([], a())).toBeNull();
  });
});
