export {
  DashboardSessionService,
  DEFAULT_SESSION_TTL_MS,
  SESSION_COOKIE,
  CSRF_COOKIE,
  CSRF_HEADER,
  hashSessionToken,
  type DashboardSession,
  type DashboardSessionDeps,
} from './session-service.js';
export { buildOverview, OVERVIEW_BUCKETS, type OverviewBucket } from './overview-view.js';
export { listSessions, type SessionsQuery, type SessionView } from './sessions-view.js';
export { listCalls, MAX_CALLS_PAGE, type CallsQuery, type CallView } from './calls-view.js';
export { listViolations, findViolationLedgerIndex, type ViolationsQuery } from './violations-view.js';
