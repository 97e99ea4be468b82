// `distill serve [--port P]`: the UI in a browser, on 127.0.0.1 only, token in the printed URL.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, parseFlags } from '../command.js';
import { resolveHome } from '../../store/index.js';
import { runServeCommand } from '../../server/serve-command.js';

const Flags = z.object({ home: z.string().optional(), json: z.boolean().optional(), port: intArg().pipe(z.number().int().min(0).max(65535)).optional() });

export const serveCommand: Command = {
  ...commandInfo('serve'),
  async run(args) {
    const { values } = parseFlags(args, { port: { type: 'string' } }, Flags);
    return runServeCommand({ home: resolveHome(values.home), port: values.port });
  },
};
