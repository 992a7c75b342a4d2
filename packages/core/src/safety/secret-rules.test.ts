import { describe, expect, it } from 'vitest';
import { SECRET_RULES } from './secret-rules.js';
import { detectSecrets, redactSecrets, redactSecretsDeep } from './secrets.js';

// Synthetic secrets are assembled at test time from a seeded generator, so no real-looking
// credential is committed verbatim; each rule gets one true positive and one near miss.
let seed = 12345;
const next = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const HEX = '0123456789abcdef';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DIGITS = '0123456789';
const rand = (chars: string, n: number): string => Array.from({ length: n }, () => chars[Math.floor(next() * chars.length)]).join('');
const join = (...parts: string[]): string => parts.join('');

interface Case {
  id: string;
  tp: () => string;
  fp: () => string;
}

const CASES: Case[] = [
  { id: 'tollgate-api-key', tp: () => `TOLLGATE_API_KEY=${join('tg_', 'live_', rand(HEX, 16), '_', rand(ALNUM, 64))}`, fp: () => `prefix ${join('tg_', 'live_', rand(HEX, 16), '_…')} (the key list's non-secret prefix)` },
  { id: 'age-secret-key', tp: () => join('AGE-SECRET-KEY-1', rand('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)), fp: () => join('AGE-SECRET-KEY-1', rand('qpzry', 58)) },
  { id: 'anthropic-admin-api-key', tp: () => `key: ${join('sk-ant-', 'admin01-', rand(ALNUM, 93), 'AA')}`, fp: () => `key: ${join('sk-ant-', 'admin01-', rand(ALNUM, 40), 'AA')}` },
  { id: 'anthropic-api-key', tp: () => `ANTHROPIC_API_KEY=${join('sk-ant-', 'api03-', rand(ALNUM, 93), 'AA')}`, fp: () => `ANTHROPIC_API_KEY=${join('sk-ant-', 'api03-', rand(ALNUM, 93), 'BB')}` },
  { id: 'aws-access-token', tp: () => `aws_access_key_id = ${join('AKIA', rand(UPPER_B32, 16))}`, fp: () => `aws_access_key_id = ${join('AKIA', 'IOSFODNN7', 'EXAMPLE')}` },
  { id: 'azure-ad-client-secret', tp: () => `secret: "${join(rand(ALNUM, 3), '8Q~', rand(ALNUM, 34))}"`, fp: () => `secret: "${join('abc', '8Q~', 'a'.repeat(34))}"` },
  { id: 'databricks-api-token', tp: () => `token ${join('dapi', rand(HEX, 32))}`, fp: () => `token ${join('dapi', '0'.repeat(32))}` },
  { id: 'datadog-access-token', tp: () => `datadog_token = "${rand(LOWER_ALNUM, 40)}"`, fp: () => `datadog_token = "${rand(LOWER_ALNUM, 20)}"` },
  { id: 'digitalocean-access-token', tp: () => join('doo_v1_', rand(HEX, 64)), fp: () => join('doo_v1_', rand(HEX, 63), 'g') },
  { id: 'digitalocean-pat', tp: () => join('dop_v1_', rand(HEX, 64)), fp: () => join('dop_v1_', '1'.repeat(64)) },
  { id: 'digitalocean-refresh-token', tp: () => join('DOR_V1_', rand(HEX, 64).toUpperCase()), fp: () => join('dor_v1_', rand(HEX, 40)) },
  { id: 'doppler-api-token', tp: () => join('dp.pt.', rand(ALNUM, 43)), fp: () => join('dp.pt.', rand(ALNUM, 20)) },
  { id: 'dynatrace-api-token', tp: () => join('dt0c01.', rand(ALNUM, 24), '.', rand(ALNUM, 64)), fp: () => join('dt0c01.', 'A'.repeat(24), '.', 'B'.repeat(64)) },
  { id: 'gcp-api-key', tp: () => `apiKey: "${join('AIza', rand(ALNUM, 35))}"`, fp: () => `apiKey: "${join('AIzaSy', 'abcdefghijklmnopqrstuvwxyz1234567')}"` },
  { id: 'github-app-token', tp: () => join('ghs_', rand(ALNUM, 36)), fp: () => join('ghs_', 'a'.repeat(36)) },
  { id: 'github-fine-grained-pat', tp: () => join('github_pat_', rand(ALNUM, 82)), fp: () => join('github_pat_', rand(ALNUM, 30)) },
  { id: 'github-oauth', tp: () => join('gho_', rand(ALNUM, 36)), fp: () => join('gho_', rand(ALNUM, 20)) },
  { id: 'github-pat', tp: () => `export GITHUB_TOKEN=${join('ghp_', rand(ALNUM, 36))}`, fp: () => `export GITHUB_TOKEN=${join('ghp_', 'ab'.repeat(18))}` },
  { id: 'github-refresh-token', tp: () => join('ghr_', rand(ALNUM, 36)), fp: () => join('ghr_', rand('-', 36)) },
  { id: 'gitlab-deploy-token', tp: () => join('gldt-', rand(ALNUM, 20)), fp: () => join('gldt-', 'x'.repeat(20)) },
  { id: 'gitlab-pat', tp: () => join('glpat-', rand(ALNUM, 20)), fp: () => join('glpat-', rand(ALNUM, 10)) },
  { id: 'gitlab-ptt', tp: () => join('glptt-', rand(HEX, 40)), fp: () => join('glptt-', rand('xyz', 40)) },
  { id: 'gitlab-rrt', tp: () => join('GR1348941', rand(ALNUM, 20)), fp: () => join('GR1348941', '0'.repeat(20)) },
  { id: 'grafana-service-account-token', tp: () => join('glsa_', rand(ALNUM, 32), '_', rand(HEX, 8)), fp: () => join('glsa_', rand(ALNUM, 32), '_', 'zzzzzzzz') },
  { id: 'hashicorp-tf-api-token', tp: () => join(rand(LOWER_ALNUM, 14), '.atlasv1.', rand(ALNUM, 64)), fp: () => join(rand(LOWER_ALNUM, 14), '.ATLASV1.', rand(ALNUM, 64)) },
  { id: 'heroku-api-key-v2', tp: () => join('HRKU-AA', rand(ALNUM, 58)), fp: () => join('HRKU-AA', 'a'.repeat(58)) },
  { id: 'huggingface-access-token', tp: () => join('hf_', rand('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 34)), fp: () => join('hf_', rand(DIGITS, 34)) },
  { id: 'jwt', tp: () => `Authorization: Bearer ${join('eyJ', rand(ALNUM, 30), '.eyJ', rand(ALNUM, 40), '.', rand(ALNUM, 43))}`, fp: () => `the eye of the storm, eyes.eyebrows` },
  { id: 'linear-api-key', tp: () => join('lin_api_', rand(ALNUM, 40)), fp: () => join('lin_api_', rand(ALNUM, 12)) },
  { id: 'mailchimp-api-key', tp: () => `mailchimp_key: ${join(rand(HEX, 32), '-us12')}`, fp: () => `mailchimp list id: ${rand(HEX, 10)}` },
  { id: 'mailgun-private-api-token', tp: () => `MAILGUN_API_KEY=${join('key-', rand(HEX, 32))}`, fp: () => `MAILGUN_DOMAIN=mg.example.com` },
  { id: 'notion-api-token', tp: () => join('ntn_', rand(DIGITS, 11), rand(ALNUM, 35)), fp: () => join('ntn_', rand('ab', 46)) },
  { id: 'npm-access-token', tp: () => `//registry.npmjs.org/:_authToken=${join('npm_', rand(LOWER_ALNUM, 36))}`, fp: () => join('npm_', 'run_build') },
  { id: 'openai-api-key', tp: () => `OPENAI_API_KEY=${join('sk-', rand(ALNUM, 20), 'T3Blbk', 'FJ', rand(ALNUM, 20))}`, fp: () => `OPENAI_API_KEY=${join('sk-', rand(ALNUM, 48))}` },
  { id: 'perplexity-api-key', tp: () => join('pplx-', rand(ALNUM, 48)), fp: () => join('pplx-', 'a'.repeat(48)) },
  { id: 'postman-api-token', tp: () => join('PMAK-', rand(HEX, 24), '-', rand(HEX, 34)), fp: () => join('PMAK-', rand(HEX, 24)) },
  { id: 'private-key', tp: () => join('-----BEGIN ', 'RSA PRIVATE KEY-----\n', rand(ALNUM, 64), '\n', rand(ALNUM, 64), '\n-----END RSA PRIVATE ', 'KEY-----'), fp: () => join('-----BEGIN ', 'PUBLIC KEY-----\n', rand(ALNUM, 64), '\n-----END PUBLIC KEY-----') },
  { id: 'pulumi-api-token', tp: () => join('pul-', rand(HEX, 40)), fp: () => join('pul-', rand(HEX, 12)) },
  { id: 'pypi-upload-token', tp: () => join('pypi-', 'AgEIcHlwaS5vcmc', rand(ALNUM, 60)), fp: () => join('pypi-', 'AgEIcHlwaS5vcmc', 'short') },
  { id: 'rubygems-api-token', tp: () => join('rubygems_', rand(HEX, 48)), fp: () => join('rubygems_', rand(HEX, 20)) },
  { id: 'sendgrid-api-token', tp: () => join('SG.', rand(ALNUM, 22), '.', rand(ALNUM, 43)), fp: () => join('SG.', rand(ALNUM, 22)) },
  { id: 'sendinblue-api-token', tp: () => join('xkeysib-', rand(HEX, 64), '-', rand(ALNUM, 16)), fp: () => join('xkeysib-', rand(HEX, 64)) },
  { id: 'sentry-user-token', tp: () => join('sntryu_', rand(HEX, 64)), fp: () => join('sntryu_', 'ab'.repeat(32)) },
  { id: 'shopify-access-token', tp: () => join('shpat_', rand(HEX, 32)), fp: () => join('shpat_', rand(HEX, 16)) },
  { id: 'shopify-shared-secret', tp: () => join('shpss_', rand(HEX, 32)), fp: () => join('shpss_', rand('ghij', 32)) },
  { id: 'slack-bot-token', tp: () => join('xoxb-', rand(DIGITS, 12), '-', rand(DIGITS, 13), '-', rand(ALNUM, 24)), fp: () => join('xoxb-', rand(DIGITS, 5), '-', rand(ALNUM, 24)) },
  { id: 'slack-user-token', tp: () => join('xoxp-', rand(DIGITS, 12), '-', rand(DIGITS, 12), '-', rand(DIGITS, 12), '-', rand(ALNUM, 32)), fp: () => join('xoxp-', rand(DIGITS, 12), '-', rand(ALNUM, 32)) },
  { id: 'slack-webhook-url', tp: () => join('https://hooks.slack.com/services/', rand(ALNUM, 9), '/', rand(ALNUM, 11), '/', rand(ALNUM, 24)), fp: () => 'https://hooks.slack.com/services/' },
  { id: 'square-access-token', tp: () => join('sq0atp-', rand(ALNUM, 22)), fp: () => join('sq0atp-', rand(ALNUM, 10)) },
  { id: 'stripe-access-token', tp: () => `STRIPE_KEY=${join('sk_', 'live_', rand(ALNUM, 24))}`, fp: () => `${join('sk_', 'live_', 'short')}` },
  { id: 'telegram-bot-api-token', tp: () => `telegram_token: ${join(rand(DIGITS, 10), ':A', rand(ALNUM, 34))}`, fp: () => `telegram_token: ${join(rand(DIGITS, 10), ':a', rand(ALNUM, 34))}` },
  { id: 'twilio-api-key', tp: () => join('SK', rand(HEX, 32)), fp: () => join('SK', '0'.repeat(32)) },
  { id: 'vault-service-token', tp: () => `VAULT_TOKEN=${join('hvs.', rand(ALNUM, 95))}`, fp: () => `VAULT_TOKEN=${join('s.', rand('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 24))}` },
  { id: 'http-authorization-credentials', tp: () => `Authorization: Basic ${Buffer.from(`deploy:${rand(ALNUM, 20)}`).toString('base64')}`, fp: () => 'Authorization: Bearer authentication, basic understanding' },
  { id: 'url-credentials', tp: () => `DATABASE_URL=postgres://app:${rand(ALNUM, 16)}@db.internal:5432/app`, fp: () => 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app' },
  { id: 'generic-api-key', tp: () => `db_password = "${rand(ALNUM, 24)}"`, fp: () => `password = "changeme_please"` },
];

describe('ported gitleaks secret rules', () => {
  it('has a true-positive and a false-positive case for every rule', () => {
    expect(CASES.map((c) => c.id).sort()).toEqual(SECRET_RULES.map((r) => r.id).sort());
  });

  it.each(CASES)('$id: detects a synthetic secret', ({ id, tp }) => {
    const text = `config:\n  ${tp()}\n`;
    expect(detectSecrets(text).map((f) => f.rule)).toContain(id);
  });

  it.each(CASES)('$id: ignores a near miss', ({ id, fp }) => {
    expect(detectSecrets(`config:\n  ${fp()}\n`).map((f) => f.rule)).not.toContain(id);
  });

  it('reports the span of the secret and masks it with the rule id', () => {
    const secret = join('ghp_', rand(ALNUM, 36));
    const text = `token: ${secret} (rotate monthly)`;
    const [finding] = detectSecrets(text);
    expect(finding).toMatchObject({ type: 'secret', rule: 'github-pat', start: 7, end: 7 + secret.length, redacted: '[REDACTED:github-pat]' });
    expect(redactSecrets(text)).toBe('token: [REDACTED:github-pat] (rotate monthly)');
  });

  it('redacts nested strings in JSON-like values without touching other values', () => {
    const secret = join('xoxb-', rand(DIGITS, 12), '-', rand(DIGITS, 12), '-', rand(ALNUM, 24));
    const value = { tool: 'slack.post', args: { headers: [`Bearer ${secret}`], retries: 3, ok: true } };
    expect(redactSecretsDeep(value)).toEqual({ tool: 'slack.post', args: { headers: ['Bearer [REDACTED:slack-bot-token]'], retries: 3, ok: true } });
  });

  it('keeps an own "__proto__" key (from JSON.parse) as a redacted key, never as the copy\'s prototype', () => {
    const secret = join('xoxb-', rand(DIGITS, 12), '-', rand(DIGITS, 12), '-', rand(ALNUM, 24));
    const value = JSON.parse(`{"__proto__": {"polluted": "Bearer ${secret}"}, "ok": 1}`) as Record<string, unknown>;
    const redacted = redactSecretsDeep(value);
    expect(Object.getPrototypeOf(redacted)).toBe(Object.prototype);
    expect((redacted as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(redacted)).toEqual(['__proto__', 'ok']);
    expect(JSON.stringify(redacted)).toBe('{"__proto__":{"polluted":"Bearer [REDACTED:slack-bot-token]"},"ok":1}');
  });

  it('redacts a shared object everywhere it appears and copies cycles (never hands back an original)', () => {
    const secret = join('ghp_', rand(ALNUM, 36));
    const shared = { token: secret };
    const cyclic: Record<string, unknown> = { a: shared, b: [shared, [shared]] };
    cyclic['self'] = cyclic;
    const redacted = redactSecretsDeep(cyclic) as { a: { token: string }; b: [{ token: string }, [{ token: string }]]; self: unknown };
    expect(redacted.a.token).toBe('[REDACTED:github-pat]');
    expect(redacted.b[0].token).toBe('[REDACTED:github-pat]');
    expect(redacted.b[1][0].token).toBe('[REDACTED:github-pat]');
    expect(redacted.self).toBe(redacted);
    expect(shared.token).toBe(secret); // the input is not modified
  });

  it('finds two adjacent secrets separately (terminator is a lookahead, not consumed)', () => {
    const a = join('pul-', rand(HEX, 40));
    const b = join('pul-', rand(HEX, 40));
    expect(detectSecrets(`${a} ${b}`).map((f) => f.rule)).toEqual(['pulumi-api-token', 'pulumi-api-token']);
  });
});

describe('Go RE2 → JavaScript translation', () => {
  it('keeps the case-sensitive prefix of a rule whose upstream used (?i) mid-pattern', () => {
    // Upstream dp\.pt\.(?i)[a-z0-9]{43}: the body is case-insensitive, the prefix is not.
    expect(detectSecrets(join('dp.pt.', rand('ABCDEFGH', 43))).map((f) => f.rule)).toContain('doppler-api-token');
    expect(detectSecrets(join('DP.PT.', rand('ABCDEFGH', 43))).map((f) => f.rule)).not.toContain('doppler-api-token');
  });

  it('honours (?-i:A) inside a case-insensitive rule (telegram)', () => {
    const body = rand(ALNUM, 34);
    expect(detectSecrets(`TELEGRAM_TOKEN=${rand(DIGITS, 9)}:A${body}`).map((f) => f.rule)).toContain('telegram-bot-api-token');
    expect(detectSecrets(`TELEGRAM_TOKEN=${rand(DIGITS, 9)}:a${body}`).map((f) => f.rule)).not.toContain('telegram-bot-api-token');
  });

  it('treats $ as end of text (RE2 \\z), not end of line', () => {
    const token = join('pul-', rand(HEX, 40));
    expect(detectSecrets(`${token}\nnext line`).length).toBe(1);
    expect(detectSecrets(token).length).toBe(1);
  });

  it('keeps (?-i:[Aa]pi|API) case-sensitive in generic-api-key', () => {
    const value = rand(ALNUM, 24);
    expect(detectSecrets(`api_secret = "${value}"`).map((f) => f.rule)).toContain('generic-api-key');
    expect(detectSecrets(`aPI = "${value}"`).map((f) => f.rule)).not.toContain('generic-api-key');
  });

  it('completes on 100 KB adversarial inputs for every rule family', () => {
    const begin = '-----BEGIN PRIVATE KEY-----';
    const inputs = [
      'ey'.repeat(50_000),
      'eyJ' + 'a'.repeat(100_000),
      'key='.repeat(25_000),
      'password: '.repeat(10_000),
      begin.repeat(3_700),
      `${begin}\n${'A'.repeat(100_000)}`,
      `${begin}\n${`${'A'.repeat(4_000)} x\n`.repeat(25)}`,
      `${begin}\n${'A'.repeat(60)}\n`.repeat(1_100),
      `${begin}\n${'a'.repeat(17_000)} `.repeat(6),
      begin + '\n'.repeat(100_000),
      begin + ' \n'.repeat(50_000) + 'x y',
      begin + ' '.repeat(100_000),
      begin + '\nProc-Type: 4'.repeat(8_000),
      `${begin}\nVersion:${' '.repeat(100_000)}`,
      begin + '\nA \n'.repeat(25_000),
      'xoxb-1234567890-'.repeat(6_000),
      'SK'.repeat(50_000),
      'a'.repeat(100_000),
    ];
    for (const input of inputs) expect(Array.isArray(detectSecrets(input))).toBe(true);
  });
});

describe('private keys cut short', () => {
  // Regression: the private-key rule needed both the BEGIN and the END line, so a key whose END line was cut off (a
  // truncated paste, a value cut at a size limit) was kept whole in clear text.
  const line = () => rand(ALNUM + '+/', 64);
  const body = [line(), line(), line(), rand(ALNUM, 20)];
  const begin = (kind: string) => join('-----BEGIN ', kind, 'PRIVATE KEY', kind.startsWith('PGP') ? ' BLOCK' : '', '-----');

  it.each([
    ['at the end of the text', `key:\n${begin('RSA ')}\n${body.join('\n')}`, 'key:\n[REDACTED:private-key]'],
    ['before a line of prose', `${begin('')}\n${body.join('\n')}\n(truncated after 4 lines)\nbye`, '[REDACTED:private-key]\n(truncated after 4 lines)\nbye'],
    ['before a half END line', `${begin('EC ')}\n${body.join('\n')}\n-----END EC PRI`, '[REDACTED:private-key]\n-----END EC PRI'],
    ['with CRLF and indented (YAML)', `tls:\r\n  key: |\r\n    ${begin('OPENSSH ')}\r\n    ${body.join('\r\n    ')}`, 'tls:\r\n  key: |\r\n    [REDACTED:private-key]'],
    ['with RFC 1421 headers', `${begin('RSA ')}\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,${rand(HEX, 32)}\n\n${body.join('\n')}`, '[REDACTED:private-key]'],
    ['an OpenPGP block', `${begin('PGP ')}\n\n${body.join('\n')}`, '[REDACTED:private-key]'],
    ['on the BEGIN line itself', `${begin('')}${body.join('')}`, '[REDACTED:private-key]'],
  ])('masks one %s', (_name, text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it('masks one inside a JSON string, the rest of the JSON kept', () => {
    const text = JSON.stringify({ key: `${begin('')}\n${body.slice(0, 2).join('\n')}`, other: 'plain text' });
    expect(JSON.parse(redactSecrets(text))).toEqual({ key: '[REDACTED:private-key]', other: 'plain text' });
  });

  it.each([
    ['a BEGIN line alone', begin('')],
    ['a BEGIN line in prose', `${begin('')} is how a PKCS #8 key starts`],
    ['a BEGIN line before headers only', `${begin('RSA ')}\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00`],
    ['a public key cut short', `-----BEGIN PUBLIC KEY-----\n${body.join('\n')}`],
  ])('leaves %s', (_name, text) => {
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('redaction inside JSON text (log lines)', () => {
  it('keeps a JSON line parseable when a token is followed by escapes', () => {
    const jwt = join('eyJ', rand(ALNUM, 30), '.eyJ', rand(ALNUM, 40), '.', rand(ALNUM, 43));
    for (const tail of ['\\"', '\\n', '"']) {
      const line = JSON.stringify({ msg: `auth ${jwt}${tail === '"' ? '' : JSON.parse(`"${tail}"`)}x` });
      const redacted = redactSecrets(line);
      expect(() => JSON.parse(redacted)).not.toThrow();
      expect(redacted).not.toContain(jwt.slice(0, 20));
    }
  });
});
