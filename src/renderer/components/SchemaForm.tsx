// A form generated from a zod schema (see lib/schema-form.ts): one input per leaf, fieldsets for
// objects, lists for arrays, key/value rows for records, a branch switch for unions. Validation
// messages come from the schema's own issues, shown under the field they name.
import { useEffect, useState, type ReactNode } from 'react';
import { getAt, initialValue, setAt, unionBranch, unionBranchName, type FieldNode } from '../lib/schema-form.js';

export interface FormMeta {
  labels?: Record<string, string>;
  hints?: Record<string, string>;
  /** Custom inputs by dotted path (e.g. a dataset picker for "dataset"). */
  overrides?: Record<string, (value: unknown, set: (v: unknown) => void) => ReactNode>;
  hidden?: ReadonlySet<string>;
}

interface Props extends FormMeta {
  node: FieldNode;
  value: unknown;
  onChange: (value: unknown) => void;
  issues: Map<string, string[]>;
}

const dotted = (path: readonly string[]) => path.join('.');
/** Exact path first, then with list indices as "*", then the bare key: "peers.0.inputSize" finds "inputSize". */
function lookup(map: Record<string, string> | undefined, path: readonly string[]): string | undefined {
  if (!map) return undefined;
  return map[dotted(path)] ?? map[path.map((k) => (/^\d+$/.test(k) ? '*' : k)).join('.')] ?? map[path[path.length - 1] ?? ''];
}
const pretty = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

export function SchemaForm(props: Props) {
  return (
    <div className="schema-form" data-testid="schema-form">
      <Field {...props} path={props.node.path} root />
    </div>
  );
}

interface FieldProps extends Props {
  path: string[];
  root?: boolean;
}

function Messages({ issues, at }: { issues: Map<string, string[]>; at: string }) {
  const list = issues.get(at);
  if (!list?.length) return null;
  return (
    <div className="field-error" data-testid="field-error" data-path={at}>
      {list.join('; ')}
    </div>
  );
}

