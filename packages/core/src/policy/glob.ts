/** Tests a name against a compiled set of names and globs. */
export type NameMatcher = (name: string) => boolean;

const MATCH_ALL: NameMatcher = () => true;

/**
 * Compiles tool/agent/user patterns into one matcher. `*` matches any run of characters,
 * `?` one character; everything else is literal. Exact names go through a Set; globs are
 * matched by a linear scan, not a regular expression: V8's backtracking made a pattern such as
 * `*a*a*a*a*a*a*a*a*a*a*b` take minutes against a 40-character name, stalling the event loop.
 *
 * @example
 * const inScope = compileNameMatcher(['read_*', 'send_email']);
 * inScope('read_file') // true
 */
export function compileNameMatcher(patterns: readonly string[] | undefined): NameMatcher {
  if (patterns === undefined) return MATCH_ALL;
  if (patterns.includes('*')) return MATCH_ALL;
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const pattern of patterns) {
    if (isGlob(pattern)) globs.push(pattern.replace(/\*{2,}/g, '*'));
    else exact.add(pattern);
  }
  if (globs.length === 0) return (name) => exact.has(name);
  return (name) => exact.has(name) || globs.some((glob) => matchesGlob(glob, name));
}

/**
 * True when the pattern contains glob characters.
 *
 * @example
 * isGlob('search_*') // true
 */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/**
 * Matches one glob against a name in O(pattern × name) time at worst: on a mismatch after a `*`,
 * only the latest `*` is retried one character further (earlier stars never need revisiting).
 * Characters are UTF-16 code units, as the regular expression used before counted them.
 *
 * @example
 * matchesGlob('kb_*', 'kb_search') // true
 */
export function matchesGlob(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const char = pattern[p];
    if (char === '*') {
      star = p;
      p += 1;
      resume = n;
    } else if (char !== undefined && (char === '?' || char === name[n])) {
      p += 1;
      n += 1;
    } else if (star >= 0) {
      p = star + 1;
      resume += 1;
      n = resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p += 1;
  return p === pattern.length;
}
