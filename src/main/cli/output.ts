// How a CLI command talks back: human lines, or with --json one JSON object per line (the last one is
// the result). Errors: non-zero exit and one line naming the problem.
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface Output {
  readonly json: boolean;
  /** A progress or event line: JSON in --json mode, a short human line otherwise. */
  event(obj: Record<string, unknown>, human?: string): void;
  /** Human-only text (ignored in --json mode). */
  info(text: string): void;
  /** The command's final result. */
  result(obj: unknown, human?: string): void;
}

export function createOutput(json: boolean, write: (s: string) => void = (s) => process.stdout.write(s)): Output {
  let lastProgress = 0;
  return {
    json,
    event(obj, human) {
      if (json) write(JSON.stringify(obj) + '\n');
      else if (human) {
        // Throttle human progress lines so a terminal is not flooded.
        const now = Date.now();
        if (obj.type === 'progress' && now - lastProgress < 1000 && obj.done !== obj.total) return;
        lastProgress = now;
        write(human + '\n');
      }
    },
    info(text) {
      if (!json) write(text + '\n');
    },
    result(obj, human) {
      if (json) write(JSON.stringify(obj) + '\n');
      else write((human ?? JSON.stringify(obj, null, 2)) + '\n');
    },
  };
}
