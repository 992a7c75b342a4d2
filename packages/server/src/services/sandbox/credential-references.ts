import { TollgateError } from '@tollgate/core';

/**
 * A credential reference inside an `http_request` header value: `{{credential:NAME}}`, NAME of 1–64 characters
 * from `A–Z a–z 0–9 _ . -`. Several references and surrounding text are allowed (`Bearer {{credential:x}}`).
 */
export const CREDENTIAL_REFERENCE = /\{\{\s*credential:([A-Za-z0-9_.-]{1,64})\s*\}\}/g;
export const CREDENTIAL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Shortest credential value, in characters (code points), that agent code may use or be granted. Responses are
 * scrubbed of every granted value, and the marker that replaces it tells the guest which of the strings it had an
 * echoing host send back was the secret: an oracle. It answers only whole guesses, except that base64 matching pins
 * all but up to 4 characters at once, so a 16-character value needs at least 12 characters guessed together: 10^12
 * for digits only, 16^12 ≈ 2.8·10^14 for hex, 62^12 ≈ 3·10^21 for random alphanumerics. A guest tests at most about
 * 10^5 candidates per 2 MiB response, and with the default limits (50 calls per run, 10 runs an hour) 5·10^7 an
 * hour, so even digits-only takes years and random values are out of reach; a 6-digit PIN took 6 calls.
 */
export const MIN_SANDBOX_CREDENTIAL_LENGTH = 16;

/**
 * True when a value is too short to use from the sandbox (see {@link MIN_SANDBOX_CREDENTIAL_LENGTH}).
 *
 * @example
 * isTooShortForSandbox('123456'); // true
 */
export function isTooShortForSandbox(value: string): boolean {
  return [...value].length < MIN_SANDBOX_CREDENTIAL_LENGTH;
}

/**
 * The refusal of a credential too short for the sandbox, to the guest and to whoever grants it (`details.field` only
 * when a request field named it).
 *
 * @example
 * if (isTooShortForSandbox(value)) throw credentialTooShort('pin');
 */
export function credentialTooShort(name: string, field?: string): TollgateError {
  return new TollgateError(
    'CREDENTIAL_TOO_SHORT',
    `credential ${JSON.stringify(name)} is shorter than ${MIN_SANDBOX_CREDENTIAL_LENGTH} characters, too short to use from the sandbox ` +
      '(an echoing server would let agent code guess it); rotate it to a long random value or remove it from config.credentials',
    { details: { ...(field === undefined ? {} : { field }), credential: name, min_length: MIN_SANDBOX_CREDENTIAL_LENGTH } },
  );
}

/**
 * Names referenced in header values, in first-seen order.
 *
 * @example
 * referencedCredentials({ Authorization: 'Bearer {{credential:openweather}}' }); // ['openweather']
 */
export function referencedCredentials(headers: Record<string, string>): string[] {
  const names = new Set<string>();
  for (const value of Object.values(headers)) {
    for (const match of value.matchAll(CREDENTIAL_REFERENCE)) names.add(match[1]!);
  }
  return [...names];
}

/**
 * Replaces every reference with its value. `values` must hold every referenced name (resolve them first).
 * Values containing CR or LF are refused: they would split the header.
 *
 * @example
 * substituteCredentials({ Authorization: 'Bearer {{credential:k}}' }, new Map([['k', 's3cret']]));
 * // { Authorization: 'Bearer s3cret' }
 */
export function substituteCredentials(headers: Record<string, string>, values: ReadonlyMap<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [header, value] of Object.entries(headers)) {
    result[header] = value.replace(CREDENTIAL_REFERENCE, (_whole, name: string) => {
      const secret = values.get(name);
      if (secret === undefined) throw new TollgateError('CREDENTIAL_UNKNOWN', `credential ${JSON.stringify(name)} is not available`);
      if (/[\r\n]/.test(secret)) throw new TollgateError('CREDENTIAL_UNKNOWN', `credential ${JSON.stringify(name)} cannot be used in a header`);
      return secret;
    });
  }
  return result;
}

