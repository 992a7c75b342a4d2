import { describe, expect, it, vi } from 'vitest';
import { pinoSecretRedaction } from './log-redaction.js';
import { MAX_REDACTION_DEPTH, REDACTION_DEPTH_MARKER, applyRedactions, detectSecrets, redactSecrets, redactSecretsDeep } from './secrets.js';

// Adversarial cases against the secret masking every stored form relies on. Secrets are assembled at run time
// from a seeded generator, so no credential-looking literal is committed.
let seed = 424242;
const next = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const rand = (chars: string, n: number): string => Array.from({ length: n }, () => chars[Math.floor(next() * chars.length)]).join('');
const join = (...parts: string[]): string => parts.join('');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const aws = join('AKIA', rand(UPPER_B32, 16));
const stripe = join('sk_', 'live_', rand(ALNUM, 24));
const github = join('ghp_', rand(ALNUM, 36));
/** A high-entropy value that only the keyword rule (generic-api-key) recognises, from the name it is assigned to. */
const password = join(rand(ALNUM, 6), '9', rand(ALNUM, 12));

/** Every piece of `secret` of 8+ characters that survives in `text` (an empty list means fully masked). */
function leftovers(text: string, secret: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i += 4) if (text.includes(secret.slice(i, i + 8))) pieces.push(secret.slice(i, i + 8));
  return pieces;
}

describe('redactSecretsDeep', () => {
  it('masks a value whose key names it a credential, as gitleaks does on the same JSON', () => {
    // It used to scan each string alone: `{ password: … }` in tool arguments was stored in clear, though the
    // JSON text of the same object is masked.
    expect(redactSecrets(JSON.stringify({ password }))).not.toContain(password);
    const out = redactSecretsDeep({ user: 'bob', password, nested: { api_key: password, apiToken: password } });
    expect(JSON.stringify(out)).not.toContain(password);
    expect(out.user).toBe('bob');
    expect(out.password).toBe('[REDACTED:generic-api-key]');
  });

  it('masks a private key block split into array items, piece by piece', () => {
    // Each item used to be scanned alone: no line of a PEM block split into items holds both of its markers.
    const lines = ['-----BEGIN RSA PRIVATE KEY-----', rand(ALNUM, 64), rand(ALNUM, 64), rand(ALNUM, 40), '-----END RSA PRIVATE KEY-----'];
    const out = redactSecretsDeep({ key: lines, other: ['plain', 'text'] });
    for (const line of lines.slice(1, 4)) expect(JSON.stringify(out)).not.toContain(line);
    expect(out.key).toHaveLength(5);
    expect(out.other).toEqual(['plain', 'text']);
  });

  it('masks secrets in object keys, and two masked keys do not overwrite each other', () => {
    // It kept keys as they were: a map keyed by token stored the token in clear.
    const out = redactSecretsDeep({ grants: { [aws]: 'read', [github]: 'write' } });
    const text = JSON.stringify(out);
    expect(text).not.toContain(aws);
    expect(text).not.toContain(github);
    expect(Object.values(out.grants).sort()).toEqual(['read', 'write']);
  });

  it('masks secrets held by class instances, Maps, Sets, Errors and toJSON objects before they are serialised', () => {
    // Non-plain objects used to come back unchanged, secrets and all, and JSON.stringify then wrote them out.
    class Credentials {
      constructor(public readonly key: string) {}
      describe(): string {
        return 'creds';
      }
    }
    const withToJson = { toJSON: () => ({ token: github }) };
    const error = new Error(`request failed with ${stripe}`);
    const value = { instance: new Credentials(aws), map: new Map([[aws, github]]), set: new Set([stripe]), json: withToJson, error, when: new Date(0) };
    const out = redactSecretsDeep(value);
    for (const secret of [aws, github, stripe]) {
      expect(JSON.stringify(out)).not.toContain(secret);
      expect(JSON.stringify([...out.map], null, 0)).not.toContain(secret);
      expect(JSON.stringify([...out.set])).not.toContain(secret);
      expect(out.error.message + String(out.error.stack)).not.toContain(secret);
    }
    expect(out.instance).toBeInstanceOf(Credentials);
    expect(out.instance.describe()).toBe('creds');
    expect(out.error).toBeInstanceOf(Error);
    expect(out.when).toBe(value.when);
    expect(value.instance.key).toBe(aws); // the original is untouched
  });

  it('survives a toJSON that returns itself or a cycle back to its owner', () => {
    const self = { secret: github, toJSON(): unknown { return this; } };
    const looped: { toJSON(): unknown } = { toJSON: () => ({ back: looped, token: github }) };
    const itself: { token: string; toJSON(): unknown } = { token: github, toJSON: () => itself };
    expect(JSON.stringify(redactSecretsDeep({ itself }))).not.toContain(github);
    expect(JSON.stringify(redactSecretsDeep({ self }))).not.toContain(github);
    expect(JSON.stringify(redactSecretsDeep({ looped }))).not.toContain(github);
  });
});

