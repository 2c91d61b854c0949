import { useEffect, useState } from 'preact/hooks';

export type Route = '/sessions' | '/messages' | '/api-keys';
export const ROUTES: { path: Route; label: string }[] = [
  { path: '/sessions', label: 'Sessions' },
  { path: '/messages', label: 'Messages' },
  { path: '/api-keys', label: 'API keys' },
];

function current(): Route {
  const p = window.location.pathname.replace(/\/+$/, '');
  return (ROUTES.find((r) => r.path === p)?.path ?? '/sessions');
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(path: Route): void {
  if (window.location.pathname !== path) window.history.pushState(null, '', path);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current());
  useEffect(() => {
    const l = () => setRoute(current());
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return route;
}
