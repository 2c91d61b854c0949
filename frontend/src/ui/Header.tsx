import { logout, user } from '../services';
import { ConnectionIndicator } from './ConnectionIndicator';
import { useSignal } from './hooks';
import { NAV, NAV_ADMIN, type Route, onLinkClick } from './router';

export function Header({ route }: { route: Route }) {
  const me = useSignal(user);
  const items = me?.role === 'admin' ? [...NAV, ...NAV_ADMIN] : NAV;
  const current = route.page === 'session' ? 'sessions' : route.page;
  return (
    <header class="topbar">
      <div class="brand">wahub</div>
      <nav aria-label="Main">
        {items.map((r) => (
          <a key={r.path} href={r.path} aria-current={current === r.page ? 'page' : undefined} onClick={onLinkClick(r.path)}>
            {r.label}
          </a>
        ))}
        <a href="/api/docs" target="_blank" rel="noopener">API docs</a>
      </nav>
      <div class="topbar-end">
        <ConnectionIndicator />
        {me && (
          <span class="who-wrap" data-testid="who">
            <span class="who" title={me.email}>{me.display_name || me.email}</span>
            {me.role === 'admin' && <span class="role-badge" data-testid="role" title="You administer this server">Admin</span>}
          </span>
        )}
        <button type="button" class="btn ghost" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    </header>
  );
}