describe('redactSecretsDeep on deeply nested values', () => {
  // Regression: the walk recursed once per level with no bound, so an array nested 3,000 deep in an event body threw
  // a RangeError (Maximum call stack size exceeded) and the server answered 500 on /v1/events/batch.
  type Wrap = (inner: unknown) => unknown;
  class Box {
    constructor(readonly inner: unknown) {}
  }
  const wrappers: [string, Wrap][] = [
    ['arrays', (inner) => [inner]],
    ['objects', (inner) => ({ next: inner })],
    ['Maps', (inner) => new Map([['next', inner]])],
    ['Sets', (inner) => new Set([inner])],
    ['class instances', (inner) => new Box(inner)],
    ['toJSON objects', (inner) => ({ toJSON: () => ({ next: inner }) })],
  ];
  const nest = (wrap: Wrap, depth: number, leaf: unknown): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = wrap(value);
    return value;
  };
  /** A value holding a secret every `every` levels, `depth` levels deep. */
  const secretEvery = (wrap: Wrap, depth: number, every: number): unknown => {
    let value: unknown = { token: github };
    for (let i = 1; i <= depth; i++) value = wrap(i % every === 0 ? [`Bearer ${github}`, value] : value);
    return value;
  };
  const serialise = (value: unknown): string =>
    JSON.stringify(value, (_key, item: unknown) => (item instanceof Map ? Object.fromEntries(item) : item instanceof Set ? [...item] : item));

  it.each(wrappers)('returns %s nested 100,000 deep without throwing, secrets masked or cut off', (_name, wrap) => {
    const redacted = redactSecretsDeep(secretEvery(wrap, 100_000, 7));
    const text = serialise(redactSecretsDeep(redacted)); // the result is shallow enough to walk and serialise again
    expect(text).not.toContain(github);
    expect(text).toContain('[REDACTED:');
    expect(text).toContain(REDACTION_DEPTH_MARKER);
  });

  it('masks a secret at every depth it walks, and never hands back what lies deeper', () => {
    const shallow = serialise(redactSecretsDeep(nest((inner) => ({ next: inner }), MAX_REDACTION_DEPTH - 1, { password })));
    expect(shallow).not.toContain(password);
    expect(shallow).toContain('[REDACTED:generic-api-key]');
    expect(shallow).not.toContain(REDACTION_DEPTH_MARKER);
    // One level deeper, the innermost object is replaced as a whole: its secret (or anything else) is not returned.
    const deep = serialise(redactSecretsDeep(nest((inner) => [inner], MAX_REDACTION_DEPTH, { note: 'harmless', password })));
    expect(deep).not.toContain(password);
    expect(deep).not.toContain('harmless');
    expect(deep).toContain(`["${REDACTION_DEPTH_MARKER}"]`);
  });

  it('copies a shared object met first below the bound where it is met again above it', () => {
    const shared = { token: github, note: 'kept' };
    const redacted = redactSecretsDeep({ deep: nest((inner) => [inner], MAX_REDACTION_DEPTH + 5, shared), shallow: shared });
    expect(redacted.shallow).toEqual({ token: '[REDACTED:github-pat]', note: 'kept' });
  });
});

