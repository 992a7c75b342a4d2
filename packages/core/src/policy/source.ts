import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import type { PolicyDiagnostic } from './types.js';

/** 1-based line and column. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Where each value of a parsed policy document sits in its source text. */
export interface SourceMap {
  /** Position of the value at `path` (e.g. `rules[1].when`), or of its closest ancestor. */
  position(path: string): SourcePosition;
  /** Position of character `offset` inside the string `value` found at `path` (for CEL errors). */
  positionInString(path: string, value: string, offset: number): SourcePosition;
}

export interface ParsedSource {
  readonly value: unknown;
  readonly sourceMap: SourceMap;
  readonly diagnostics: readonly PolicyDiagnostic[];
}

interface NodeInfo {
  readonly start: number;
  readonly type: string | undefined;
}

/**
 * What {@link parsePolicySourceData} found, as plain data (structured-cloneable: it can cross a worker boundary):
 * the converted value, the diagnostics, every node's path, start offset and scalar type, and the line starts.
 * {@link parsedSourceFromData} turns it back into a {@link ParsedSource} on the thread that holds the text.
 */
export interface ParsedSourceData {
  readonly value: unknown;
  readonly diagnostics: readonly PolicyDiagnostic[];
  readonly nodes: ReadonlyArray<readonly [path: string, start: number, type: string | undefined]>;
  readonly lineStarts: readonly number[];
}

/**
 * Parses a policy document written in YAML or JSON (JSON is parsed as YAML 1.2, so both keep
 * line and column information). Syntax errors come back as diagnostics, never as exceptions.
 *
 * @example
 * const { value, diagnostics } = parsePolicySource('name: demo\nrules: []\n');
 */
export function parsePolicySource(text: string): ParsedSource {
  return parsedSourceFromData(text, parsePolicySourceData(text));
}

/**
 * {@link parsePolicySource} as plain data: the YAML parse, which is most of the cost of loading a large policy
 * (~0.8 s for 1 MB here), can run on another thread.
 *
 * @example
 * const data = parsePolicySourceData(text); // e.g. in a worker
 * const parsed = parsedSourceFromData(text, data);
 */
export function parsePolicySourceData(text: string): ParsedSourceData {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by collectNodes in linear time: the library's uniqueKeys compares every key
  // with every earlier one (90,000 keys took 100 s). Keys are compared as the strings they become: `1:`
  // and `"1":` (or `~:` and `"":`) name the same agent once converted, and the later one used to win.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const nodes = new Map<string, NodeInfo>();
  const duplicates: number[] = [];
  let conversionError: unknown;
  let value: unknown;
  try {
    collectNodes(doc.contents as Node | null, '', nodes, duplicates);
    if (doc.errors.length === 0 && duplicates.length === 0) value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // toJS throws on alias expansion bombs ("billion laughs"); a very deep document can overflow the stack.
    conversionError = error;
  }
  const toPosition = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const duplicateKeys: PolicyDiagnostic[] = duplicates.map((offset) => ({
    severity: 'error', code: 'POLICY_SYNTAX', message: 'Map keys must be unique', path: '', ...toPosition(offset),
  }));
  const diagnostics: PolicyDiagnostic[] = [...duplicateKeys, ...[...doc.errors, ...doc.warnings].map((error) => {
    const [start] = error.pos;
    const { line, column } = toPosition(start);
    const isError = error.name === 'YAMLParseError';
    return {
      severity: isError ? 'error' : 'warning',
      code: isError ? 'POLICY_SYNTAX' : 'POLICY_SYNTAX_WARNING',
      message: error.message.split('\n')[0] ?? error.message,
      path: '',
      line,
      column,
    } satisfies PolicyDiagnostic;
  })];
  if (conversionError !== undefined && !diagnostics.some((diagnostic) => diagnostic.severity === 'error')) {
    const message = conversionError instanceof Error ? conversionError.message : String(conversionError);
    diagnostics.push({ severity: 'error', code: 'POLICY_SYNTAX', message, path: '', line: 1, column: 1 });
  }
  const nodeList = [...nodes].map(([path, info]) => [path, info.start, info.type] as const);
  const failed = diagnostics.some((diagnostic) => diagnostic.severity === 'error');
  return { value: failed ? undefined : value, diagnostics, nodes: nodeList, lineStarts: [...lineCounter.lineStarts] };
}

