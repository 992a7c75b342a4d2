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
});
