import { api, ApiError } from './client.js';

/** What the server tells the browser about the signed-in session (never the key itself). */
export interface SessionInfo {
  tenantId: string;
  keyId: string;
  keyName?: string | null;
  scopes: string[];
  csrfToken: string;
  expiresAt: string;
}

export const SESSION_PATH = '/api/v1/session';

/** Returns the current session, or null when signed out. */
export async function fetchSession(): Promise<SessionInfo | null> {
  try {
    return await api.get<SessionInfo>(SESSION_PATH);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function signIn(apiKey: string): Promise<SessionInfo> {
  return api.post<SessionInfo>(SESSION_PATH, { apiKey });
}

export function signOut(): Promise<void> {
  return api.delete<void>(SESSION_PATH);
}
