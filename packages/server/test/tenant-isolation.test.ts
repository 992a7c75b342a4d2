// Generic tenant-isolation test: walks EVERY registered route with an admin key of tenant A (all scopes)
// against objects of tenant B that each area's fixture creates (test-utils/tenant-fixtures). Nothing of B may be
// seen (no marker in any response) or changed (each fixture's verify()). Parameterised routes without a fixture
// fail the test, so new routes cannot silently escape it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredRoute } from '@tollgate/server';
import { TENANT_FIXTURES, fillPath, pathParams, rawRequest, sampleFromSchema, startTestServer, type TenantFixture, type TestServer } from '../../../test-utils/index.js';

const READ_METHODS = new Set(['GET', 'OPTIONS']);

function paramValue(fixtures: TenantFixture[], route: RegisteredRoute, name: string): string | undefined {
  for (const fixture of fixtures) {
    const value = fixture.params[route.url]?.[name] ?? fixture.params['*']?.[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

function bodyFor(fixtures: TenantFixture[], route: RegisteredRoute): unknown {
  for (const fixture of fixtures) {
    const body = fixture.bodies?.[`${route.method} ${route.url}`];
    if (body !== undefined) return body;
  }
  return sampleFromSchema((route.schema as { body?: Record<string, unknown> } | undefined)?.body) ?? {};
}

describe('tenant isolation across every route', () => {
  let t: TestServer;
  let fixtures: TenantFixture[];
  const exempt = new Map<string, string>();
  beforeAll(async () => {
    t = await startTestServer();
    fixtures = [];
    for (const definition of TENANT_FIXTURES) {
      fixtures.push(await definition.create({ server: t, victim: t.tenantB, attacker: t.tenantA }));
      for (const [url, reason] of Object.entries(definition.exempt ?? {})) exempt.set(url, reason);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every parameterised route has a fixture (or a stated exemption)', () => {
    const uncovered = t.server.routes
      .filter((route) => !route.public && !exempt.has(route.url))
      .filter((route) => pathParams(route.url).some((name) => paramValue(fixtures, route, name) === undefined))
      .map((route) => `${route.method} ${route.url}`);
    expect(uncovered, 'add a fixture in test-utils/tenant-fixtures/<area>.ts for these routes').toEqual([]);
  });

  it("tenant A's admin key neither sees nor changes tenant B's objects", { timeout: 120_000 }, async () => {
    const markers = fixtures.flatMap((fixture) => fixture.markers);
    expect(markers.length).toBeGreaterThan(0);
    const routes = [...t.server.routes].sort((a, b) => Number(!READ_METHODS.has(a.method)) - Number(!READ_METHODS.has(b.method)));
    const leaks: string[] = [];
    for (const route of routes) {
      const path = fillPath(route.url, (name) => paramValue(fixtures, route, name) ?? 'x');
      const hasBody = !READ_METHODS.has(route.method) && route.method !== 'DELETE';
      for (const query of ['', `?tenantId=${t.tenantB.id}`]) {
        const res = await rawRequest(`${t.url}${path}${query}`, {
          method: route.method,
          headers: { authorization: `Bearer ${t.tenantA.adminKey}`, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
          ...(hasBody ? { body: JSON.stringify(bodyFor(fixtures, route)) } : {}),
        });
        const label = `${route.method} ${path}${query} → ${res.status}`;
        if (res.status >= 500) leaks.push(`${label}: server error ${res.text.slice(0, 200)}`);
        for (const marker of markers) if (res.text.includes(marker)) leaks.push(`${label}: response contains ${marker}`);
      }
    }
    expect(leaks).toEqual([]);
    for (const fixture of fixtures) await fixture.verify?.();
  });
});
