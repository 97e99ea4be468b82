// Selects for the things pages refer to by id: datasets, teachers, runs.
import { useEffect } from 'react';
import type { RunRecord } from '../../shared/domain.js';
import { useCall, useRefreshOnChange } from '../api-context.js';

/** With nothing chosen and no "none" option, the first entry is chosen for the user. */
function useDefaultFirst(value: number | null, onChange: (id: number | null) => void, ids: number[] | undefined, allowNone?: string): void {
  const first = ids?.[0];
  useEffect(() => {
    if (value === null && !allowNone && first !== undefined) onChange(first);
  }, [value, allowNone, first, onChange]);
}

interface PickerProps {
  value: number | null;
  onChange: (id: number | null) => void;
  testId?: string;
  allowNone?: string;
}

export function DatasetPicker({ value, onChange, testId, allowNone }: PickerProps) {
  const { data, reload } = useCall('datasets.list', {});
  useRefreshOnChange(reload);
  useDefaultFirst(value, onChange, data?.map((d) => d.id), allowNone);
  return (
    <select value={value ?? ''} data-testid={testId ?? 'dataset-picker'} onChange={(e) => onChange(e.target.value === '' ? null : Number(e.target.value))}>
      {(allowNone || value === null) && <option value="">{allowNone ?? 'choose a dataset…'}</option>}
      {data?.map((d) => (
        <option key={d.id} value={d.id}>
          {d.name}
        </option>
      ))}
    </select>
  );
}

export function TeacherPicker({ value, onChange, testId, allowNone }: PickerProps) {
  const { data, reload } = useCall('teachers.list', {});
  useRefreshOnChange(reload);
  useDefaultFirst(value, onChange, data?.map((t) => t.id), allowNone);
  return (
    <select value={value ?? ''} data-testid={testId ?? 'teacher-picker'} onChange={(e) => onChange(e.target.value === '' ? null : Number(e.target.value))}>
      {(allowNone || value === null) && <option value="">{allowNone ?? 'choose a teacher…'}</option>}
      {data?.map((t) => (
        <option key={t.id} value={t.id}>
          {t.name} ({t.arch}, {t.inputSize}px)
        </option>
      ))}
    </select>
  );
}

export function RunPicker({ value, onChange, testId, allowNone, filter }: PickerProps & { filter?: (r: RunRecord) => boolean }) {
  const { data, reload } = useCall('runs.list', {});
  useRefreshOnChange(reload);
  const runs = (data ?? []).filter((r) => !filter || filter(r));
  return (
    <select value={value ?? ''} data-testid={testId ?? 'run-picker'} onChange={(e) => onChange(e.target.value === '' ? null : Number(e.target.value))}>
      {(allowNone || value === null) && <option value="">{allowNone ?? 'choose a run…'}</option>}
      {runs.map((r) => (
        <option key={r.id} value={r.id}>
          #{r.id} {r.name} · {r.method} · {r.status}
        </option>
      ))}
    </select>
  );
}
