// GET /api/v1/policies/{id} pages its versions: a policy source may be 1 MiB and versions are never deleted, so
// listing every version with its source in one answer grew without bound (thousands of versions pushed by a CI
// pipeline made one request build gigabytes). Pages are newest first, at most `limit` versions and 8 MiB of source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const policy = (n: number, padding = 0) => `name: paged
# ${'x'.repeat(padding)}
agents: { "*": { approvedScope: ["tool_${n}"] } }
`;

function describePaging(name: string, postgresUrl: string | undefined) {
  describe.skipIf(postgresUrl === '')(name, () => {
    let t: TestServer;
    let key: string;
    beforeAll(async () => {
      t = await startTestServer(postgresUrl ? { postgresUrl } : {});
      key = t.tenantA.adminKey;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('pages versions newest first with limit and before, and says when there are no more', async () => {
      const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'paged', source: policy(1) } });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      for (let n = 2; n <= 12; n += 1) expect((await t.request('POST', `/api/v1/policies/${id}/versions`, { key, body: { source: policy(n) } })).status).toBe(201);
      const all = await t.request('GET', `/api/v1/policies/${id}`, { key });
      expect(all.body.versions.map((v: { version: number }) => v.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(all.body.nextBefore).toBeNull();
      expect(all.body.versions[0].source).toBe(policy(12));
      const seen: number[] = [];
      let before: number | null | undefined;
      let pages = 0;
      do {
        const page = await t.request('GET', `/api/v1/policies/${id}?limit=5${before ? `&before=${before}` : ''}`, { key });
        expect(page.status).toBe(200);
        expect(page.body.versions.length).toBeLessThanOrEqual(5);
        seen.push(...page.body.versions.map((v: { version: number }) => v.version));
        before = page.body.nextBefore;
        pages += 1;
      } while (before !== null && pages < 10);
      expect(seen).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(pages).toBe(3);
      const tail = await t.request('GET', `/api/v1/policies/${id}?before=3`, { key });
      expect(tail.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
      expect(tail.body.nextBefore).toBeNull();
    });

    it('stops a page at 8 MiB of source, and always returns at least one version', async () => {
      const big = 1_000_000; // under the default 1 MiB request body limit with the JSON around it
      const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'large', source: policy(1, big) } });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      for (let n = 2; n <= 10; n += 1) expect((await t.request('POST', `/api/v1/policies/${id}/versions`, { key, body: { source: policy(n, big) } })).status).toBe(201);
      const first = await t.request('GET', `/api/v1/policies/${id}`, { key });
      expect(first.status).toBe(200);
      const firstVersions = first.body.versions.map((v: { version: number }) => v.version);
      // ~1 MiB each: 8 fit in 8 MiB, the 9th would not.
      expect(firstVersions).toEqual([10, 9, 8, 7, 6, 5, 4, 3]);
      expect(first.body.nextBefore).toBe(3);
      const rest = await t.request('GET', `/api/v1/policies/${id}?before=3`, { key });
      expect(rest.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
      expect(rest.body.nextBefore).toBeNull();
      const one = await t.request('GET', `/api/v1/policies/${id}?limit=1`, { key });
      expect(one.body.versions).toHaveLength(1);
      expect(one.body.versions[0].source).toHaveLength(policy(10, big).length);
      expect(one.body.nextBefore).toBe(10);
    });

    it('refuses bad paging parameters with 400 and the envelope', async () => {
      const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'params', source: policy(1) } });
      const id = created.body.id as string;
      for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'before=0', 'before=-1', 'before=1.5', 'page=2']) {
        const res = await t.request('GET', `/api/v1/policies/${id}?${query}`, { key });
        expect(res.status, query).toBe(400);
        expect(res.body.error.code, query).toBe('VALIDATION_FAILED');
      }
      const other = await t.request('GET', `/api/v1/policies/${id}?limit=5`, { key: t.tenantB.adminKey });
      expect(other.status).toBe(404);
    });
  });
}

describePaging('policy versions paging (SQLite)', undefined);
describePaging('policy versions paging (PostgreSQL)', postgresTestUrl('policy versions paging on PostgreSQL') ?? '');