/**
 * Scrubs credential values out of anything headed back to the guest (a server may echo request headers):
 * every string in `value` has each secret (`[name, secret]` pairs, e.g. a Map) replaced by `[credential:NAME]`,
 * also in the forms an echo commonly takes in text the guest can decode itself: JSON-escaped (with and without `\/`,
 * as PHP's json_encode writes it), percent-encoded and HTML-escaped. Secrets shorter than 4 characters
 * are not scrubbed (they would destroy ordinary text; the docs tell users so). `onMatch` hears of each secret found.
 *
 * @example
 * redactCredentials({ echo: 'Bearer s3cret' }, new Map([['k', 's3cret']])); // { echo: 'Bearer [credential:k]' }
 */
export function redactCredentials<T>(
  value: T, values: Iterable<readonly [name: string, secret: string]>, onMatch?: (name: string, secret: string) => void,
): T {
  const names = new Map<string, readonly [name: string, secret: string]>(); // encoded form -> credential
  for (const [name, secret] of values) {
    if (secret.length >= 4) for (const form of encodedForms(secret)) if (!names.has(form)) names.set(form, [name, secret]);
  }
  if (names.size === 0) return value;
  // One pass per string (longest form first), and none for strings too short to hold a secret: a guest can ask for
  // many large responses, and this runs on the server's request thread.
  const forms = [...names.keys()].sort((a, b) => b.length - a.length);
  const shortest = forms[forms.length - 1]!.length;
  const pattern = new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const replace = (form: string): string => {
    const [name, secret] = names.get(form)!;
    onMatch?.(name, secret);
    return `[credential:${name}]`;
  };
  const scrub = (text: string): string => (text.length < shortest ? text : text.replace(pattern, replace));
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return scrub(node);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([k, v]) => [scrub(k), walk(v)]));
    }
    return node;
  };
  return walk(value) as T;
}

/** Shortest stable base64/hex run worth matching: shorter runs would mask unrelated text of encoded data. */
const MIN_ENCODED_FORM = 12;

/**
 * The secret and the encodings of it an echoing server writes into text (distinct, each at least as long):
 * JSON, percent and HTML escapes; hex (both cases); the secret reversed; and base64 and base64url. Base64 depends on
 * where the secret starts within the encoded data (its offset modulo 3), so for each of the three alignments the
 * run of complete 4-character groups that only the secret's bytes determine is matched: what is left unmasked is at
 * most two bytes' worth at each end.
 */
function encodedForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const html = secret.replace(/[&<>"']/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' } as Record<string, string>)[c]};`);
  let percent: string[] = [];
  try { percent = [encodeURIComponent(secret), encodeURI(secret)]; } catch { /* lone surrogate: no percent form */ }
  const bytes = Buffer.from(secret, 'utf8');
  const hex = bytes.toString('hex');
  const binary = [hex, hex.toUpperCase(), ...base64Runs(bytes)].filter((form) => form.length >= MIN_ENCODED_FORM);
  return [...new Set([
    secret, json, json.replace(/\//g, '\\/'), html, ...percent, ...percent.map((p) => p.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())),
    [...secret].reverse().join(''), ...binary,
  ])];
}

/** For each alignment (the secret starting 0, 1 or 2 bytes into a 3-byte group), its stable base64 and base64url runs. */
function base64Runs(bytes: Buffer): string[] {
  const runs: string[] = [];
  for (let skip = 0; skip < 3 && skip < bytes.length; skip += 1) {
    const rest = bytes.subarray(skip);
    const whole = rest.subarray(0, rest.length - (rest.length % 3));
    if (whole.length === 0) continue;
    runs.push(whole.toString('base64'), whole.toString('base64url'));
  }
  return runs;
}
