import type { FastifyRequest } from 'fastify';
import type { Services } from '../services/index.js';
import { hasScope, type AuthContext, type Scope } from '../services/keys/index.js';
import { presentedApiKey } from './auth.js';
import { createSessionAuthenticator } from './routes/session.js';

/** Answers why the credential that opened a stream no longer stands, or undefined while it does. */
export type StreamCredentialCheck = (request: FastifyRequest, opened: AuthContext) => Promise<string | undefined>;

/**
 * Authentication runs once per request, but a stream lives for minutes: streams check the credential that opened
 * them again (before sending, and at every keepalive), so a revoked or expired key, a signed-out dashboard session
 * or a lost scope stops the flow. Keys come from the auth cache, which revocations evict on every replica.
 *
 * @example
 * const check = streamCredentialCheck(services, 'approvals');
 * const reason = await check(request, authOf(request)); // 'API key revoked' | undefined
 */
export function streamCredentialCheck(services: Services, scope: Scope): StreamCredentialCheck {
  const sessions = createSessionAuthenticator(services.dashboardSessions);
  return async (request, opened) => {
    const token = presentedApiKey(request);
    let now: AuthContext | undefined;
    if (typeof token === 'string') {
      const result = await services.keys.authenticate(token);
      if (!result.ok) return result.reason === 'expired' || result.reason === 'revoked' ? `API key ${result.reason}` : 'Invalid API key';
      now = result.auth;
    } else {
      const outcome = await sessions(request);
      if (outcome === undefined || !('auth' in outcome)) return 'Dashboard session expired or signed out';
      now = outcome.auth;
    }
    if (now.keyId !== opened.keyId || now.tenantId !== opened.tenantId || !hasScope(now.scopes, scope)) return `Credential lacks scope ${scope}`;
    return undefined;
  };
}
