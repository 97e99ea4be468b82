#!/usr/bin/env node
// `npm start`: the desktop app through electron-vite (dev server with reload; `npm start -- --preview`
// runs the production build). Electron is an optional dependency whose binary download fails on some
// machines; there the browser twin (`npm run serve`) is the way in, and we say so in one line.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

/** The Electron binary's path, or why there is none. */
export function findElectron() {
  let binary;
  try {
    // The electron package's main export is the path of its downloaded binary; it throws when the
    // download never happened.
    binary = require('electron');
  } catch (err) {
    const msg = err && err.code === 'MODULE_NOT_FOUND' ? 'the electron package is missing' : String(err.message || err).split('\n')[0];
    return { ok: false, why: msg };
  }
  if (typeof binary !== 'string' || !fs.existsSync(binary)) {
    return { ok: false, why: `no binary at ${typeof binary === 'string' ? binary : '(unknown path)'}` };
  }
  return { ok: true, binary };
}

function main() {
  const found = findElectron();
  if (!found.ok) {
    process.stderr.write(`Electron's binary is not installed here (${found.why}); run \`npm run serve\` and open the printed URL instead\n`);
    process.exit(1);
  }
  const preview = process.argv.includes('--preview');
  const cli = path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const child = spawn(process.execPath, [cli, preview ? 'preview' : 'dev'], { cwd: root, stdio: 'inherit' });
  const forward = (sig) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
