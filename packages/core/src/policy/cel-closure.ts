/**
 * Compiles the common subset of CEL (field access, literals, comparisons, &&, ||, !, `in` a list
 * literal, has(), startsWith/endsWith/contains, emailDomain) into plain closures, about 20× faster
 * than the interpreter. A closure answers only when the types are unambiguous; on anything else
 * (a missing key, mixed types, an unexpected value) it returns FALLBACK and the caller runs the
 * real CEL evaluator, which then produces the exact CEL result or error. So semantics stay CEL's.
 */

/** Returned when the closure cannot answer with certainty. */
export const FALLBACK: unique symbol = Symbol('cel-fallback');

type Value = unknown;
export type FastClosure = (context: Readonly<Record<string, unknown>>) => Value | typeof FALLBACK;

interface AstNode {
  readonly op: string;
  readonly args: unknown;
}

const COMPARE = new Set(['<', '<=', '>', '>=']);
const STRING_METHODS = new Set(['startsWith', 'endsWith', 'contains']);

/**
 * Builds a closure for an AST from @marcbachmann/cel-js, or returns null when the expression uses
 * something outside the subset (then only the interpreter runs).
 *
 * @example
 * const fast = compileClosure(env.parse('args.amount > 10').ast);
 */
export function compileClosure(ast: unknown): FastClosure | null {
  try {
    return build(ast as AstNode);
  } catch {
    return null;
  }
}

function build(node: AstNode): FastClosure {
  switch (node.op) {
    case 'value': return literal(node.args);
    case 'id': { const name = node.args as string; return (ctx) => (Object.hasOwn(ctx, name) ? ctx[name] : FALLBACK); }
    case '.': return field(node.args as [AstNode, string]);
    case '[]': return index(node.args as [AstNode, AstNode]);
    case '&&': case '||': return logical(node.op, node.args as [AstNode, AstNode]);
    case '-_': {
      const inner = node.args as AstNode;
      if (inner.op !== 'value') throw new Error('negation of a non-literal');
      const value = literalValue(inner.args);
      if (typeof value !== 'number') throw new Error('negation of a non-number');
      return () => -value;
    }
    case '!_': { const inner = build(node.args as AstNode); return (ctx) => { const v = inner(ctx); return typeof v === 'boolean' ? !v : FALLBACK; }; }
    case '==': case '!=': return equality(node.op, node.args as [AstNode, AstNode]);
    case 'in': return membership(node.args as [AstNode, AstNode]);
    case 'rcall': return method(node.args as [string, AstNode, AstNode[]]);
    case 'call': return call(node.args as [string, AstNode[]]);
    default:
      if (COMPARE.has(node.op)) return comparison(node.op, node.args as [AstNode, AstNode]);
      throw new Error(`unsupported ${node.op}`);
  }
}

function literalValue(value: unknown): string | number | boolean | null {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('big int');
    return Number(value);
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  throw new Error('unsupported literal');
}

function literal(raw: unknown): FastClosure {
  const value = literalValue(raw);
  return () => value;
}

function lookup(target: Value, key: unknown): Value | typeof FALLBACK {
  if (typeof key !== 'string' || typeof target !== 'object' || target === null || Array.isArray(target)) return FALLBACK;
  if (target instanceof Date || !Object.hasOwn(target, key)) return FALLBACK;
  return (target as Record<string, unknown>)[key];
}

function field([target, key]: [AstNode, string]): FastClosure {
  const object = build(target);
  return (ctx) => { const value = object(ctx); return value === FALLBACK ? FALLBACK : lookup(value, key); };
}

function index([target, key]: [AstNode, AstNode]): FastClosure {
  const object = build(target);
  const keyOf = build(key);
  return (ctx) => {
    const value = object(ctx);
    const name = keyOf(ctx);
    return value === FALLBACK || name === FALLBACK ? FALLBACK : lookup(value, name);
  };
}

function logical(op: string, [left, right]: [AstNode, AstNode]): FastClosure {
  const a = build(left);
  const b = build(right);
  const isAnd = op === '&&';
  return (ctx) => {
    const x = a(ctx);
    if (typeof x !== 'boolean') return FALLBACK;
    if (isAnd ? !x : x) return x;
    const y = b(ctx);
    return typeof y === 'boolean' ? y : FALLBACK;
  };
}

function comparison(op: string, [left, right]: [AstNode, AstNode]): FastClosure {
  const a = build(left);
  const b = build(right);
  return (ctx) => {
    const x = a(ctx);
    const y = b(ctx);
    // Numbers only: CEL orders strings by code point, JavaScript by UTF-16 unit.
    if (typeof x !== 'number' || typeof y !== 'number' || Number.isNaN(x) || Number.isNaN(y)) return FALLBACK;
    return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
  };
}

function isSimple(value: Value): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || value === null
    || (typeof value === 'number' && Number.isInteger(value));
}

function equality(op: string, [left, right]: [AstNode, AstNode]): FastClosure {
  const a = build(left);
  const b = build(right);
  const negate = op === '!=';
  return (ctx) => {
    const x = a(ctx);
    const y = b(ctx);
    // Only same-kind primitives: CEL's cross-type and double equality rules stay with CEL.
    if (!isSimple(x) || !isSimple(y) || typeof x !== typeof y) return FALLBACK;
    return (x === y) !== negate;
  };
}

function membership([left, right]: [AstNode, AstNode]): FastClosure {
  if (right.op !== 'list') throw new Error('in needs a list literal');
  const item = build(left);
  const values = (right.args as AstNode[]).map((node) => {
    if (node.op !== 'value') throw new Error('list of non-literals');
    return literalValue(node.args);
  });
  if (!values.every((value) => isSimple(value) && typeof value === typeof values[0])) throw new Error('mixed list');
  const set = new Set(values);
  return (ctx) => {
    const x = item(ctx);
    if (!isSimple(x) || (values.length > 0 && typeof x !== typeof values[0])) return FALLBACK;
    return set.has(x as string | number | boolean | null);
  };
}

function method([name, receiver, args]: [string, AstNode, AstNode[]]): FastClosure {
  if (!STRING_METHODS.has(name) || args.length !== 1 || args[0] === undefined) throw new Error('unsupported method');
  const target = build(receiver);
  const argument = build(args[0]);
  return (ctx) => {
    const s = target(ctx);
    const t = argument(ctx);
    if (typeof s !== 'string' || typeof t !== 'string') return FALLBACK;
    return name === 'startsWith' ? s.startsWith(t) : name === 'endsWith' ? s.endsWith(t) : s.includes(t);
  };
}

function call([name, args]: [string, AstNode[]]): FastClosure {
  const [first] = args;
  if (args.length !== 1 || first === undefined) throw new Error('unsupported call');
  if (name === 'has' && first.op === '.') {
    const [target, key] = first.args as [AstNode, string];
    const object = build(target);
    return (ctx) => {
      const value = object(ctx);
      if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) return FALLBACK;
      return Object.hasOwn(value, key);
    };
  }
  if (name === 'emailDomain') {
    const inner = build(first);
    return (ctx) => {
      const value = inner(ctx);
      if (typeof value !== 'string') return FALLBACK;
      // Anything but one plain address (several, or a display-name form) is left to the interpreter, which errors
      // or extracts exactly as cel.ts's emailDomain does.
      const at = value.indexOf('@');
      if (at < 0) return '';
      if (value.indexOf('@', at + 1) >= 0 || /[\s,;<>()"]/.test(value.trim())) return FALLBACK;
      return value.slice(at + 1).trim().toLowerCase();
    };
  }
  throw new Error('unsupported call');
}
