/**
 * What each CEL function and operator a condition can use does to the size of values and what it costs, for the
 * estimate in cel-cost.ts. Sizes count characters of a string, bytes of bytes, and for a list or map its elements
 * plus their own sizes; a number, bool, timestamp or duration is 1.
 */
import { CostRefusal, ZERO, add, constant, larger, multiply, productOrNull, scale, smaller } from './cel-bound.js';
import type { Bound, Weigh } from './cel-bound.js';

/** What the estimate knows about one sub-expression, for one evaluation of it. */
export interface Estimate {
  /** Size of the value (see the file comment). */
  readonly size: Bound;
  /** Elements a comprehension over the value visits (at most its size). */
  readonly count: Bound;
  /** Evaluation steps. */
  readonly cost: Bound;
}

/** What one function call adds: the size of its result and the characters or elements it reads or writes. */
export interface Effect {
  readonly size: Bound;
  readonly count?: Bound;
  /** Characters or elements read or written, converted to steps at UNITS_PER_STEP. */
  readonly work: Bound;
  /** Fixed steps on top (a time-zone conversion). */
  readonly steps?: number;
}

export interface CallSite {
  readonly receiver: Estimate | undefined;
  readonly args: readonly Estimate[];
  /** The string literal the method is called on, if it is one. */
  readonly literalReceiver: string | undefined;
  /** The string literal passed as the first argument, if it is one. */
  readonly literalArgument: string | undefined;
  /** How work adds up where the call stands (see smaller). */
  readonly weigh: Weigh;
}

/**
 * Characters or elements the interpreter handles in the time of one step. Measured on Node 20: one interpreted
 * node takes about 35 ns; scanning or copying a string 4 to 8 ns per character, a list 15 to 20 ns per element.
 */
export const UNITS_PER_STEP = 4;

/**
 * Text characters × pattern characters of a worst-case string search that take as long as one unit of work
 * (measured: 0.15 ns each, against 4 to 8 ns per unit).
 */
export const SEARCH_PRODUCT_PER_UNIT = 32;

/** Steps charged for a conversion to a named time zone (`getHours("Europe/Paris")`: about 56 µs each). */
export const TIME_ZONE_STEPS = 2000;

/** Longest text `duration()` may parse: its parser backtracks in cubic time (2,000 digits took 2.2 s). */
export const MAX_DURATION_LITERAL_LENGTH = 64;

const ONE: Bound = constant(1);
const SCALAR: Effect = { size: ONE, work: ZERO };

type Model = (site: CallSite) => Effect;

function receiver(site: CallSite): Estimate {
  if (!site.receiver) throw new CostRefusal('internal error: a method without a receiver');
  return site.receiver;
}

function argument(site: CallSite, index: number): Estimate {
  const value = site.args[index];
  if (!value) throw new CostRefusal('internal error: a missing argument');
  return value;
}

/** The value the function reads: its receiver, or its first argument for a global function. */
function subject(site: CallSite): Estimate {
  return site.receiver ?? argument(site, 0);
}

const readsSubject: Model = (site) => ({ size: ONE, work: subject(site).size });
/**
 * A search for `pattern` in `text`: V8's string search is not linear, it can compare every character of the text
 * with most of the pattern (a 64 Ki-character pattern in 256 Ki characters took 1.8 s), so a search of one call
 * value in another grows with the square of the call.
 */
function searchWork(text: Bound, pattern: Bound): Bound {
  const product = multiply(text, pattern, 'searching one value read from the call in another');
  return add(text, pattern, scale(product, 1 / SEARCH_PRODUCT_PER_UNIT));
}
const search: Model = (site) => ({ size: ONE, work: searchWork(receiver(site).size, argument(site, 0).size) });
/**
 * V8's `lastIndexOf` has no skip table: it compares the pattern at every position of the text (4,095 characters
 * searched for in a million took 1.1 s in one uninterruptible call), so it costs text × pattern units.
 */
const searchBackwards: Model = (site) => {
  const text = receiver(site).size;
  const pattern = argument(site, 0).size;
  return { size: ONE, work: add(text, pattern, multiply(text, pattern, 'searching one value read from the call in another')) };
};
const readsPrefix: Model = (site) => ({ size: ONE, work: smaller(receiver(site).size, argument(site, 0).size, site.weigh) });
const sameAsSubject: Model = (site) => ({ size: subject(site).size, count: subject(site).count, work: ZERO });
/** A string function whose result has at most `factor` times the characters of its input. */
const grows = (factor: number, plus = 0): Model => (site) => {
  const size = add(scale(subject(site).size, factor), constant(plus));
  return { size, work: add(subject(site).size, size) };
};
const inTimeZone: Model = (site) => ({ ...SCALAR, steps: site.args.length > 0 ? TIME_ZONE_STEPS : 0 });

