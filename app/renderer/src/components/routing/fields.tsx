import { useEffect, useId, useState, type ReactNode } from 'react';
import { getIn, pathKey, type FieldPath } from '../../routing-form';
import { useAdmin, useEditor } from './admin-context';

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The draft's value at `path`, whether it differs from the version in force, and the path's problems. */
export function useField(path: FieldPath) {
  const value = useAdmin((s) => getIn(s.draft, path));
  const base = useAdmin((s) => getIn(s.current?.config, path));
  const edit = useAdmin((s) => s.edit);
  const { issues, readOnly } = useEditor();
  return { value, changed: !same(value, base), issues: issues.get(pathKey(path)) ?? [], readOnly, edit };
}

/** The problems of one path (a field, or a group of fields such as `weights`), next to it. */
export function FieldIssues({ path, id }: { path: FieldPath; id?: string }) {
  const { issues } = useEditor();
  const list = issues.get(pathKey(path)) ?? [];
  if (list.length === 0) return null;
  return (
    <span className="field__issues" id={id} role="alert" data-testid="field-issue" data-path={pathKey(path)}>
      {list.join(' · ')}
    </span>
  );
}

const display = (stored: unknown, factor: number): number => (typeof stored === 'number' ? stored * factor : NaN);
const closeTo = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) < 1e-9;

/**
 * A number field of the draft. `factor`: shown = stored × factor (ms shown as s: 1/1000; a share as
 * percent: 100); `integerStored`: the stored value is rounded to a whole number (milliseconds). An
 * empty box stores NaN, which the checks report. `bare`: no visible label (a table cell; `label`
 * stays its accessible name).
 */
export function NumField(props: {
  path: FieldPath;
  label: string;
  hint?: string;
  min?: number;
  max?: number;
  step?: number;
  factor?: number;
  integerStored?: boolean;
  bare?: boolean;
}) {
  const { path, label, hint, min, max, step = 1, factor = 1, integerStored = false, bare = false } = props;
  const { value, changed, issues, readOnly, edit } = useField(path);
  const shown = display(value, factor);
  const [text, setText] = useState(Number.isNaN(shown) ? '' : String(Math.round(shown * 1e6) / 1e6));
  // The draft changed from elsewhere (the slider, discard, a rollback): show it.
  useEffect(() => {
    const typed = text.trim() === '' ? NaN : Number(text);
    if (!closeTo(typed, shown)) setText(Number.isNaN(shown) ? '' : String(Math.round(shown * 1e6) / 1e6));
    // Only an outside change of the value resets the text (not each keystroke).
  }, [shown]);
  const issueId = useId();
  const onChange = (raw: string) => {
    setText(raw);
    const typed = raw.trim() === '' ? NaN : Number(raw);
    const stored = typed / factor;
    edit(path, integerStored && Number.isFinite(stored) ? Math.round(stored) : stored);
  };
  const input = (
    <input
      type="number"
      inputMode="decimal"
      value={text}
      min={min}
      max={max}
      step={step}
      disabled={readOnly}
      aria-label={bare ? label : undefined}
      aria-invalid={issues.length > 0 || undefined}
      aria-describedby={issues.length ? issueId : undefined}
      data-path={pathKey(path)}
      onChange={(e) => onChange(e.target.value)}
    />
  );
  if (bare)
    return (
      <span className={`field field--bare${changed ? ' field--changed' : ''}${issues.length ? ' field--bad' : ''}`}>
        {input}
        <FieldIssues path={path} id={issueId} />
      </span>
    );
  return (
    <label className={`field${changed ? ' field--changed' : ''}${issues.length ? ' field--bad' : ''}`}>
      <span className="field__label">{label}</span>
      {input}
      {hint ? <span className="field__hint">{hint}</span> : null}
      <FieldIssues path={path} id={issueId} />
    </label>
  );
}

/** A choice field of the draft; option values are JSON so numbers and null survive the round trip. */
export function ChoiceField(props: {
  path: FieldPath;
  label: string;
  options: { value: unknown; label: string }[];
  bare?: boolean;
  hint?: ReactNode;
  /** Stores this instead of the chosen value when the chosen one equals it (e.g. "default" removes an entry). */
  onPick?: (value: unknown) => void;
}) {
  const { path, label, options, bare = false, hint, onPick } = props;
  const { value, changed, issues, readOnly, edit } = useField(path);
  const issueId = useId();
  const select = (
    <select
      value={JSON.stringify(value ?? null)}
      disabled={readOnly}
      aria-label={bare ? label : undefined}
      aria-invalid={issues.length > 0 || undefined}
      aria-describedby={issues.length ? issueId : undefined}
      data-path={pathKey(path)}
      onChange={(e) => {
        const picked: unknown = JSON.parse(e.target.value);
        if (onPick) onPick(picked);
        else edit(path, picked);
      }}
    >
      {options.map((o) => (
        <option key={JSON.stringify(o.value)} value={JSON.stringify(o.value ?? null)}>
          {o.label}
        </option>
      ))}
    </select>
  );
  if (bare)
    return (
      <span className={`field field--bare${changed ? ' field--changed' : ''}${issues.length ? ' field--bad' : ''}`}>
        {select}
        <FieldIssues path={path} id={issueId} />
      </span>
    );
  return (
    <label className={`field${changed ? ' field--changed' : ''}${issues.length ? ' field--bad' : ''}`}>
      <span className="field__label">{label}</span>
      {select}
      {hint ? <span className="field__hint">{hint}</span> : null}
      <FieldIssues path={path} id={issueId} />
    </label>
  );
}

/** A yes/no field of the draft. */
export function CheckField({ path, label, bare = false }: { path: FieldPath; label: string; bare?: boolean }) {
  const { value, changed, readOnly, edit } = useField(path);
  return (
    <label className={`check${changed ? ' field--changed' : ''}`}>
      <input
        type="checkbox"
        checked={value === true}
        disabled={readOnly}
        data-path={pathKey(path)}
        onChange={(e) => edit(path, e.target.checked)}
      />
      <span className={bare ? 'visually-hidden' : undefined}>{label}</span>
    </label>
  );
}

/** A folding section of the editor, with how many of its fields changed and how many have problems. */
export function Section({
  title,
  changed,
  problems,
  children,
  testId,
}: {
  title: string;
  changed: number;
  problems: number;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <details className="section" open data-testid={testId}>
      <summary>
        <span className="section__title">{title}</span>
        {changed > 0 ? <span className="badge badge--changed">{changed}</span> : null}
        {problems > 0 ? <span className="badge badge--bad">{problems}</span> : null}
      </summary>
      <div className="section__body">{children}</div>
    </details>
  );
}
