import { useCallback, useEffect, useState, type ComponentType } from 'react';
import { api, SESSION_ENDED_EVENT } from './api/client.js';
import { fetchSession, signOut, type SessionInfo } from './api/session.js';
import { Link, navigate, useLocation } from './router.js';
import { ErrorState, Loading } from './components/states.js';
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
  component: ComponentType<PageProps>;
}

/** Client routes; the server answers each of these paths (and below) with index.html. */
export const PAGES: readonly PageEntry[] = [
  { path: '/', label: 'Overview', component: OverviewPage },
  { path: '/sessions', label: 'Sessions', component: SessionsPage },
  { path: '/violations', label: 'Violations', component: ViolationsPage },
  { path: '/approvals', label: 'Approvals', component: ApprovalsPage },
  { path: '/policies', label: 'Policies', component: PoliciesPage },
  { path: '/agents', label: 'Agents', component: AgentsPage },
  { path: '/audit', label: 'Audit', component: AuditPage },
  { path: '/kill-switch', label: 'Kill switch', component: KillSwitchPage },
  { path: '/settings', label: 'Settings', component: SettingsPage },
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
function usePendingApprovals(path: string): number {
  const [count, setCount] = useState(0);
  useEffect(() => {
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
  }, [path]);
  return count;
}

function Shell({ session, onSignedOut }: { session: SessionInfo; onSignedOut: () => void }) {
  const location = useLocation();
  const pending = usePendingApprovals(location.path);
  const [menuOpen, setMenuOpen] = useState(false);
  const match = matchPage(location.path);
  useEffect(() => setMenuOpen(false), [location.path]);
  useEffect(() => {
    document.title = match ? `${match.page.label} · Tollgate` : 'Not found · Tollgate';
  }, [match]);

  const handleSignOut = async () => {
    try {
      await signOut();
    } finally {
      onSignedOut();
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
          {PAGES.map((page) => (
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
        {Page && match ? (
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
  return <Shell session={session} onSignedOut={() => setSession(null)} />;
}