const split: Model = (site) => {
  const text = receiver(site).size;
  const { literalReceiver, literalArgument } = site;
  // One piece more than there are separators in the text (counted when both are literals); the pieces hold its
  // characters.
  const separator = literalArgument?.length ?? 0;
  const count = literalReceiver !== undefined && literalArgument !== undefined
    ? constant(literalReceiver.split(literalArgument).length)
    : add(scale(text, 1 / Math.max(1, separator)), ONE);
  const size = add(count, text);
  return { size, count, work: add(searchWork(text, argument(site, 0).size), size) };
};

const join: Model = (site) => {
  const list = receiver(site);
  const separator = site.args[0]?.size ?? constant(0);
  const size = add(list.size, multiply(list.count, separator, 'join() with this separator builds a string that'));
  return { size, work: add(list.size, size) };
};

const duration: Model = (site) => {
  const text = site.literalArgument;
  if (text === undefined || text.length > MAX_DURATION_LITERAL_LENGTH) {
    throw new CostRefusal(`duration() takes only a string literal of at most ${MAX_DURATION_LITERAL_LENGTH} characters: its parser takes cubic time on long text (compare numbers instead, e.g. args.seconds > 3600)`);
  }
  // Parsed again at every evaluation: 64 digits take about 120 µs.
  return { ...SCALAR, steps: 100 + text.length ** 3 / 32 };
};

const optionalOr: Model = (site) => {
  const size = larger(receiver(site).size, argument(site, 0).size);
  return { size, count: size, work: ZERO };
};

/** Every function of the environment (the library's and Tollgate's), by name; the overloads of one name share a model. */
const FUNCTIONS: ReadonlyMap<string, Model> = new Map<string, Model>([
  ['dyn', sameAsSubject], ['type', () => SCALAR],
  ['bool', readsSubject], ['int', readsSubject], ['uint', readsSubject], ['double', readsSubject],
  ['timestamp', readsSubject], ['duration', duration],
  // size() of a string counts code points; of a list it is constant, but a dyn may be either.
  ['size', readsSubject],
  ['string', grows(1, 32)], ['bytes', grows(3)],
  ['startsWith', readsPrefix], ['endsWith', readsPrefix],
  ['contains', search], ['indexOf', search], ['lastIndexOf', searchBackwards],
  // toUpperCase turns one character into up to 3 ("ΐ"), toLowerCase into up to 2 ("İ").
  ['upperAscii', grows(3)], ['lowerAscii', grows(2)],
  ['trim', grows(1)], ['substring', grows(1)],
  ['split', split], ['join', join],
  ['json', (site) => ({ size: receiver(site).size, count: receiver(site).size, work: receiver(site).size })],
  ['hex', grows(2)], ['base64', grows(2, 4)], ['at', () => SCALAR],
  ...['getDate', 'getDayOfMonth', 'getDayOfWeek', 'getDayOfYear', 'getFullYear', 'getHours', 'getMilliseconds', 'getMinutes', 'getMonth', 'getSeconds']
    .map((name): [string, Model] => [name, inTimeZone]),
  ['hasValue', () => SCALAR], ['value', sameAsSubject], ['none', () => SCALAR], ['of', sameAsSubject],
  ['or', optionalOr], ['orValue', optionalOr],
  ['has', () => SCALAR],
  ['emailDomain', grows(1)],
  ['emailDomains', (site) => {
    const text = argument(site, 0).size;
    const count = add(text, ONE);
    return { size: add(count, text), count, work: scale(text, 3) };
  }],
]);

/**
 * The effect of calling `name` (methods and global functions alike), or a CostRefusal for a function the estimate
 * does not know (the library gained one: add its model here).
 *
 * @example
 * functionEffect('split', { receiver: literalOf(8), args: [literalOf(1)], literalReceiver: undefined, literalArgument: ',', weigh: AS_IS }).count // { fixed: 9, … }
 */
export function functionEffect(name: string, site: CallSite): Effect {
  const model = FUNCTIONS.get(name);
  if (!model) throw new CostRefusal(`${name}() is not supported: its cost is not known`);
  return model(site);
}

/** Names of every function the estimate knows (a test checks them against the environment). */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set(FUNCTIONS.keys());

/**
 * The effect of a binary operator on operands `left` and `right`; `scalar` when the checker says the result is a
 * number, bool, timestamp or duration.
 *
 * @example
 * operatorEffect('+', literalOf(3), literalOf(4), false, AS_IS).size // { fixed: 7, call: 0, item: 0 }
 */
export function operatorEffect(op: string, left: Estimate, right: Estimate, scalar: boolean, weigh: Weigh): Effect {
  switch (op) {
    case '+': {
      if (scalar) return SCALAR;
      const size = add(left.size, right.size);
      return { size, count: add(left.count, right.count), work: size };
    }
    case '==': case '!=': case '<': case '<=': case '>': case '>=':
      // Comparing stops at the end of the shorter value.
      return { size: ONE, work: smaller(left.size, right.size, weigh) };
    case 'in': {
      // One comparison per element of the list, each reading at most the shorter of the two values.
      const perElement = productOrNull(left.size, right.count);
      const compared = perElement ? smaller(perElement, right.size, weigh) : right.size;
      return { size: ONE, work: add(right.count, compared) };
    }
    default:
      return SCALAR;
  }
}
