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

/** JSON progress lines at most this often (~4 a second); a phase's first and last line always pass. */
export const JSON_PROGRESS_MS = 250;
const HUMAN_PROGRESS_MS = 1000;

export function createOutput(
  json: boolean,
  write: (s: string) => void = (s) => process.stdout.write(s),
  now: () => number = Date.now,
): Output {
  let lastProgress = -Infinity;
  let lastPhase: unknown = undefined;
  return {
    json,
    event(obj, human) {
      if (obj.type === 'progress') {
        // Throttled for both readers: 12,000 images must not print 12,000 lines.
        const t = now();
        const phase = `${String(obj.phase)}|${String(obj.message)}`;
        const edge = phase !== lastPhase || obj.done === obj.total || obj.done === 0;
        if (!edge && t - lastProgress < (json ? JSON_PROGRESS_MS : HUMAN_PROGRESS_MS)) return;
        lastProgress = t;
        lastPhase = phase;
      }
      if (json) write(JSON.stringify(obj) + '\n');
      else if (human) write(human + '\n');
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
