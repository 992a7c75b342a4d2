/**
 * Wraps entry code in an async function so top-level `await` and `return` work (the seed's examples use both).
 * The newline before `}` keeps a trailing line comment from swallowing the brace.
 *
 * @example
 * wrapEntryCode('return 1'); // '(async function () {\nreturn 1\n})()'
 */
export function wrapEntryCode(code: string): string {
  return `(async function () {\n${code}\n})()`;
}
