// The Electron shell's security decisions (src/main/app/security.ts), tested under Node because the
// Electron binary is not installed everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appFileFor, isAppUrl, mediaAskFor, requestAllowed } from '../../src/main/app/security.js';

let dir: string;
let renderer: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-sec-'));
  renderer = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html>');
  fs.writeFileSync(path.join(renderer, 'assets', 'app.js'), '');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('IPC sender check', () => {
  it('accepts only the app protocol (and the dev server in development)', () => {
    expect(isAppUrl('distill-app://renderer/index.html#/runs')).toBe(true);
    expect(isAppUrl('distill-app://other/index.html')).toBe(false);
    expect(isAppUrl('file:///work/main/out/renderer/index.html')).toBe(false);
    expect(isAppUrl('https://example.com/')).toBe(false);
    expect(isAppUrl('http://localhost:5173/')).toBe(false);
    expect(isAppUrl('http://localhost:5173/#/runs', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});

describe('app protocol', () => {
  it('maps to files inside the renderer folder only', () => {
    expect(appFileFor(renderer, 'distill-app://renderer/index.html')).toBe(path.join(renderer, 'index.html'));
    expect(appFileFor(renderer, 'distill-app://renderer/assets/app.js')).toBe(path.join(renderer, 'assets', 'app.js'));
    expect(appFileFor(renderer, 'distill-app://renderer/')).toBe(path.join(renderer, 'index.html'));
    expect(appFileFor(renderer, 'distill-app://renderer/runs')).toBe(path.join(renderer, 'index.html'));
    expect(appFileFor(renderer, 'distill-app://renderer/assets/missing.js')).toBeNull();
    expect(appFileFor(renderer, 'distill-app://renderer/%2e%2e/secret.txt')).toBeNull();
    expect(appFileFor(renderer, 'distill-app://renderer/assets/..%2f..%2fsecret.txt')).toBeNull();
    expect(appFileFor(renderer, 'distill-app://other/index.html')).toBeNull();
    expect(appFileFor(renderer, 'distill-media://renderer/index.html')).toBeNull();
  });
});

describe('media protocol', () => {
  it('parses thumbnails, images and files, refusing anything else', () => {
    expect(mediaAskFor('distill-media://thumb/42')).toEqual({ kind: 'thumb', arg: '42' });
    expect(mediaAskFor('distill-media://image/7')).toEqual({ kind: 'image', arg: '7' });
    expect(mediaAskFor('distill-media://file/?path=%2Fdata%2Fa%20b.jpg')).toEqual({ kind: 'file', arg: '/data/a b.jpg' });
    expect(mediaAskFor('distill-media://thumb/..%2F1')).toBeNull();
    expect(mediaAskFor('distill-media://thumb/1.5')).toBeNull();
    expect(mediaAskFor('distill-media://file/')).toBeNull();
    expect(mediaAskFor('distill-media://other/1')).toBeNull();
    expect(mediaAskFor('https://thumb/1')).toBeNull();
  });
});

describe('no remote content', () => {
  it('allows only the app schemes and, in development, the dev server', () => {
    expect(requestAllowed('distill-app://renderer/assets/app.js')).toBe(true);
    expect(requestAllowed('distill-media://thumb/1')).toBe(true);
    expect(requestAllowed('data:image/png;base64,AAAA')).toBe(true);
    expect(requestAllowed('https://cdn.example.com/x.js')).toBe(false);
    expect(requestAllowed('http://127.0.0.1:5173/src/main.tsx')).toBe(false);
    expect(requestAllowed('http://127.0.0.1:5173/src/main.tsx', 'http://127.0.0.1:5173')).toBe(true);
    expect(requestAllowed('ws://127.0.0.1:5173/', 'http://127.0.0.1:5173')).toBe(true);
    expect(requestAllowed('http://127.0.0.1:5174/', 'http://127.0.0.1:5173')).toBe(false);
    expect(requestAllowed('file:///etc/passwd')).toBe(false);
  });
});
