import { describe, expect, it } from 'vitest';
import { redactCredentials, referencedCredentials, substituteCredentials } from './credential-references.js';

describe('credential references', () => {
  it.each([
    [{ Authorization: 'Bearer {{credential:openweather}}' }, ['openweather']],
    [{ a: '{{ credential:a.b-c_1 }}', b: '{{credential:a.b-c_1}}{{credential:z}}' }, ['a.b-c_1', 'z']],
    [{ a: '{{credential:}}', b: '{credential:x}', c: '{{secret:x}}', d: '{{credential:has space}}' }, []],
  ])('finds references in %j', (headers, names) => {
    expect(referencedCredentials(headers)).toEqual(names);
  });

  it('substitutes values and leaves other text alone', () => {
    const values = new Map([['k', 's3cret-value'], ['u', 'user']]);
    expect(substituteCredentials({ Authorization: 'Bearer {{credential:k}}', 'X-User': '{{credential:u}}@x', Accept: '*/*' }, values))
      .toEqual({ Authorization: 'Bearer s3cret-value', 'X-User': 'user@x', Accept: '*/*' });
  });

  it('refuses an unresolved name and a value that would split the header', () => {
    expect(() => substituteCredentials({ a: '{{credential:missing}}' }, new Map())).toThrowError(expect.objectContaining({ code: 'CREDENTIAL_UNKNOWN' }) as unknown as Error);
    expect(() => substituteCredentials({ a: '{{credential:k}}' }, new Map([['k', 'x\r\nHost: evil']]))).toThrowError(/cannot be used in a header/);
  });

  it('scrubs echoed secrets from nested response data, keys included', () => {
    const values = new Map([['k', 's3cret-value'], ['long', 's3cret-value-longer']]);
    const echoed = { headers: { authorization: 'Bearer s3cret-value' }, body: ['s3cret-value-longer', 7, null, { 's3cret-value': true }] };
    expect(redactCredentials(echoed, values)).toEqual({
      headers: { authorization: 'Bearer [credential:k]' },
      body: ['[credential:long]', 7, null, { '[credential:k]': true }],
    });
  });

  describe('encoded copies an echoing server may send back', () => {
    const SECRET = 'sk-live-Q7vT2pX9mW4zR8kL1nB6';
    const values = new Map([['tok', SECRET]]);
    /** Base64 runs of the middle of the secret, in every alignment: any of them left in the text leaks most of it. */
    const middleRuns = (encoding: 'base64' | 'base64url'): string[] => {
      const middle = Buffer.from(SECRET.slice(6, -6));
      return [0, 1, 2].map((skip) => {
        const rest = middle.subarray(skip);
        return rest.subarray(0, rest.length - (rest.length % 3)).toString(encoding).slice(4, -4);
      });
    };

    it.each([0, 1, 2, 3, 4, 5])('base64 and base64url of data holding the secret %i bytes in are masked', (offset) => {
      const data = Buffer.concat([Buffer.from('x'.repeat(offset)), Buffer.from(`{"authorization":"Bearer ${SECRET}"}`)]);
      for (const encoding of ['base64', 'base64url'] as const) {
        const masked = redactCredentials({ blob: data.toString(encoding) }, values).blob;
        expect(masked).toContain('[credential:tok]');
        for (const run of middleRuns(encoding)) expect(masked).not.toContain(run);
      }
    });

    it('hex in either case and the reversed secret are masked; unrelated encoded data is left alone', () => {
      const hex = Buffer.from(SECRET).toString('hex');
      const echoed = { lower: `id=${hex};`, upper: hex.toUpperCase(), reversed: [...SECRET].reverse().join(''), other: Buffer.from('nothing secret in here at all').toString('base64') };
      expect(redactCredentials(echoed, values)).toEqual({ lower: 'id=[credential:tok];', upper: '[credential:tok]', reversed: '[credential:tok]', other: echoed.other });
    });

    it('a short secret gets no base64 or hex forms (too likely to match unrelated encoded data)', () => {
      const short = new Map([['pin', 'abcd1234']]);
      const blob = Buffer.from('abcd1234').toString('base64');
      expect(redactCredentials({ blob }, short)).toEqual({ blob });
      expect(redactCredentials({ plain: 'pin abcd1234' }, short)).toEqual({ plain: 'pin [credential:pin]' });
    });
  });
});
