// `distill serve` (the CLI command file calls this): build the renderer when it is missing, start the
// loopback server, print the tokened URL, and run until SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RENDERER_DIR = path.join(ROOT, 'out', 'renderer');

export interface ServeArgs {
  home: string;
  port?: number;
  /** Where the status lines go (the URL line is what scripts and tests read). */
  write?: (line: string) => void;
}

/** vite build of the renderer (vite.renderer.config.ts), output on stderr so stdout stays the URL. */
export async function buildRenderer(): Promise<void> {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const config = path.join(ROOT, 'vite.renderer.config.ts');
  if (!fs.existsSync(config)) throw new Error(`cannot build the renderer: ${config} is missing`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--config', config, '--logLevel', 'warn'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`building the renderer failed (vite exited with ${code})`))));
  });
}

export async function runServeCommand(args: ServeArgs): Promise<number> {
  const write = args.write ?? ((line: string) => process.stdout.write(line + '\n'));
  if (!fs.existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    process.stderr.write('distill serve: building the renderer (first run)…\n');
    await buildRenderer();
  }
  const server = await startServer({ home: args.home, port: args.port, host: '127.0.0.1', rendererDir: RENDERER_DIR });
  write(`Distill Studio: ${server.openUrl}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stderr.write('distill serve: stopping (running jobs are cancelled and can be resumed)…\n');
  await server.close();
  return 0;
}
