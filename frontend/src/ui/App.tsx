import { useEffect } from 'preact/hooks';
import { startSession } from '../services';
import { ApiKeysPage } from './ApiKeysPage';
import { AuthPage } from './AuthPage';
import { Header } from './Header';
import { MessagesPage } from './MessagesPage';
import { SessionsPage } from './SessionsPage';
import { useAuthed } from './useAuthed';
import { useRoute } from './router';

export function App() {
  const authed = useAuthed();
  const route = useRoute();

  useEffect(() => {
    if (authed) startSession();
  }, [authed]);

  if (!authed) return <AuthPage />;
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <Header route={route} />
      <main id="main" tabIndex={-1}>
        {route === '/sessions' && <SessionsPage />}
        {route === '/messages' && <MessagesPage />}
        {route === '/api-keys' && <ApiKeysPage />}
      </main>
    </div>
  );
}

