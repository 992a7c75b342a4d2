import { useCallback, useEffect, useState } from 'react';

/**
 * Tracks the cursor of the page on screen plus the cursors before it. Resets to the first
 * page whenever `resetKey` (the filters) changes.
 */
export function useCursorPages(resetKey: string) {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setStack([undefined]), [resetKey]);
  const cursor = stack[stack.length - 1];
  const next = useCallback((value: string) => setStack((current) => [...current, value]), []);
  const previous = useCallback(() => setStack((current) => (current.length > 1 ? current.slice(0, -1) : current)), []);
  return { cursor, pageNumber: stack.length, hasPrevious: stack.length > 1, next, previous };
}
