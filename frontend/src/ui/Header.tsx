import { logout, user } from '../services';
import { ConnectionIndicator } from './ConnectionIndicator';
import { useSignal } from './hooks';
import { ROUTES, type Route, navigate } from './router';

export function Header({ route }: { route: Route }) {
  const me = useSignal(user);
  return (
    <header class="topbar">
      <div class="brand">wahub</div>
      <nav aria-label="Main">
        {ROUTES.map((r) => (
          <a
            key={r.path}
            href={r.path}
            aria-current={route === r.path ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate(r.path);
            }}
          >
            {r.label}
          </a>
        ))}
      </nav>
      <div class="topbar-end">
        <ConnectionIndicator />
        {me && <span class="who" title={me.email}>{me.display_name || me.email}</span>}
        <button type="button" class="btn ghost" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    </header>
  );
}
