// A bundle is verified as JavaScript parses it, but read later by other tools (a SIEM in Python, jq, Go). Two
// spellings mean different things to different parsers while JSON.parse, and so the verifier, sees one value:
// a repeated object key (which occurrence wins depends on the parser) and a number literal that is not the shortest
// form of the double JavaScript reads (`9007199254740993`, `9007199254740993.0` or `26.000000000000001`: JSON.parse
// rounds them, Python's Decimal and Go's json.Number keep them). The server never writes either: its records are
// canonical JSON of JavaScript values (RFC 8785 numbers, which is what JSON.stringify writes, -0 as 0), so in a
// bundle they can only be edits that the Merkle hashes cannot see.

/** At most this many ambiguities are reported for one text. */
export const MAX_AMBIGUITIES_REPORTED = 10;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Spellings in a JSON text that parsers disagree on: repeated keys in one object, number literals other than
 * `JSON.stringify(Number(literal))` (an integer no double holds, `2.0`, `1E3`, `-0`). The text must be valid JSON
 * (parse it first). Returns one message per finding.
 * @example findJsonAmbiguities('{"a":1,"a":2}') // ['object key "a" repeated at offset 7']
 * @example findJsonAmbiguities('[2.0]') // ['number 2.0 at offset 1 is not in the canonical form the server writes (JavaScript reads 2)']
 */
export function findJsonAmbiguities(text: string): string[] {
  const found: string[] = [];
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length && found.length < MAX_AMBIGUITIES_REPORTED; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const keys = open.at(-1);
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) found.push(`object key ${text.slice(i, end + 1)} repeated at offset ${i}`);
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = open.at(-1) != null;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const literal = NUMBER.exec(text)?.[0] ?? text[i]!;
      const problem = numberProblem(literal, i);
      if (problem !== undefined) found.push(problem);
      i += literal.length - 1;
    }
  }
  return found;
}

function stringEnd(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22) return j;
  }
  return text.length - 1;
}

/** Integers of up to 15 digits are exact doubles and JSON.stringify writes them back alike (but -0 becomes 0). */
const SHORT_INTEGER = /^-?[1-9][0-9]{0,14}$|^0$/;

/** What is wrong with a number literal; undefined when it is what the server writes (JSON.stringify of its double). */
function numberProblem(literal: string, offset: number): string | undefined {
  if (SHORT_INTEGER.test(literal)) return undefined;
  const value = Number(literal);
  const canonical = JSON.stringify(value);
  if (canonical === literal) return undefined;
  const read = Object.is(value, -0) ? '-0' : String(value);
  if (/^-?[0-9]+$/.test(literal) && (!Number.isFinite(value) || BigInt(literal) !== BigInt(value))) {
    return `integer ${literal} at offset ${offset} has no exact double (JavaScript reads ${read})`;
  }
  return `number ${literal} at offset ${offset} is not in the canonical form the server writes (JavaScript reads ${read})`;
}
