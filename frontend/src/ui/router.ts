import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'sessions' }
  | { page: 'session'; id: string }
  | { page: 'messages' }
  | { page: 'webhooks' }
  | { page: 'api-keys' };

export interface NavItem {
  path: string;
  label: string;
  page: Route['page'];
}

/** The main navigation, in order. */
export const NAV: NavItem[] = [
  { path: '/sessions', label: 'Sessions', page: 'sessions' },
  { path: '/messages', label: 'Messages', page: 'messages' },
  { path: '/webhooks', label: 'Webhooks', page: 'webhooks' },
  { path: '/api-keys', label: 'API keys', page: 'api-keys' },
];

/**
 * Admin screens (users, all sessions, audit log, key scopes) go here once the server has
 * `/api/v1/admin/*`: add a `Route` variant, a `NAV_ADMIN` item (shown to admins only) and a
 * case in `parse` and in App. Nothing is listed until those routes exist.
 */
export const NAV_ADMIN: NavItem[] = [];

export function parse(pathname: string): Route {
  const p = pathname.replace(/\/+$/, '') || '/sessions';
  const detail = /^\/sessions\/([0-9a-fA-F-]{36})$/.exec(p);
  if (detail) return { page: 'session', id: detail[1].toLowerCase() };
  const item = NAV.find((r) => r.path === p);
  return item ? ({ page: item.page } as Route) : { page: 'sessions' };
}

export function pathOf(route: Route): string {
  if (route.page === 'session') return `/sessions/${route.id}`;
  return NAV.find((n) => n.page === route.page)?.path ?? '/sessions';
}

const listeners = new Set<() => void>();
if (typeof window !== 'undefined') window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(path: string): void {
  if (window.location.pathname !== path) window.history.pushState(null, '', path);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.pathname));
  useEffect(() => {
    const l = () => setRoute(parse(window.location.pathname));
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return route;
}

/** A link that navigates inside the app. */
export function onLinkClick(path: string) {
  return (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(path);
  };
}
