import { useState } from 'preact/hooks';
import { acceptLogin, api, loginNotice } from '../services';
import { useAction, useSignal } from './hooks';

export function AuthPage() {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const notice = useSignal(loginNotice);
  const { busy, error, run } = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const pair =
        mode === 'login'
          ? await api.login(email.trim(), password)
          : await api.register(email.trim(), password, displayName.trim() || undefined);
      acceptLogin(pair);
    });
  };

  return (
    <main class="auth" id="main">
      <div class="auth-card card">
        <h1 class="brand">wahub</h1>
        <p class="muted">Link WhatsApp accounts and watch them live.</p>
        <div class="tabs" role="tablist" aria-label="Account">
          <button type="button" role="tab" aria-selected={mode === 'login'} onClick={() => setMode('login')}>
            Log in
          </button>
          <button type="button" role="tab" aria-selected={mode === 'register'} onClick={() => setMode('register')}>
            Register
          </button>
        </div>
        {notice && mode === 'login' && <p class="notice" role="status">{notice}</p>}
        <form onSubmit={submit} aria-label={mode === 'login' ? 'Log in' : 'Register'}>
          <label>
            Email
            <input type="email" name="email" autoComplete="username" required value={email}
              onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <label>
            Password
            <input type="password" name="password" required minLength={mode === 'register' ? 8 : undefined}
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'} value={password}
              onInput={(e) => setPassword(e.currentTarget.value)} />
          </label>
          {mode === 'register' && (
            <label>
              <span>Display name <span class="muted">(optional)</span></span>
              <input type="text" name="display_name" value={displayName}
                onInput={(e) => setDisplayName(e.currentTarget.value)} />
            </label>
          )}
          {error && <p class="error" role="alert">{error}</p>}
          <button type="submit" class="btn primary" disabled={busy}>
            {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Create account'}
          </button>
        </form>
      </div>
    </main>
  );
}
