import type { HttpClient } from './http-client.js';
import { SDKError } from './sdk-error.js';
import type { PermissionRequestRecord } from './types.js';

export const PERMISSION_REQUESTS_PATH = '/api/sdk/permission-requests';
/** How long the owner has to decide when `timeoutMs` is not given (the seed's 3 minutes). */
export const DEFAULT_PERMISSION_TIMEOUT_MS = 180_000;
/** Longest single long-poll the client asks for (the server caps it at 30 s too). */
const LONG_POLL_MS = 25_000;
/** Extra time past the request's expiry before the client itself gives up. */
const CLIENT_GRACE_MS = 5_000;

/**
 * Waits (by long polling) until the request is decided. Approved → the record; denied → `PERMISSION_DENIED`;
 * expired on the server (nobody decided in time) → `PERMISSION_EXPIRED`; the client's own deadline passed
 * while the server still said pending (clock skew, server unreachable) → `PERMISSION_TIMEOUT`.
 */
export async function waitForDecision(http: HttpClient, created: PermissionRequestRecord, timeoutMs: number): Promise<PermissionRequestRecord> {
  const deadline = Date.now() + timeoutMs + CLIENT_GRACE_MS;
  let record = created;
  while (record.status === 'pending') {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new SDKError('PERMISSION_TIMEOUT', `permission request ${record.id} was not decided within ${timeoutMs} ms`, { details: record });
    }
    record = await poll(http, record, Math.min(LONG_POLL_MS, remaining));
  }
  if (record.status === 'approved') return record;
  if (record.status === 'denied') {
    const why = record.comment ? `: ${record.comment}` : '';
    throw new SDKError('PERMISSION_DENIED', `permission request ${record.id} was denied${why}`, { details: record });
  }
  throw new SDKError('PERMISSION_EXPIRED', `permission request ${record.id} expired before anyone decided`, { details: record });
}

async function poll(http: HttpClient, record: PermissionRequestRecord, waitMs: number): Promise<PermissionRequestRecord> {
  try {
    return await http.json<PermissionRequestRecord>('GET', `${PERMISSION_REQUESTS_PATH}/${record.id}`, {
      query: { wait_ms: waitMs },
      signal: AbortSignal.timeout(waitMs + 10_000),
    });
  } catch (error) {
    // A dropped long poll is retried; a real server answer (4xx) is not.
    if (error instanceof SDKError && error.code === 'NETWORK_ERROR') {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return record;
    }
    throw error;
  }
}
