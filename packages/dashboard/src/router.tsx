import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/**
 * Minimal history router: pages are addressed by path (`/sessions?agentId=a`) so links can
 * be shared and reloaded (the server answers every client route with index.html).
 */
export interface Location {
  path: string;
  params: URLSearchParams;
}

const NAVIGATE_EVENT = 'tollgate:navigate';

function current(): Location {
  return { path: window.location.pathname, params: new URLSearchParams(window.location.search) };
}

/**
 * Goes to a client route without reloading the page.
 *
 * @example
 * navigate('/sessions?agentId=bot');
 */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return location;
}

/**
 * Replaces the query string of the current page (filters), keeping the path.
 *
 * @example
 * setQuery({ status: 'approved' }); // /approvals?status=approved
 */
export function setQuery(values: Record<string, string | undefined>): void {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === '') params.delete(key);
    else params.set(key, value);
  }
  const search = params.toString();
  navigate(`${window.location.pathname}${search ? `?${search}` : ''}`, { replace: true });
}

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const { href, onClick, ...rest } = props;
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    if (!href.startsWith('/')) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
