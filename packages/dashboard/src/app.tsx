import { useCallback, useEffect, useState, type ComponentType } from 'react';
import { api, SESSION_ENDED_EVENT } from './api/client.js';
import { sessionHasScope, type DashboardScope } from './api/scopes.js';
import { fetchSession, signOut, type SessionInfo } from './api/session.js';
import { Link, navigate, useLocation } from './router.js';
import { ErrorState, Loading, NeedsScope } from './components/states.js';
import { SignInPage } from './pages/sign-in.js';
import { OverviewPage } from './pages/overview.js';
import { SessionsPage } from './pages/sessions.js';
import { ViolationsPage } from './pages/violations.js';
import { ApprovalsPage } from './pages/approvals.js';
import { PoliciesPage } from './pages/policies.js';
import { AgentsPage } from './pages/agents.js';
import { AuditPage } from './pages/audit.js';
import { KillSwitchPage } from './pages/kill-switch.js';
import { SettingsPage } from './pages/settings.js';

export interface PageProps {
  session: SessionInfo;
  params: URLSearchParams;
  subpath: string;
}

interface PageEntry {
  path: string;
  label: string;
  /** Scope every read and every action of the page needs on the server (so it also gates the page's buttons). */
  scope: DashboardScope;
  component: ComponentType<PageProps>;
}

/** Client routes; the server answers each of these paths (and below) with index.html. */
export const PAGES: readonly PageEntry[] = [
  { path: '/', label: 'Overview', scope: 'audit:read', component: OverviewPage },
  { path: '/sessions', label: 'Sessions', scope: 'audit:read', component: SessionsPage },
  { path: '/violations', label: 'Violations', scope: 'audit:read', component: ViolationsPage },
  { path: '/approvals', label: 'Approvals', scope: 'approvals', component: ApprovalsPage },
  { path: '/policies', label: 'Policies', scope: 'policies', component: PoliciesPage },
  { path: '/agents', label: 'Agents', scope: 'agents', component: AgentsPage },
  { path: '/audit', label: 'Audit', scope: 'audit:read', component: AuditPage },
  { path: '/kill-switch', label: 'Kill switch', scope: 'agents', component: KillSwitchPage },
  { path: '/settings', label: 'Settings', scope: 'admin', component: SettingsPage },
];

function matchPage(path: string): { page: PageEntry; subpath: string } | undefined {
  if (path === '/' || path === '/overview') return { page: PAGES[0]!, subpath: '' };
  for (const page of PAGES.slice(1)) {
    if (path === page.path || path.startsWith(`${page.path}/`)) return { page, subpath: path.slice(page.path.length + 1) };
  }
  return undefined;
}

/** How often the navigation refreshes its count of pending approvals. */
const PENDING_POLL_MS = 10_000;

/** Count of pending holds and permission requests for the navigation badge (refreshed on navigation too). */
function usePendingApprovals(path: string, enabled: boolean): number {
  const [count, setCount] = useState(0);
  useEffect(() => {
    if (!enabled) return undefined;
    let cancelled = false;
    const load = () =>
      api.get<{ items: unknown[] }>('/api/v1/approvals', { status: 'pending' }).then(
        (data) => !cancelled && setCount(data.items.length),
        () => undefined,
      );
    void load();
    const timer = window.setInterval(load, PENDING_POLL_MS);
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
  }, [path, enabled]);
  return count;
}

/**
 * Re-reads the session on every navigation: the server follows the key's current scopes, and so does the menu.
 * A session that ended answers 401 and `onChange(null)` shows the sign-in form.
 */
function useSessionRefresh(path: string, session: SessionInfo, onChange: (session: SessionInfo | null) => void): void {
  const scopesKey = session.scopes.join(',');
  useEffect(() => {
    let cancelled = false;
    fetchSession().then(
      (fresh) => {
        if (!cancelled && (fresh === null || fresh.scopes.join(',') !== scopesKey)) onChange(fresh);
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [path, scopesKey, onChange]);
}

function Shell({ session, onSessionChanged }: { session: SessionInfo; onSessionChanged: (session: SessionInfo | null) => void }) {
  const location = useLocation();
  const pending = usePendingApprovals(location.path, sessionHasScope(session, 'approvals'));
  useSessionRefresh(location.path, session, onSessionChanged);
  const [menuOpen, setMenuOpen] = useState(false);
  const match = matchPage(location.path);
  const allowed = PAGES.filter((page) => sessionHasScope(session, page.scope));
  const home = allowed[0];
  // `/` is where sign-in lands: send a session without `audit:read` to the first page it may use instead.
  const redirectHome = match?.page === PAGES[0] && !allowed.includes(PAGES[0]!) && home !== undefined;
  useEffect(() => {
    if (redirectHome) navigate(home.path, { replace: true });
  }, [redirectHome, home]);
  useEffect(() => setMenuOpen(false), [location.path]);
  useEffect(() => {
    document.title = match ? `${match.page.label} · Tollgate` : 'Not found · Tollgate';
  }, [match]);

  const handleSignOut = async () => {
    try {
      await signOut();
    } finally {
      onSessionChanged(null);
    }
  };

  const Page = match?.page.component;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="button menu-button"
          aria-expanded={menuOpen}
          aria-controls="primary-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <Link href="/" className="brand">
          Tollgate
        </Link>
        <span className="tenant" title="Tenant">
          {session.tenantId}
        </span>
        <button type="button" className="button" onClick={handleSignOut}>
          Sign out
        </button>
      </header>
      <nav id="primary-nav" className={`sidebar ${menuOpen ? 'open' : ''}`} aria-label="Primary">
        <ul>
          {allowed.map((page) => (
            <li key={page.path}>
              <Link href={page.path} aria-current={match?.page === page ? 'page' : undefined}>
                {page.label}
                {page.path === '/approvals' && pending > 0 ? (
                  <span className="nav-badge" aria-label={`${pending} pending`}>
                    {pending}
                  </span>
                ) : null}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {redirectHome ? (
          <Loading />
        ) : Page && match && !allowed.includes(match.page) ? (
          <section aria-labelledby="needs-scope-title">
            <h1 id="needs-scope-title">{match.page.label}</h1>
            <NeedsScope scope={match.page.scope} />
          </section>
        ) : Page && match ? (
          <Page session={session} params={location.params} subpath={match.subpath} />
        ) : (
          <section>
            <h1>Page not found</h1>
            <p>
              <Link href="/">Back to the overview</Link>
            </p>
          </section>
        )}
      </main>
    </div>
  );
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>();
  const load = useCallback(() => {
    setError(undefined);
    fetchSession().then(setSession, (failure: unknown) => setError(failure as Error));
  }, []);
  useEffect(load, [load]);
  useEffect(() => {
    const ended = () => setSession(null);
    window.addEventListener(SESSION_ENDED_EVENT, ended);
    return () => window.removeEventListener(SESSION_ENDED_EVENT, ended);
  }, []);

  if (error) return <main className="content"><ErrorState error={error} onRetry={load} /></main>;
  if (session === undefined) return <main className="content"><Loading label="Starting…" /></main>;
  if (session === null) {
    return (
      <SignInPage
        onSignedIn={(info) => {
          setSession(info);
          if (window.location.pathname === '/sign-in') navigate('/', { replace: true });
        }}
      />
    );
  }
  return <Shell session={session} onSessionChanged={setSession} />;
}
