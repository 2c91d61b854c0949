import { useEffect, useRef, useState } from 'preact/hooks';
import type { ServerInfo } from '../api/types';
import { acceptLogin, api, loginNotice } from '../services';
import { NoticeLine } from './NoticeLine';
import { useAction, useSignal } from './hooks';
import { hasLoggedInBefore, rememberLoggedIn } from './firstVisit';
import { serverInfo } from './serverInfoLoad';

type Mode = 'login' | 'register';
const MODES: { mode: Mode; label: string }[] = [
  { mode: 'login', label: 'Log in' },
  { mode: 'register', label: 'Register' },
];
export const PASSWORD_RULE = 'At least 8 characters (up to 256).';

export function AuthPage() {
  // A browser that has never logged in here is most likely new: offer the account first.
  const [mode, setMode] = useState<Mode>(() => (hasLoggedInBefore() ? 'login' : 'register'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const notice = useSignal(loginNotice);
  const action = useAction(`${mode}|${email}|${password}`);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const [info, setInfo] = useState<ServerInfo | null>(null);
  const touched = useRef(false);
  // The server knows best whether this is a first visit: with no accounts, offer Register.
  useEffect(() => {
    void serverInfo().then((i) => {
      setInfo(i);
      if (i && !i.has_users && i.registration_open && !touched.current) setMode('register');
    });
  }, []);

  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const pair =
        mode === 'login'
          ? await api.login(email.trim(), password)
          : await api.register(email.trim(), password, displayName.trim() || undefined);
      rememberLoggedIn();
      acceptLogin(pair);
    });
  };

  // Tabs pattern: one tab stop, arrows (and Home/End) move between tabs and select them.
  const onTabKey = (e: KeyboardEvent, index: number) => {
    let next = -1;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = (index + 1) % MODES.length;
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = (index - 1 + MODES.length) % MODES.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = MODES.length - 1;
    if (next < 0) return;
    e.preventDefault();
    touched.current = true;
    setMode(MODES[next].mode);
    tabs.current[next]?.focus();
  };

  const label = mode === 'login' ? 'Log in' : 'Register';
  return (
    <main class="auth" id="main">
      <div class="auth-card card">
        <h1 class="brand">wahub</h1>
        <p class="muted">Link WhatsApp accounts and watch them live.</p>
        <div class="tabs" role="tablist" aria-label="Account">
          {MODES.map((m, i) => (
            <button key={m.mode} type="button" role="tab" id={`tab-${m.mode}`} aria-controls="auth-panel"
              aria-selected={mode === m.mode} tabIndex={mode === m.mode ? 0 : -1}
              ref={(el) => {
                tabs.current[i] = el;
              }}
              onClick={() => {
                touched.current = true;
                setMode(m.mode);
              }} onKeyDown={(e) => onTabKey(e, i)}>
              {m.label}
            </button>
          ))}
        </div>
        <div id="auth-panel" role="tabpanel" aria-labelledby={`tab-${mode}`}>
          {mode === 'login' ? (
            <p class="hint" data-testid="auth-hint">
              New here?{' '}
              <button type="button" class="link" onClick={() => setMode('register')}>Create an account</button>
              {' '}— on a new server the first account becomes its administrator.
            </p>
          ) : (
            <p class="hint" data-testid="auth-hint">
              {info && !info.has_users
                ? 'This server has no accounts yet: the first account becomes its administrator.'
                : 'The first account on a new server becomes its administrator.'}
              {info && !info.registration_open && ' Registration is closed on this server; ask its administrator for an account.'}
            </p>
          )}
          {notice && mode === 'login' && <p class="notice notice-warning" role="status">{notice}</p>}
          <form onSubmit={submit} aria-label={label}>
            <label>
              Email
              <input type="email" name="email" autoComplete="username" required value={email}
                onInput={(e) => setEmail(e.currentTarget.value)} />
            </label>
            <label>
              Password
              <input type="password" name="password" required minLength={mode === 'register' ? 8 : undefined}
                maxLength={256} aria-describedby={mode === 'register' ? 'password-rule' : undefined}
                autoComplete={mode === 'login' ? 'current-password' : 'new-password'} value={password}
                onInput={(e) => setPassword(e.currentTarget.value)} />
            </label>
            {mode === 'register' && <p id="password-rule" class="field-hint" data-testid="password-rule">{PASSWORD_RULE}</p>}
            {mode === 'register' && (
              <label>
                <span>Display name <span class="muted">(optional)</span></span>
                <input type="text" name="display_name" value={displayName} maxLength={100}
                  onInput={(e) => setDisplayName(e.currentTarget.value)} />
              </label>
            )}
            <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
            <button type="submit" class="btn primary" disabled={action.busy}>
              {action.busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Create account'}
            </button>
          </form>
        </div>
      </div>
    </main>
  );
}