describe('secrets behind escapes', () => {
  it.each([
    ['a newline before a word-bounded rule', `first line\n${aws}`, aws],
    ['a tab before a word-bounded rule', `col\t${stripe}`, stripe],
    ['a tab after a keyword assignment', `password:\t${password}`, password],
    ['a tab after the value of a keyword assignment', `token=${password}\tnext`, password],
  ])('masks a secret after %s in JSON text (stored outputs, log lines)', (_name, raw, secret) => {
    // JSON escapes `\n` as backslash-n: the `n` glued to the secret hid the word boundary (or the terminator) a rule
    // needs, so the JSON text of a value was stored and logged with the secret in clear.
    expect(redactSecrets(raw)).not.toContain(secret);
    const json = JSON.stringify({ out: raw });
    expect(redactSecrets(json)).not.toContain(secret);
    const masked = JSON.parse(redactSecrets(json)) as { out: string };
    expect(masked.out).toContain('[REDACTED:');
    expect(redactSecrets(JSON.stringify({ out: json }))).not.toContain(secret); // JSON inside JSON, two levels
  });

  it('masks a secret written with \\u and \\x escapes and with escaped slashes', () => {
    const unicode = `\\u0041${aws.slice(1)}`; // "\u0041KIA…" as an API response body carries it
    expect(redactSecrets(`body: "${unicode}"`)).not.toContain(aws.slice(1));
    expect(redactSecrets(`body: "\\x41${aws.slice(1)}"`)).not.toContain(aws.slice(1));
    const hook = join('https:\\/\\/hooks.slack.com\\/services\\/', rand(ALNUM, 44));
    const out = redactSecrets(`{"url":"${hook}"}`);
    expect(leftovers(out, hook.slice(30))).toEqual([]);
  });

  it('masks a secret URL percent-encoded inside another URL', () => {
    // `%2F` in place of `/` hid a Slack webhook passed as a redirect parameter from the rule that needs its slashes.
    const hook = join('https://hooks.slack.com/services/', rand(ALNUM, 44));
    const out = redactSecrets(`https://app.example.com/oauth?redirect_uri=${encodeURIComponent(hook)}&state=1`);
    expect(leftovers(out, encodeURIComponent(hook).slice(40))).toEqual([]);
    expect(out).toContain('[REDACTED:slack-webhook-url]');
    expect(out.endsWith('&state=1')).toBe(true);
  });

  it('keeps JSON text valid: a mask never cuts an escape in half', () => {
    const value = { out: `"${aws}"\n\t${stripe}\\`, pem: `x\u2028${github}` };
    const masked = redactSecrets(JSON.stringify(value));
    expect(() => JSON.parse(masked) as unknown).not.toThrow();
    expect(masked).not.toContain(aws);
    expect(masked).not.toContain(stripe);
  });

  it('keeps masked JSON text parseable and secret-free whatever surrounds the secrets (seeded fuzz)', () => {
    // A literal backslash-n before a secret is decoded (three levels deep at most: text, JSON, JSON in JSON). A lone
    // backslash is left out: with the backslash-n after it, it would make an escaped backslash and a letter n glued
    // to the secret, which no rule reads as a boundary (as in xsk_live_…).
    const before = ['\n', '\t', '\r', '"', ' ', '/', '\u2028', '😀', 'İ', ': ', '= ', '%2F', '\\n'];
    // After a secret only what the rules' terminator accepts (the gaps past it are recorded at the end of this file).
    const after = ['\n', '\t', '\r', '"', ' ', ';', '\\n'];
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    for (let round = 0; round < 300; round++) {
      const chosen = [aws, stripe, github].filter(() => next() < 0.7);
      const text = chosen.map((secret) => `${pick(before)}${pick(before)}${secret}${pick(after)}`).join(pick(before));
      const json = JSON.stringify(next() < 0.5 ? { out: text } : { [text]: [text, { nested: JSON.stringify({ text }) }] });
      const masked = redactSecrets(json);
      expect(() => JSON.parse(masked) as unknown, json).not.toThrow();
      for (const secret of chosen) expect(leftovers(masked, secret), json).toEqual([]);
    }
  });

  it('masks secrets in pino log lines that only an escape separated from the line before', () => {
    const line = `${JSON.stringify({ level: 30, msg: `tool output:\n${aws}` })}\n`;
    expect(pinoSecretRedaction().hooks.streamWrite(line)).not.toContain(aws);
  });
});

