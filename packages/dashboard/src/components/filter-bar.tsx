import { useEffect, useState, type FormEvent } from 'react';

export interface FilterField {
  name: string;
  label: string;
  options?: readonly { value: string; label: string }[];
  placeholder?: string;
  type?: 'text' | 'date';
}

/**
 * A row of labelled filters applied on submit (Enter or the Apply button), so typing does
 * not fire one server query per keystroke.
 */
export function FilterBar(props: {
  fields: readonly FilterField[];
  values: Record<string, string>;
  onApply: (values: Record<string, string>) => void;
  label: string;
}) {
  const [draft, setDraft] = useState(props.values);
  const key = JSON.stringify(props.values);
  useEffect(() => setDraft(props.values), [key]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onApply(draft);
  };
  return (
    <form className="filters" role="search" aria-label={props.label} onSubmit={submit}>
      {props.fields.map((field) => (
        <label key={field.name} className="field">
          <span>{field.label}</span>
          {field.options ? (
            <select
              name={field.name}
              value={draft[field.name] ?? ''}
              onChange={(event) => setDraft({ ...draft, [field.name]: event.target.value })}
            >
              {field.options.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          ) : (
            <input
              name={field.name}
              type={field.type ?? 'text'}
              placeholder={field.placeholder}
              value={draft[field.name] ?? ''}
              onChange={(event) => setDraft({ ...draft, [field.name]: event.target.value })}
            />
          )}
        </label>
      ))}
      <div className="filter-actions">
        <button type="submit" className="button button-primary">
          Apply
        </button>
        <button
          type="button"
          className="button"
          onClick={() => {
            const cleared = Object.fromEntries(props.fields.map((field) => [field.name, '']));
            setDraft(cleared);
            props.onApply(cleared);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