/**
 * The {@link ParsedSource} of `text` from its {@link parsePolicySourceData} (computed here or on another thread).
 *
 * @example
 * const parsed = parsedSourceFromData(text, parsePolicySourceData(text));
 */
export function parsedSourceFromData(text: string, data: ParsedSourceData): ParsedSource {
  const lineCounter = new LineCounter();
  for (const start of data.lineStarts) lineCounter.addNewLine(start);
  const toPosition = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const nodes = new Map<string, NodeInfo>(data.nodes.map(([path, start, type]) => [path, { start, type }]));
  return { value: data.value, sourceMap: createSourceMap(text, nodes, toPosition), diagnostics: data.diagnostics };
}

/** How many times aliases may be expanded (the YAML library's own guard against expansion bombs). */
const MAX_ALIAS_COUNT = 100;

/** A mapping key as it appears in the converted object (null becomes the empty string). */
function keyText(key: unknown): string {
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  return String(key);
}

function collectNodes(node: Node | null, path: string, nodes: Map<string, NodeInfo>, duplicates: number[]): void {
  if (node === null || node === undefined) return;
  nodes.set(path, { start: node.range?.[0] ?? 0, type: isScalar(node) ? node.type : undefined });
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = keyText(pair.key);
      if (seen.has(key)) duplicates.push((pair.key as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0);
      seen.add(key);
      const childPath = path === '' ? key : `${path}.${key}`;
      if (isScalar(pair.key) && pair.value === null) {
        nodes.set(childPath, { start: pair.key.range?.[0] ?? 0, type: undefined });
      }
      collectNodes(pair.value as Node | null, childPath, nodes, duplicates);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => collectNodes(item as Node | null, `${path}[${index}]`, nodes, duplicates));
  }
}

function createSourceMap(
  text: string,
  nodes: ReadonlyMap<string, NodeInfo>,
  toPosition: (offset: number) => SourcePosition,
): SourceMap {
  const find = (path: string): NodeInfo | undefined => {
    let current = path;
    for (;;) {
      const info = nodes.get(current);
      if (info !== undefined || current === '') return info;
      current = parentPath(current);
    }
  };
  return {
    position(path) {
      const info = find(path);
      return info === undefined ? { line: 1, column: 1 } : toPosition(info.start);
    },
    positionInString(path, value, offset) {
      const info = nodes.get(path);
      if (info === undefined) return this.position(path);
      return locateInScalar(text, info, value, offset, toPosition);
    },
  };
}

/** Maps an offset inside a scalar's value to the source, for plain, quoted and block scalars. */
function locateInScalar(
  text: string,
  info: NodeInfo,
  value: string,
  offset: number,
  toPosition: (offset: number) => SourcePosition,
): SourcePosition {
  const start = toPosition(info.start);
  // An error at the end of input points at the last character, not past a trailing newline.
  const before = value.slice(0, Math.max(0, Math.min(offset, value.trimEnd().length)));
  const lineInValue = before.split('\n').length - 1;
  const columnInLine = before.length - (before.lastIndexOf('\n') + 1);
  if (info.type === 'BLOCK_LITERAL' || info.type === 'BLOCK_FOLDED') {
    const lines = text.split('\n');
    let contentLine = start.line; // 0-based index of the line below the `|` header
    while (contentLine < lines.length && (lines[contentLine] ?? '').trim() === '') contentLine += 1;
    const indent = /^ */.exec(lines[contentLine] ?? '')?.[0].length ?? 0;
    return { line: contentLine + 1 + lineInValue, column: indent + 1 + columnInLine };
  }
  const quote = info.type === 'QUOTE_DOUBLE' || info.type === 'QUOTE_SINGLE' ? 1 : 0;
  if (lineInValue === 0) return { line: start.line, column: start.column + quote + columnInLine };
  return { line: start.line + lineInValue, column: columnInLine + 1 };
}

function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}