describe('overlapping findings', () => {
  it('masks all of a keyword-assigned secret that starts with a specific one', () => {
    // A generic finding overlapping a specific one was dropped: the part of it past the specific span stayed clear.
    const value = `${aws}.${password}`;
    const out = redactSecrets(`api_key=${value}`);
    expect(out).toBe('api_key=[REDACTED:aws-access-token]');
    expect(leftovers(out, password)).toEqual([]);
    expect(detectSecrets(`api_key=${value}`)).toHaveLength(1);
  });

  it('applyRedactions merges overlapping findings instead of skipping the later one', () => {
    expect(applyRedactions('0123456789', [{ start: 1, end: 4, redacted: '[A]' }, { start: 3, end: 8, redacted: '[B]' }])).toBe('0[A]89');
  });
});

// Guards, not regressions: spans come from matchAll on the original text (UTF-16 indices, as slice uses), and the
// lower-cased copy only feeds the keyword prefilter, so a longer lower case (İ) or surrogate pairs cannot shift them.
describe('unicode', () => {
  it.each([
    ['astral characters (surrogate pairs) before the secret', `😀😀𝔘 token ${aws} 😀`],
    ['characters whose lower case is longer (İ)', `İİİİİİ İstanbul ${aws} İ`],
    ['a keyword spelled with İ before a keyword assignment', `İ password=${password} İ`],
  ])('masks the whole secret after %s', (_name, text) => {
    const out = redactSecrets(text);
    expect(leftovers(out, aws)).toEqual([]);
    expect(leftovers(out, password)).toEqual([]);
    expect(out).toContain('[REDACTED:');
    expect(out.startsWith(text.slice(0, 4))).toBe(true);
  });
});

describe('rule gaps closed: terminators and Tollgate\'s own keys', () => {
  it.each([
    ['a period ending the sentence', `charge it with ${stripe}.`],
    ['a closing parenthesis', `(${stripe})`],
    ['a comma', `Bearer ${stripe}, then retry`],
    ['a query-string ampersand', `https://api.example.com/charge?key=${stripe}&amount=5`],
  ])('masks a terminator-bound secret followed by %s', (_name, text) => {
    // gitleaks' terminator (?=[`'"\s;]|\\[nr]|$) accepts none of . , ) & after the secret, so every rule built with
    // it (stripe, gcp, npm, jwt, sendgrid, generic…) missed the secret there.
    expect(redactSecrets(text)).not.toContain(stripe);
  });

  it('masks a Tollgate API key, the product’s own credential', () => {
    const key = join('tg_', 'live_', rand('0123456789abcdef', 16), '_', rand('0123456789abcdef', 64));
    expect(redactSecrets(`retry with ${key} if refused`)).not.toContain(key);
  });
});

