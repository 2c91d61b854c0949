import { useEffect, useState } from 'preact/hooks';
import type { AdminUser, UserChange } from '../api/types';
import { api, user } from '../services';
import { parseLimit } from '../state/admin';
import { NoticeLine } from './NoticeLine';
import { timeText } from './format';
import { useAction, useSignal } from './hooks';

/** Every account on the server: role, disable/enable, per-user limits. Admins only. */
export function AdminUsersPage() {
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const action = useAction();
  const load = () => action.run(async () => setUsers(await api.adminUsers()));
  useEffect(() => {
    void load();
  }, []);

  const change = (u: AdminUser, c: UserChange, done: string) =>
    action.run(async () => {
      const updated = await api.updateUser(u.id, c);
      setUsers((list) => list?.map((x) => (x.id === updated.id ? updated : x)) ?? null);
    }, done);

  return (
    <div class="page">
      <h1>Users</h1>
      <p class="muted">
        Disabling a user ends their tokens, API keys and live connections at once. Empty limit fields use the
        server defaults.
      </p>
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
      <section class="card table-card" aria-labelledby="users-h">
        <h2 id="users-h">All users{users ? ` (${users.length})` : ''}</h2>
        {!users ? (
          <p class="muted">Loading…</p>
        ) : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Users table">
            <table class="sessions-table" data-testid="users-table">
              <caption class="sr-only">Users</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Sessions</th>
                  <th scope="col">Limits</th>
                  <th scope="col">Access</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <UserRow key={u.id} u={u} busy={action.busy} onChange={change} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function UserRow({ u, busy, onChange }: {
  u: AdminUser;
  busy: boolean;
  onChange: (u: AdminUser, c: UserChange, done: string) => Promise<unknown>;
}) {
  const me = useSignal(user);
  const [sessions, setSessions] = useState(u.max_sessions === null ? '' : String(u.max_sessions));
  const [daily, setDaily] = useState(u.daily_message_limit === null ? '' : String(u.daily_message_limit));
  const [error, setError] = useState('');
  const [confirming, setConfirming] = useState(false);
  const who = u.email;
  const self = me?.id === u.id;

  const saveLimits = (e: Event) => {
    e.preventDefault();
    const s = parseLimit(sessions, 100000);
    const d = parseLimit(daily, 10000000);
    if (!s.ok || !d.ok) {
      setError(!s.ok ? `Sessions: ${s.error}` : !d.ok ? `Messages per day: ${d.error}` : '');
      return;
    }
    setError('');
    void onChange(u, { max_sessions: s.value, daily_message_limit: d.value }, `Limits of ${who} saved.`);
  };

  return (
    <tr data-user-email={u.email} data-disabled={u.disabled ? 'true' : 'false'}>
      <td>
        <strong>{u.display_name || u.email}</strong>
        {u.display_name && <div class="muted small">{u.email}</div>}
        {self && <div class="muted small">you</div>}
      </td>
      <td>
        <select aria-label={`Role of ${who}`} value={u.role} disabled={busy}
          onChange={(e) => {
            const role = e.currentTarget.value as 'admin' | 'user';
            void onChange(u, { role }, `${who} is now ${role === 'admin' ? 'an admin' : 'a user'}.`);
          }}>
          <option value="user">User</option>
          <option value="admin">Admin</option>
        </select>
      </td>
      <td data-field="session_count">{u.session_count}</td>
      <td>
        <form class="limits" aria-label={`Limits of ${who}`} onSubmit={saveLimits}>
          <label>
            Sessions
            <input name="max-sessions" inputMode="numeric" value={sessions} placeholder={`${u.effective_max_sessions} (default)`}
              onInput={(e) => setSessions(e.currentTarget.value)} />
          </label>
          <label>
            Messages per day
            <input name="daily-limit" inputMode="numeric" value={daily}
              placeholder={`${u.effective_daily_message_limit} (default)`} onInput={(e) => setDaily(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn small" disabled={busy}>Save limits</button>
          {error && <p class="field-error" role="alert">{error}</p>}
        </form>
      </td>
      <td>
        {u.disabled ? (
          <>
            <span class="badge tone-bad" data-testid="disabled-badge">Disabled</span>{' '}
            <button type="button" class="btn small" disabled={busy} onClick={() => void onChange(u, { disabled: false }, `${who} is enabled again.`)}>
              Enable
            </button>
          </>
        ) : confirming ? (
          <span class="confirm-inline">
            <button type="button" class="btn danger-solid small" disabled={busy}
              onClick={() => void onChange(u, { disabled: true }, `${who} is disabled.`).then(() => setConfirming(false))}>
              Really disable
            </button>
            <button type="button" class="btn ghost small" onClick={() => setConfirming(false)}>Cancel</button>
          </span>
        ) : (
          <button type="button" class="btn danger small" aria-label={`Disable ${who}`} onClick={() => setConfirming(true)}>
            Disable
          </button>
        )}
      </td>
      <td>{timeText(u.created_at)}</td>
    </tr>
  );
}
