/**
 * Secret rules ported from gitleaks' default configuration (`config/gitleaks.toml`,
 * https://github.com/gitleaks/gitleaks, MIT License, Copyright (c) 2019 Zachary Rice).
 * Rule ids, keywords and entropy thresholds are kept as upstream so findings can be cross-referenced.
 *
 * Translation from Go RE2 to JavaScript (each one covered by a test in secret-rules.test.ts):
 * - Inline flags mid-pattern (`LTAI(?i)[a-z0-9]{20}`, `(?-i:…)`) do not exist in JS: the affected
 *   character classes are expanded by hand (`[a-zA-Z0-9]`) and the rest of the rule stays case-sensitive.
 * - The semi-generic "keyword … = … secret" rules are built by {@link assigned}, a port of gitleaks'
 *   `generateSemiGenericRegex`, with the whole-pattern `(?i)` as the JS `i` flag. Its lazy
 *   `[\w.-]{0,50}?` prefix is dropped: it only moves the match start, never whether a match exists.
 * - The trailing terminator `(?:[\x60'"\s;]|\\[nr]|$)` becomes a lookahead so that it does not
 *   consume the separator between two adjacent secrets; `$` without the `m` flag is RE2's `\z`.
 * - Named groups `(?P<name>…)` would be `(?<name>…)`; the ported rules do not need them.
 */

/** One secret rule. `secretGroup` is the capture group holding the secret (0 = whole match). */
export interface SecretRule {
  id: string;
  description: string;
  regex: RegExp;
  /** Lower-case substrings, one of which must occur in the text before the regex runs (gitleaks `keywords`). */
  keywords: readonly string[];
  /** Minimum Shannon entropy (bits per character) of the secret (gitleaks `entropy`). */
  entropy?: number;
  secretGroup: number;
  /** Secrets matching one of these are ignored (gitleaks `[[rules.allowlists]]`). */
  allow?: readonly RegExp[];
  /** Secrets containing one of these lower-case words are ignored (gitleaks `stopwords`). */
  stopwords?: readonly string[];
}

// gitleaks' terminator is (?=[\x60'"\s;]|\\[nr]|$): a secret followed by . , ) & (end of a sentence, an argument
// list, a query string) went unmatched and was stored in clear. Punctuation that cannot be part of any rule's secret
// now ends one too; a full stop only when no word character follows (JWT-like secrets contain inner dots).
const END = String.raw`(?=[\x60'"\s;,)\]}>&|<]|\.(?![\w-])|\\[nr]|$)`;
const ASSIGN = String.raw`(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}`;

/** gitleaks' semi-generic rule: a keyword, an assignment operator, then the secret (group 1). */
function assigned(keywords: string, secret: string): RegExp {
  return new RegExp(String.raw`(?:${keywords})${ASSIGN}(${secret})${END}`, 'gid');
}

function prefixed(secret: string, flags = 'gd'): RegExp {
  return new RegExp(String.raw`\b(${secret})${END}`, flags);
}

// A private key whose END line was cut off (a truncated paste, a value cut at a size limit) went unmatched: the rule
// needed both markers. Without an END line the block runs over its body: optional RFC 1421 / OpenPGP header lines
// (`Proc-Type: 4,ENCRYPTED`, `Version: …`), then base64 lines, each ending at a line break, the end of the text or a
// closing quote (a JSON string), up to the first other line. Every step starts at a line break or after a whole
// line, so each line is read a bounded number of times: linear.
const PEM_BREAK = String.raw`(?:[ \t]*\r?\n)+[ \t]*`;
const PEM_HEADER_LINE = String.raw`${PEM_BREAK}[A-Za-z][A-Za-z0-9-]{0,63}:[^\r\n]{0,1024}(?=\r?\n|$)`;
const PEM_BASE64_LINE = String.raw`(?:[ \t]*\r?\n)*[ \t]*[A-Za-z0-9+/=]{1,4096}(?=[ \t]*(?:\r?\n|$)|["'\x60])`;
const PRIVATE_KEY = new RegExp(
  String.raw`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{64,16384}?KEY(?: BLOCK)?-----|(?:${PEM_HEADER_LINE})*(?:${PEM_BASE64_LINE})+)`,
  'dgi',
);

