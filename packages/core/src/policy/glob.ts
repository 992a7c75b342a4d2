/** Tests a name against a compiled set of names and globs. */
export type NameMatcher = (name: string) => boolean;

const MATCH_ALL: NameMatcher = () => true;

/**
 * Compiles tool/agent/user patterns into one matcher. `*` matches any run of characters,
 * `?` one character; everything else is literal. Exact names go through a Set, globs
 * through one anchored regular expression, so matching costs the same for 1 or 100 patterns.
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
    if (isGlob(pattern)) globs.push(globToRegexSource(pattern));
    else exact.add(pattern);
  }
  if (globs.length === 0) return (name) => exact.has(name);
  const regex = new RegExp(`^(?:${globs.join('|')})$`, 's');
  return (name) => exact.has(name) || regex.test(name);
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

function globToRegexSource(pattern: string): string {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}\/-]/g, '\\$&');
  }
  return source;
}
