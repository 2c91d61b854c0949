import { useEffect, useRef } from 'preact/hooks';
import { startSession, user } from '../services';
import { AdminSessionsPage } from './AdminSessionsPage';
import { AdminUsersPage } from './AdminUsersPage';
import { ApiKeysPage } from './ApiKeysPage';
import { AuditPage } from './AuditPage';
import { AuthPage } from './AuthPage';
import { Footer } from './Footer';
import { Header } from './Header';
import { MessagesPage } from './MessagesPage';
import { SessionDetailPage } from './SessionDetailPage';
import { SessionsPage } from './SessionsPage';
import { WebhooksPage } from './WebhooksPage';
import { focusSoon, useSignal } from './hooks';
import { pathOf, useRoute } from './router';
import { useAuthed } from './useAuthed';

export function App() {
  const authed = useAuthed();
  const route = useRoute();
  const path = pathOf(route);
  const firstRender = useRef(true);
  const me = useSignal(user);
  const admin = me?.role === 'admin';

  useEffect(() => {
    if (authed) startSession();
  }, [authed]);

  // After a login or a move to another screen, focus its heading so a screen reader says
  // where we are and Tab continues from there (not from the body or a vanished button).
  useEffect(() => {
    if (firstRender.current && !authed) {
      firstRender.current = false;
      return;
    }
    firstRender.current = false;
    if (authed) focusSoon(() => document.querySelector<HTMLElement>('main h1'));
  }, [authed, path]);

  if (!authed) return <AuthPage />;
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <Header route={route} />
      <main id="main" tabIndex={-1}>
        {route.page === 'sessions' && <SessionsPage />}
        {route.page === 'session' && <SessionDetailPage id={route.id} />}
        {route.page === 'messages' && <MessagesPage />}
        {route.page === 'webhooks' && <WebhooksPage />}
        {route.page === 'api-keys' && <ApiKeysPage />}
        {route.page.startsWith('admin-') && !admin && <NotAdmin />}
        {route.page === 'admin-users' && admin && <AdminUsersPage />}
        {route.page === 'admin-sessions' && admin && <AdminSessionsPage />}
        {route.page === 'admin-audit' && admin && <AuditPage />}
      </main>
      <Footer />
    </div>
  );
}

/** What a non-admin (or a page still learning who is logged in) sees at an admin address. */
function NotAdmin() {
  return (
    <div class="page">
      <h1>Not found</h1>
      <p class="muted">There is nothing here for this account.</p>
    </div>
  );
}
