// Builds the renderer (React) alone: `distill serve` serves out/renderer, Electron loads the same files.
// In `vite dev` (mock mode) a small plugin serves catdog images so pages can be developed without the server.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Dev only: vite's HMR client needs inline scripts and its own socket, which the shipped CSP forbids. */
function relaxCspInDev(): Plugin {
  return {
    name: 'distill-dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html
        .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace("connect-src 'self'", "connect-src 'self' ws: http:");
    },
  };
}

/** Dev only: /__mock/list and /media/* backed by ../shared/datasets/catdog for the fake window.distill. */
function mockMedia(): Plugin {
  const root = path.resolve(here, '..', 'shared', 'datasets', 'catdog');
  const list = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string): void => {
      if (!fs.existsSync(dir)) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(jpe?g|png)$/i.test(e.name)) out.push(path.relative(root, p));
      }
    };
    walk(root);
    return out.sort();
  };
  return {
    name: 'distill-dev-mock-media',
    apply: 'serve',
    configureServer(server) {
      let files: string[] | null = null;
      server.middlewares.use((req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://x');
        files ??= list();
        if (url.pathname === '/__mock/list') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ root, files }));
          return;
        }
        let rel: string | undefined;
        const thumb = /^\/media\/thumb\/(\d+)$/.exec(url.pathname);
        if (thumb && files.length) rel = files[(Number(thumb[1]) - 1) % files.length];
        if (url.pathname === '/media/file') {
          const p = url.searchParams.get('path') ?? '';
          const r = path.relative(root, path.resolve(root, p));
          if (!r.startsWith('..') && !path.isAbsolute(r)) rel = r;
        }
        if (!rel) return next();
        res.setHeader('content-type', 'image/jpeg');
        fs.createReadStream(path.join(root, rel)).pipe(res);
      });
    },
  };
}

export default defineConfig({
  root: path.join(here, 'src', 'renderer'),
  base: './',
  plugins: [react(), relaxCspInDev(), mockMedia()],
  build: {
    outDir: path.join(here, 'out', 'renderer'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, fs: { allow: [here] } },
});