describe('cost of redactSecretsDeep on many keys that mask alike', () => {
  it('finds a free name for each masked key in constant steps, not by counting up from 2 every time', () => {
    // Each masked key searched " (2)", " (3)"… from the start: quadratic in the number of keys masked to the same
    // name, so one 1 MB event body of 40,000 token keys held the event loop for minutes.
    const count = 2000;
    const grants: Record<string, number> = {};
    for (let made = 0; made < count; ) {
      const key = join('AKIA', rand(UPPER_B32, 16));
      if (!(key in grants)) grants[key] = made++;
    }
    const lookups = vi.spyOn(Object.prototype, 'hasOwnProperty');
    let out: Record<string, number>;
    let calls: number;
    try {
      out = redactSecretsDeep(grants);
      calls = lookups.mock.calls.length;
    } finally {
      lookups.mockRestore();
    }
    expect(calls).toBeLessThan(4 * count); // it was about count² / 2
    expect(Object.keys(out)).toHaveLength(count);
    expect(JSON.stringify(out)).not.toContain('AKIA');
    expect(out['[REDACTED:aws-access-token] (3)']).toBe(Object.values(grants)[2]);
  });
});

describe('credentials that only their place marks', () => {
  const basic = Buffer.from(`deploy:${github}`).toString('base64');
  it.each([
    ['a Basic Authorization header (base64 user:token)', `Authorization: Basic ${basic}`, basic],
    ['a Bearer Authorization header with an opaque token', `authorization: Bearer ${password}`, password],
    ['the password of a database URL', `postgres://app:${password}@db.internal:5432/app`, password],
    ['the password of an HTTP URL in a query parameter', `https://ci.example.com/hook?to=${encodeURIComponent(`https://bot:${password}@git.example.com/r`)}`, password],
  ])('masks %s in text, JSON and deep values', (_name, text, secret) => {
    // No rule read these: the value after "Basic"/"Bearer" and the password of a URL were stored and logged in clear,
    // though the API the credential is for accepts it as written.
    expect(redactSecrets(text)).not.toContain(secret);
    expect(redactSecrets(JSON.stringify({ msg: text }))).not.toContain(secret);
    expect(JSON.stringify(redactSecretsDeep({ headers: { authorization: text }, list: [text] }))).not.toContain(secret);
  });

  it('keeps the prose and placeholders that look like them', () => {
    const text = 'Use Bearer authentication; postgres://app:${DB_PASSWORD}@db/app; see https://example.com:8080/x';
    expect(redactSecrets(text)).toBe(text);
  });
});

// A value refused by the keyword rule (its stopwords) hid an assignment inside it: in `token=GITHUB_TOKEN=<secret>`
// the rule matched `GITHUB_TOKEN=<secret>` as one value, refused it ("token" is a stopword) and moved on past it,
// so the inner `TOKEN=<secret>` was never tried; a JSON key `secret` holding `DB_PASSWORD=<secret>` (scanned as
// `secret=DB_PASSWORD=<secret>`) leaked the same way (session 12 red-team finding).
describe('assignments nested in a refused value', () => {
  const value = join(rand(ALNUM, 8), '7', rand(ALNUM, 23));
  it.each([
    ['text', `token=GITHUB_TOKEN=${value}`],
    ['text after a colon', `secret: DB_PASSWORD=${value}`],
    ['text with spaces', `export credentials=STRIPE_API_KEY=${value}`],
  ])('masks the inner value (%s)', (_shape, text) => {
    expect(leftovers(redactSecrets(text), value)).toEqual([]);
  });

  it.each(['secret', 'token', 'credentials', 'password', 'api_key'])('masks the inner value under the JSON key %s', (key) => {
    const redacted = redactSecretsDeep({ [key]: `SOME_PASSWORD=${value}`, note: `token=GITHUB_TOKEN=${value}` });
    expect(leftovers(JSON.stringify(redacted), value)).toEqual([]);
  });

  it('still leaves names and placeholders alone', () => {
    for (const text of ['token=GITHUB_TOKEN_NAME', 'secret=DB_PASSWORD=changeme', 'api_key=API_KEY=your_api_key_here']) {
      expect(detectSecrets(text)).toEqual([]);
    }
  });

  // Each refusal looks again from one character into the refused value: a quadratic rescan of this text would take
  // minutes and fail on the test timeout.
  it('finishes on long runs of refused assignments', () => {
    expect(detectSecrets('token=TOKEN='.repeat(20_000))).toEqual([]);
  });
});
