/** Cursor pager: "Previous" goes back through the cursors already seen, "Next" follows `nextCursor`. */
export function Pager(props: {
  hasPrevious: boolean;
  nextCursor: string | null | undefined;
  onPrevious: () => void;
  onNext: (cursor: string) => void;
  label?: string;
}) {
  const { hasPrevious, nextCursor, onPrevious, onNext, label } = props;
  return (
    <nav className="pager" aria-label={label ?? 'Pagination'}>
      <button type="button" className="button" disabled={!hasPrevious} onClick={onPrevious}>
        ← Previous
      </button>
      <button type="button" className="button" disabled={!nextCursor} onClick={() => nextCursor && onNext(nextCursor)}>
        Next →
      </button>
    </nav>
  );
}
