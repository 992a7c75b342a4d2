import { describe, expect, it } from 'vitest';
import { redactCredentials } from './credential-redaction.js';

const KEY = `tg_live_0123456789abcdef_${'a'.repeat(64)}`;

// Regression: the CLI printed fetch's errors as they were, quoting a --url password and the Authorization header.
describe('redactCredentials', () => {
  it.each([
    ['an invalid Authorization header', `Headers.append: "Bearer ${KEY}" is an invalid header value.`, 'Headers.append: "Bearer [redacted]" is an invalid header value.'],
    ['a Bearer token of another form', 'authorization: bearer abc.def-ghi', 'authorization: bearer [redacted]'],
    ['a Tollgate key on its own, also a malformed one', `key ${KEY} and tg_live_x_y`, 'key tg_live_[redacted] and tg_live_[redacted]'],
    ['a URL password', 'Request cannot be constructed from a URL that includes credentials: http://admin:S3cret@127.0.0.1:8787/api', 'Request cannot be constructed from a URL that includes credentials: http://[redacted]@127.0.0.1:8787/api'],
    ['a password holding an @', 'http://admin:p@ss@host/x', 'http://[redacted]@host/x'],
    ['text without credentials', 'connect ECONNREFUSED 127.0.0.1:8787 (see http://127.0.0.1/x@y, tg_live_<id>_<secret>)', 'connect ECONNREFUSED 127.0.0.1:8787 (see http://127.0.0.1/x@y, tg_live_<id>_<secret>)'],
  ])('%s', (_name, text, redacted) => {
    expect(redactCredentials(text)).toBe(redacted);
  });
});
