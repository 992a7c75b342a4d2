import { useRef, type UIEvent } from 'react';

/**
 * Plain textarea with a line-number gutter and per-line error marks. `goToLine` lets an
 * error list move the caret to the offending line.
 */
export function CodeEditor(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  errorLines: ReadonlySet<number>;
  describedBy?: string;
  editorRef?: React.RefObject<HTMLTextAreaElement | null>;
}) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = props.value.split('\n').length;
  const syncScroll = (event: UIEvent<HTMLTextAreaElement>) => {
    if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
  };
  return (
    <div className="editor">
      <label htmlFor={props.id} className="visually-hidden">
        {props.label}
      </label>
      <div className="editor-gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, index) => (
          <div key={index} className={props.errorLines.has(index + 1) ? 'gutter-error' : undefined}>
            {index + 1}
          </div>
        ))}
      </div>
      <textarea
        id={props.id}
        ref={props.editorRef}
        className="editor-text"
        spellCheck={false}
        wrap="off"
        value={props.value}
        aria-describedby={props.describedBy}
        aria-invalid={props.errorLines.size > 0}
        onScroll={syncScroll}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </div>
  );
}

/** Puts the caret at the start of a 1-based line and focuses the textarea. */
export function focusLine(textarea: HTMLTextAreaElement | null, line: number): void {
  if (!textarea) return;
  const lines = textarea.value.split('\n');
  let offset = 0;
  for (let index = 0; index < line - 1 && index < lines.length; index += 1) offset += (lines[index]?.length ?? 0) + 1;
  textarea.focus();
  textarea.setSelectionRange(offset, offset + (lines[line - 1]?.length ?? 0));
}