function Field(p: FieldProps) {
  const { node, value, onChange, issues, path } = p;
  const at = dotted(path);
  if (p.hidden?.has(at)) return null;
  const current = getAt(value, path);
  const set = (v: unknown) => onChange(setAt(value, path, v));
  const label = lookup(p.labels, path) ?? pretty(node.key);
  const hint = lookup(p.hints, path);
  const override = p.overrides?.[at];

  if (node.kind === 'object') {
    const children = node.fields.map((f) => <Field key={f.key} {...p} node={f} path={f.path} root={false} />);
    if (p.root) {
      return (
        <>
          <Messages issues={issues} at={at} />
          <div className="form-grid">{children}</div>
        </>
      );
    }
    const enabled = current !== undefined || !node.optional || node.defaultValue !== undefined;
    const toggleable = node.optional && node.defaultValue === undefined;
    return (
      <fieldset className="form-group" data-field={at}>
        <legend>
          {toggleable ? (
            <label className="inline">
              <input type="checkbox" checked={current !== undefined} data-testid={`toggle-${at}`} onChange={(e) => set(e.target.checked ? initialValue({ ...node, optional: false }) : undefined)} />
              {label}
            </label>
          ) : (
            label
          )}
        </legend>
        {hint && <div className="hint">{hint}</div>}
        <Messages issues={issues} at={at} />
        {enabled && <div className="form-grid">{children}</div>}
      </fieldset>
    );
  }

  let input: ReactNode;
  if (override) input = override(current, set);
  else {
    switch (node.kind) {
      case 'number':
        input = <NumberInput node={node} value={current} onChange={set} testId={`field-${at}`} />;
        break;
      case 'string':
        input = <input type="text" value={typeof current === 'string' ? current : ''} maxLength={node.maxLength ?? undefined} data-testid={`field-${at}`} onChange={(e) => set(e.target.value === '' && node.optional ? undefined : e.target.value)} />;
        break;
      case 'boolean':
        input = (
          <input
            type="checkbox"
            checked={typeof current === 'boolean' ? current : node.defaultValue === true}
            data-testid={`field-${at}`}
            onChange={(e) => set(e.target.checked)}
          />
        );
        break;
      case 'enum':
        input = (
          <select value={typeof current === 'string' ? current : ''} data-testid={`field-${at}`} onChange={(e) => set(e.target.value === '' ? undefined : e.target.value)}>
            {(node.optional || current === undefined) && <option value="">{node.defaultValue !== undefined ? `default (${String(node.defaultValue)})` : '—'}</option>}
            {node.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        );
        break;
      case 'union':
        return <UnionField {...p} node={node} current={current} set={set} label={label} at={at} />;
      case 'array':
        return <ArrayField {...p} node={node} current={current} set={set} label={label} at={at} />;
      case 'record':
        input = <RecordInput node={node} value={current} onChange={set} testId={`field-${at}`} />;
        break;
      default:
        input = <span className="muted">(not editable here)</span>;
    }
  }

  return (
    <label className={`form-field kind-${node.kind}`} data-field={at}>
      <span className="form-label">
        {label}
        {!node.optional && <span className="req">*</span>}
      </span>
      {input}
      {hint && <span className="hint">{hint}</span>}
      <Messages issues={issues} at={at} />
    </label>
  );
}

function NumberInput({ node, value, onChange, testId }: { node: Extract<FieldNode, { kind: 'number' }>; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const shown = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  const [text, setText] = useState(shown);
  // Follow outside changes (method switch resets defaults) without clobbering a half-typed "0.".
  useEffect(() => {
    if (Number(text) !== value || text === '') setText(shown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shown]);
  return (
    <input
      type="text"
      inputMode="decimal"
      value={text}
      placeholder={node.defaultValue !== undefined ? String(node.defaultValue) : undefined}
      data-testid={testId}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        if (t.trim() === '') onChange(node.optional ? undefined : t);
        else {
          const n = Number(t);
          // Unparseable text is passed through so the schema reports it where it is.
          onChange(Number.isFinite(n) ? n : t);
        }
      }}
    />
  );
}

function RecordInput({ value, onChange, testId }: { node: Extract<FieldNode, { kind: 'record' }>; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const entries = value && typeof value === 'object' ? Object.entries(value as Record<string, unknown>) : [];
  const [key, setKey] = useState('');
  const write = (rows: Array<[string, unknown]>) => onChange(rows.length ? Object.fromEntries(rows) : undefined);
  return (
    <div className="record" data-testid={testId}>
      {entries.map(([k, v], i) => (
        <div key={k} className="record-row">
          <span className="record-key">{k}</span>
          <input
            type="text"
            inputMode="decimal"
            value={String(v)}
            onChange={(e) => {
              const n = Number(e.target.value);
              const rows = entries.slice();
              rows[i] = [k, e.target.value.trim() !== '' && Number.isFinite(n) ? n : e.target.value];
              write(rows);
            }}
          />
          <button type="button" className="link" onClick={() => write(entries.filter((_, j) => j !== i))}>
            remove
          </button>
        </div>
      ))}
      <div className="record-row">
        <input type="text" placeholder="part name, e.g. ce" value={key} onChange={(e) => setKey(e.target.value)} />
        <button
          type="button"
          disabled={!key.trim() || entries.some(([k]) => k === key.trim())}
          onClick={() => {
            write([...entries, [key.trim(), 1]]);
            setKey('');
          }}
        >
          add weight
        </button>
      </div>
    </div>
  );
}

interface CompoundProps<K extends FieldNode['kind']> extends FieldProps {
  node: Extract<FieldNode, { kind: K }>;
  current: unknown;
  set: (v: unknown) => void;
  label: string;
  at: string;
}

function UnionField(p: CompoundProps<'union'>) {
  const { node, current, set, label, at, issues } = p;
  const branch = unionBranch(node, current);
  const chosen = node.options[branch]!;
  return (
    <fieldset className="form-group union" data-field={at}>
      <legend>
        {label}{' '}
        <select
          value={branch}
          data-testid={`branch-${at}`}
          onChange={(e) => {
            const o = node.options[Number(e.target.value)]!;
            set(initialValue({ ...o, defaultValue: undefined }));
          }}
        >
          {node.options.map((o, i) => (
            <option key={i} value={i}>
              {unionBranchName(node, o)}
            </option>
          ))}
        </select>
      </legend>
      <Messages issues={issues} at={at} />
      <div className="form-grid">
        {chosen.kind === 'object' ? (
          chosen.fields.map((f) => <Field key={f.key} {...p} node={f} path={f.path} root={false} />)
        ) : (
          <Field {...p} node={{ ...chosen, key: node.key, optional: node.optional, defaultValue: node.defaultValue }} path={node.path} root={false} labels={{ ...p.labels, [at]: 'value' }} />
        )}
      </div>
    </fieldset>
  );
}

function ArrayField(p: CompoundProps<'array'>) {
  const { node, current, set, label, at, issues } = p;
  const items = Array.isArray(current) ? current : [];
  const full = node.max !== null && items.length >= node.max;
  return (
    <fieldset className="form-group array" data-field={at}>
      <legend>
        {label} <span className="muted">({items.length})</span>
      </legend>
      <Messages issues={issues} at={at} />
      {items.map((_, i) => {
        const elPath = [...node.path, String(i)];
        const el = withPath(node.element, elPath);
        return (
          <div key={i} className="array-item" data-testid={`item-${at}-${i}`}>
            <div className="array-item-head">
              #{i + 1}
              <button type="button" className="link" onClick={() => set(items.length > 1 ? items.filter((_, j) => j !== i) : undefined)}>
                remove
              </button>
            </div>
            {el.kind === 'object' ? (
              <div className="form-grid">{el.fields.map((f) => <Field key={f.key} {...p} node={f} path={f.path} root={false} />)}</div>
            ) : (
              <Field {...p} node={el} path={elPath} root={false} />
            )}
          </div>
        );
      })}
      <button type="button" disabled={full} data-testid={`add-${at}`} onClick={() => set([...items, initialValue(node.element)])}>
        + add
      </button>
    </fieldset>
  );
}

/** Re-roots a described element at a concrete index so its fields read and write the right item. */
function withPath(node: FieldNode, path: string[]): FieldNode {
  if (node.kind === 'object') return { ...node, path, fields: node.fields.map((f) => withPath(f, [...path, f.key])) };
  if (node.kind === 'union') return { ...node, path, options: node.options.map((o) => withPath(o, path)) };
  return { ...node, path };
}
