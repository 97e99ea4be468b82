// electron-vite: main (ESM, Node built-ins and dependencies left external), the sandboxed preload
// (one CommonJS file: a sandboxed preload cannot load ES modules or other files) and the renderer
// (the same React app `distill serve` serves; its own vite.renderer.config.ts is used for that build).
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: path.join(here, 'out', 'main'),
      // The services host (src/main/app/services-host.ts) runs from source under tsx in its own
      // Node process; the main bundle only needs the app entry.
      rollupOptions: { input: { index: path.join(here, 'src', 'main', 'app', 'index.ts') }, external: ['electron'] },
    },
  },
  preload: {
    build: {
      outDir: path.join(here, 'out', 'preload'),
      rollupOptions: {
        input: { index: path.join(here, 'src', 'preload', 'index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: path.join(here, 'src', 'renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: path.join(here, 'out', 'renderer'),
      emptyOutDir: true,
      target: 'es2022',
      rollupOptions: { input: path.join(here, 'src', 'renderer', 'index.html') },
    },
    server: { host: '127.0.0.1' },
  },
});