type RuleInput = Omit<SecretRule, 'secretGroup'> & { secretGroup?: number };
const rule = (r: RuleInput): SecretRule => ({ secretGroup: 1, ...r });

// A subset of gitleaks' generic-api-key stopwords (the full list has ~1,500 entries): words that
// show a value is a name or a placeholder rather than a credential.
const GENERIC_STOPWORDS = [
  '000000', 'aaaaaa', 'xxxxxx', 'example', 'sample', 'placeholder', 'changeme', 'your_', 'dummy', 'fake', 'test_key',
  'config', 'default', 'localhost', 'password', 'secret', 'token', 'undefined', 'null', 'true', 'false', 'process.env',
  'getenv', 'environ', 'settings', 'value', 'string', 'template', 'redacted',
];

/** Ported gitleaks rules (ids as upstream). */
export const SECRET_RULES: readonly SecretRule[] = [
  rule({ id: 'tollgate-api-key', description: 'Tollgate API key (this product\'s own credential)', regex: prefixed(String.raw`tg_live_[a-z0-9]{8,32}_[A-Za-z0-9]{32,128}`), keywords: ['tg_live_'] }),
  rule({ id: 'age-secret-key', description: 'Age encryption secret key', regex: /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/dg, keywords: ['age-secret-key-1'], secretGroup: 0 }),
  rule({ id: 'anthropic-admin-api-key', description: 'Anthropic Admin API key', regex: prefixed(String.raw`sk-ant-admin01-[a-zA-Z0-9_\-]{93}AA`), keywords: ['sk-ant-admin01'] }),
  rule({ id: 'anthropic-api-key', description: 'Anthropic API key', regex: prefixed(String.raw`sk-ant-api03-[a-zA-Z0-9_\-]{93}AA`), keywords: ['sk-ant-api03'] }),
  rule({ id: 'aws-access-token', description: 'AWS access key id', regex: /\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b/dg, keywords: ['a3t', 'akia', 'asia', 'abia', 'acca'], entropy: 3, allow: [/.+EXAMPLE$/] }),
  rule({ id: 'azure-ad-client-secret', description: 'Azure AD client secret', regex: /(?:^|[\\'"\x60\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"\x60\s<),])/dg, keywords: ['q~'], entropy: 3 }),
  rule({ id: 'databricks-api-token', description: 'Databricks API token', regex: prefixed(String.raw`dapi[a-f0-9]{32}(?:-\d)?`), keywords: ['dapi'], entropy: 3 }),
  rule({ id: 'datadog-access-token', description: 'Datadog access token', regex: assigned('datadog', '[a-z0-9]{40}'), keywords: ['datadog'] }),
  rule({ id: 'digitalocean-access-token', description: 'DigitalOcean OAuth access token', regex: prefixed('doo_v1_[a-f0-9]{64}'), keywords: ['doo_v1_'], entropy: 3 }),
  rule({ id: 'digitalocean-pat', description: 'DigitalOcean personal access token', regex: prefixed('dop_v1_[a-f0-9]{64}'), keywords: ['dop_v1_'], entropy: 3 }),
  rule({ id: 'digitalocean-refresh-token', description: 'DigitalOcean OAuth refresh token', regex: prefixed('dor_v1_[a-f0-9]{64}', 'gid'), keywords: ['dor_v1_'] }),
  // Upstream: dp\.pt\.(?i)[a-z0-9]{43}
  rule({ id: 'doppler-api-token', description: 'Doppler API token', regex: /dp\.pt\.[a-zA-Z0-9]{43}/dg, keywords: ['dp.pt.'], entropy: 2, secretGroup: 0 }),
  // Upstream: dt0c01\.(?i)[a-z0-9]{24}\.[a-z0-9]{64}
  rule({ id: 'dynatrace-api-token', description: 'Dynatrace API token', regex: /dt0c01\.[a-zA-Z0-9]{24}\.[a-zA-Z0-9]{64}/dg, keywords: ['dt0c01.'], entropy: 4, secretGroup: 0 }),
  rule({ id: 'gcp-api-key', description: 'Google Cloud API key', regex: prefixed(String.raw`AIza[\w-]{35}`), keywords: ['aiza'], entropy: 4, allow: [/^AIzaSyabcdefghijklmnopqrstuvwxyz1234567$/] }),
  rule({ id: 'github-app-token', description: 'GitHub app token', regex: /(?:ghu|ghs)_[0-9a-zA-Z]{36}/dg, keywords: ['ghu_', 'ghs_'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'github-fine-grained-pat', description: 'GitHub fine-grained personal access token', regex: /github_pat_\w{82}/dg, keywords: ['github_pat_'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'github-oauth', description: 'GitHub OAuth access token', regex: /gho_[0-9a-zA-Z]{36}/dg, keywords: ['gho_'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'github-pat', description: 'GitHub personal access token', regex: /ghp_[0-9a-zA-Z]{36}/dg, keywords: ['ghp_'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'github-refresh-token', description: 'GitHub refresh token', regex: /ghr_[0-9a-zA-Z]{36}/dg, keywords: ['ghr_'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'gitlab-deploy-token', description: 'GitLab deploy token', regex: /gldt-[0-9a-zA-Z_-]{20}/dg, keywords: ['gldt-'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'gitlab-pat', description: 'GitLab personal access token', regex: /glpat-[\w-]{20}/dg, keywords: ['glpat-'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'gitlab-ptt', description: 'GitLab pipeline trigger token', regex: /glptt-[0-9a-f]{40}/dg, keywords: ['glptt-'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'gitlab-rrt', description: 'GitLab runner registration token', regex: /GR1348941[\w-]{20}/dg, keywords: ['gr1348941'], entropy: 3, secretGroup: 0 }),
  // Upstream: (?i)\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}) — classes already cover both cases.
  rule({ id: 'grafana-service-account-token', description: 'Grafana service account token', regex: prefixed('glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}', 'gid'), keywords: ['glsa_'], entropy: 3 }),
  rule({ id: 'hashicorp-tf-api-token', description: 'HashiCorp Terraform API token', regex: /[a-zA-Z0-9]{14}\.atlasv1\.[a-zA-Z0-9\-_=]{60,70}/dg, keywords: ['atlasv1'], entropy: 3.5, secretGroup: 0 }),
  rule({ id: 'heroku-api-key-v2', description: 'Heroku API key (v2)', regex: prefixed('HRKU-AA[0-9a-zA-Z_-]{58}'), keywords: ['hrku-aa'], entropy: 4 }),
  // Upstream: \b(hf_(?i:[a-z]{34}))
  rule({ id: 'huggingface-access-token', description: 'Hugging Face access token', regex: prefixed('hf_[a-zA-Z]{34}'), keywords: ['hf_'], entropy: 2 }),
  rule({ id: 'jwt', description: 'JSON Web Token', regex: prefixed(String.raw`ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?`), keywords: ['ey'], entropy: 3 }),
  // Upstream: lin_api_(?i)[a-z0-9]{40}
  rule({ id: 'linear-api-key', description: 'Linear API key', regex: /lin_api_[a-zA-Z0-9]{40}/dg, keywords: ['lin_api_'], entropy: 2, secretGroup: 0 }),
  rule({ id: 'mailchimp-api-key', description: 'Mailchimp API key', regex: assigned(String.raw`MailchimpSDK.initialize|mailchimp`, String.raw`[a-f0-9]{32}-us\d\d`), keywords: ['mailchimp'] }),
  rule({ id: 'mailgun-private-api-token', description: 'Mailgun private API token', regex: assigned('mailgun', 'key-[a-f0-9]{32}'), keywords: ['mailgun'] }),
  rule({ id: 'notion-api-token', description: 'Notion API token', regex: prefixed('ntn_[0-9]{11}[A-Za-z0-9]{32}[A-Za-z0-9]{3}'), keywords: ['ntn_'], entropy: 4 }),
  rule({ id: 'npm-access-token', description: 'npm access token', regex: prefixed('npm_[a-z0-9]{36}', 'gid'), keywords: ['npm_'], entropy: 2 }),
  rule({ id: 'openai-api-key', description: 'OpenAI API key', regex: /\b(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})(?=[\x60'"\s;]|\\[nr]|$)/dg, keywords: ['t3blbkfj'], entropy: 3 }),
  rule({ id: 'perplexity-api-key', description: 'Perplexity API key', regex: /\b(pplx-[a-zA-Z0-9]{48})(?=[\x60'"\s;]|\\[nr]|$|\b)/dg, keywords: ['pplx-'], entropy: 4 }),
  // Upstream: \b(PMAK-(?i)[a-f0-9]{24}\-[a-f0-9]{34})
  rule({ id: 'postman-api-token', description: 'Postman API token', regex: prefixed(String.raw`PMAK-[a-fA-F0-9]{24}\-[a-fA-F0-9]{34}`), keywords: ['pmak-'], entropy: 3 }),
  rule({ id: 'private-key', description: 'Private key block', regex: PRIVATE_KEY, keywords: ['-----begin'], secretGroup: 0 }),
  rule({ id: 'pulumi-api-token', description: 'Pulumi API token', regex: prefixed('pul-[a-f0-9]{40}'), keywords: ['pul-'], entropy: 2 }),
  rule({ id: 'pypi-upload-token', description: 'PyPI upload token', regex: /pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}/dg, keywords: ['pypi-ageichlwas5vcmc'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'rubygems-api-token', description: 'RubyGems API token', regex: prefixed('rubygems_[a-f0-9]{48}'), keywords: ['rubygems_'], entropy: 2 }),
  // Upstream: \b(SG\.(?i)[a-z0-9=_\-\.]{66})
  rule({ id: 'sendgrid-api-token', description: 'SendGrid API token', regex: prefixed(String.raw`SG\.[a-zA-Z0-9=_\-\.]{66}`), keywords: ['sg.'], entropy: 2 }),
  // Upstream: \b(xkeysib-[a-f0-9]{64}\-(?i)[a-z0-9]{16})
  rule({ id: 'sendinblue-api-token', description: 'Sendinblue API token', regex: prefixed(String.raw`xkeysib-[a-f0-9]{64}\-[a-zA-Z0-9]{16}`), keywords: ['xkeysib-'], entropy: 2 }),
  rule({ id: 'sentry-user-token', description: 'Sentry user token', regex: prefixed('sntryu_[a-f0-9]{64}'), keywords: ['sntryu_'], entropy: 3.5 }),
  rule({ id: 'shopify-access-token', description: 'Shopify access token', regex: /shpat_[a-fA-F0-9]{32}/dg, keywords: ['shpat_'], entropy: 2, secretGroup: 0 }),
  rule({ id: 'shopify-shared-secret', description: 'Shopify shared secret', regex: /shpss_[a-fA-F0-9]{32}/dg, keywords: ['shpss_'], entropy: 2, secretGroup: 0 }),
  rule({ id: 'slack-bot-token', description: 'Slack bot token', regex: /xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*/dg, keywords: ['xoxb'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'slack-user-token', description: 'Slack user token', regex: /xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}/dg, keywords: ['xoxp-', 'xoxe-'], entropy: 2, secretGroup: 0 }),
  rule({ id: 'slack-webhook-url', description: 'Slack webhook URL', regex: /(?:https?:\/\/)?hooks.slack.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/]{43,56}/dg, keywords: ['hooks.slack.com'], secretGroup: 0 }),
  rule({ id: 'square-access-token', description: 'Square access token', regex: prefixed(String.raw`(?:EAAA|sq0atp-)[\w-]{22,60}`), keywords: ['sq0atp-', 'eaaa'], entropy: 2 }),
  rule({ id: 'stripe-access-token', description: 'Stripe secret or restricted key', regex: prefixed('(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}'), keywords: ['sk_test', 'sk_live', 'sk_prod', 'rk_test', 'rk_live', 'rk_prod'], entropy: 2 }),
  // Upstream: ...([0-9]{5,16}:(?-i:A)[a-z0-9_\-]{34}) under (?i): the "A" stays upper-case only.
  rule({ id: 'telegram-bot-api-token', description: 'Telegram bot API token', regex: new RegExp(String.raw`(?:[Tt][Ee][Ll][Ee][Gg][Rr])${ASSIGN}([0-9]{5,16}:A[a-zA-Z0-9_\-]{34})${END}`, 'gd'), keywords: ['telegr'] }),
  rule({ id: 'twilio-api-key', description: 'Twilio API key', regex: /SK[0-9a-fA-F]{32}/dg, keywords: ['sk'], entropy: 3, secretGroup: 0 }),
  rule({ id: 'vault-service-token', description: 'HashiCorp Vault service token', regex: prefixed(String.raw`(?:hvs\.[\w-]{90,120}|s\.[a-zA-Z0-9]{24})`), keywords: ['hvs.', 's.'], entropy: 3.5, allow: [/^s\.[A-Za-z]{24}$/] }),
  // Tollgate's own, after the specific rules (an overlapping specific finding keeps its id): credentials whose shape
  // says nothing but whose place says everything. An HTTP Authorization value (`Basic <base64 user:password>`,
  // `Bearer <opaque token>`) and the password of a URL (`postgres://app:…@db`) went to stored events and logs in
  // clear: no gitleaks rule above reads them, and the generic rule stops at the scheme word or the `:` of the URL.
  rule({
    id: 'http-authorization-credentials',
    description: 'Credentials of an HTTP Authorization header value (Basic or Bearer)',
    regex: new RegExp(String.raw`\b(?:basic|bearer)[ \t]{1,8}([A-Za-z0-9._~+/-]{12,4096}={0,2})${END}`, 'gid'),
    keywords: ['basic', 'bearer'],
    entropy: 3,
    allow: [/^[A-Za-z][a-z]*$/],
  }),
  rule({
    id: 'url-credentials',
    description: 'Password in the user information of a URL (scheme://user:password@host)',
    regex: /:\/\/[^\s/?#@:'"\\<>]{1,128}:([^\s/?#@'"\\<>]{1,256})@/dg,
    keywords: ['://'],
    allow: [/^(?:passw(?:or)?d|pass|pwd|secret|changeme|\*+|x+|\$\{?\w+\}?|%\w+%|\{\{[^}]*\}\})$/i],
  }),
  rule({
    id: 'generic-api-key',
    description: 'Generic API key, password or token assigned to a credential-like name',
    // Upstream keyword group: (?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)
    regex: new RegExp(String.raw`(?:[Aa][Cc][Cc][Ee][Ss][Ss]|[Aa][Uu][Tt][Hh]|[Aa]pi|API|[Cc][Rr][Ee][Dd][Ee][Nn][Tt][Ii][Aa][Ll]|[Cc][Rr][Ee][Dd][Ss]|[Kk][Ee][Yy]|[Pp][Aa][Ss][Ss][Ww](?:[Oo][Rr])?[Dd]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Tt][Oo][Kk][Ee][Nn])${ASSIGN}([\w.=-]{10,150}|[a-zA-Z0-9][a-zA-Z0-9+/]{11,}={0,3})${END}`, 'gd'),
    keywords: ['access', 'api', 'auth', 'key', 'credential', 'creds', 'passwd', 'password', 'secret', 'token'],
    entropy: 3.5,
    allow: [/^[a-zA-Z_.-]+$/],
    stopwords: GENERIC_STOPWORDS,
  }),
];
