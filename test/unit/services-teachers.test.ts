// The Teachers page's service calls become `distill teacher …` command lines; those lines must parse
// with the real CLI parser into the values the user chose (a range such as -1-1 included).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobInfo } from '../../src/shared/api.js';
import { Store } from '../../src/main/store/index.js';
import type { JobRunner } from '../../src/main/services/job-runner.js';
import { teacherHandlers } from '../../src/main/services/teachers.js';
import { parseFlags } from '../../src/main/cli/command.js';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-svc-teachers-'));
const store = Store.open(home);
afterAll(() => {
  store.close();
  fs.rmSync(home, { recursive: true, force: true });
});

/** Records the command lines instead of starting processes (what is under test is the line itself). */
function recordingJobs(lines: string[][]): JobRunner {
  const spawnCli = (kind: JobInfo['kind'], args: string[]): JobInfo => {
    lines.push(args);
    return { id: `job-${lines.length}`, kind, status: 'running', progress: 0, message: 'starting' };
  };
  return { spawnCli } as unknown as JobRunner;
}

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  dataset: z.string(),
  backbone: z.string(),
  head: z.string(),
  epochs: z.string(),
  'feature-layer': z.string().optional(),
  'input-range': z.string().optional(),
});
const OPTIONS = { dataset: { type: 'string' }, backbone: { type: 'string' }, head: { type: 'string' }, epochs: { type: 'string' }, 'feature-layer': { type: 'string' }, 'input-range': { type: 'string' } } as const;

describe('teachers.trainBackbone and teachers.backbones', () => {
  it('lists the bundled backbone and starts `teacher train --backbone` with the chosen options', async () => {
    const ds = store.datasets.createDataset('pets');
    const lines: string[][] = [];
    const h = teacherHandlers({ home, store, jobs: recordingJobs(lines), emit: () => undefined });
    expect((await h['teachers.backbones']({})).map((b) => [b.name, b.inputSize, b.featureDim])).toEqual([['mobilenet_v1_075', 224, 768]]);
    await h['teachers.trainBackbone']({ name: 'big', dataset: 'pets', backbone: '/m/model.json', featureLayer: 'conv_pw_13', inputRange: '-1-1', head: 'mlp', epochs: 30 });
    const [sub, name, ...rest] = lines[0]!.slice(1);
    expect([lines[0]![0], sub, name]).toEqual(['teacher', 'train', 'big']);
    expect(parseFlags(rest, OPTIONS, Flags).values).toEqual({ dataset: String(ds), backbone: '/m/model.json', head: 'mlp', epochs: '30', 'feature-layer': 'conv_pw_13', 'input-range': '-1-1' });
  });

  it('refuses a taken name and an unknown dataset before starting anything', async () => {
    const lines: string[][] = [];
    const h = teacherHandlers({ home, store, jobs: recordingJobs(lines), emit: () => undefined });
    expect(() => h['teachers.trainBackbone']({ name: 'x', dataset: 'nope', backbone: 'mobilenet_v1_075', head: 'linear', epochs: 60 })).toThrow(/dataset "nope" not found/);
    expect(lines).toEqual([]);
  });
});
