#!/usr/bin/env node
// The `distill` command: runs the TypeScript CLI through tsx so that `npx distill` works right after
// `npm install`, with no build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

register();
const here = path.dirname(fileURLToPath(import.meta.url));
const { main } = await import(path.join(here, '..', 'src', 'main', 'cli', 'main.ts'));
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
