import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'sessions' }
  | { page: 'session'; id: string }
  | { page: 'messages' }
  | { page: 'webhooks' }
  | { page: 'api-keys' }
  | { page: 'admin-users' }
  | { page: 'admin-sessions' }
  | { page: 'admin-audit' };

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

/** Admin screens: shown in the navigation to admins only (the server answers 404 to others). */
export const NAV_ADMIN: NavItem[] = [
  { path: '/admin/users', label: 'Users', page: 'admin-users' },
  { path: '/admin/sessions', label: 'All sessions', page: 'admin-sessions' },
  { path: '/admin/audit', label: 'Audit log', page: 'admin-audit' },
];

export function parse(pathname: string): Route {
  const p = pathname.replace(/\/+$/, '') || '/sessions';
  const detail = /^\/sessions\/([0-9a-fA-F-]{36})$/.exec(p);
  if (detail) return { page: 'session', id: detail[1].toLowerCase() };
  const item = [...NAV, ...NAV_ADMIN].find((r) => r.path === p);
  return item ? ({ page: item.page } as Route) : { page: 'sessions' };
}

export function pathOf(route: Route): string {
  if (route.page === 'session') return `/sessions/${route.id}`;
  return [...NAV, ...NAV_ADMIN].find((n) => n.page === route.page)?.path ?? '/sessions';
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
