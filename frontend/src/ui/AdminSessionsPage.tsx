import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AdminSession } from '../api/types';
import { api } from '../services';
import { NoticeLine } from './NoticeLine';
import { StatusBadge } from './StatusBadge';
import { phoneText, timeText } from './format';
import { useAction } from './hooks';

const STOPPED = new Set(['stopped', 'failed', 'logged_out']);

/** Every session on the server with its owner; stop or log out any of them. Admins only. */
export function AdminSessionsPage() {
  const [rows, setRows] = useState<AdminSession[] | null>(null);
  const [search, setSearch] = useState('');
  const [confirming, setConfirming] = useState('');
  const action = useAction();
  const load = () => action.run(async () => setRows(await api.adminSessions()));
  useEffect(() => {
    void load();
  }, []);

  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    if (!rows || !q) return rows ?? [];
    return rows.filter((s) => [s.name, s.owner_email, s.phone ?? '', s.push_name ?? ''].some((f) => f.toLowerCase().includes(q)));
  }, [rows, search]);

  const act = (s: AdminSession, verb: 'stop' | 'logout') =>
    void action.run(async () => {
      const updated = verb === 'stop' ? await api.adminStopSession(s.id) : await api.adminLogoutSession(s.id);
      setRows((list) => list?.map((x) => (x.id === updated.id ? updated : x)) ?? null);
      setConfirming('');
    }, verb === 'stop' ? `Stopped ${s.name} of ${s.owner_email}.` : `Logged out ${s.name} of ${s.owner_email}.`);

  return (
    <div class="page">
      <h1>All sessions</h1>
      <p class="muted">Every user's sessions. Stopping keeps the link; logging out unlinks the phone and wipes its credentials.</p>
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
      <section class="card table-card" aria-labelledby="all-sessions-h">
        <h2 id="all-sessions-h">Sessions{rows ? ` (${rows.length})` : ''}</h2>
        <div class="table-tools" role="search" aria-label="Filter all sessions">
          <label>
            Search
            <input type="search" name="admin-session-search" placeholder="Name, owner, phone" value={search}
              onInput={(e) => setSearch(e.currentTarget.value)} />
          </label>
          <button type="button" class="btn small" disabled={action.busy} onClick={() => void load()}>Refresh</button>
        </div>
        {!rows ? (
          <p class="muted">Loading…</p>
        ) : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="All sessions table">
            <table class="sessions-table" data-testid="admin-sessions-table">
              <caption class="sr-only">All sessions, {shown.length} shown</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Status</th>
                  <th scope="col">Phone</th>
                  <th scope="col">Node</th>
                  <th scope="col">Last connected</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((s) => (
                  <tr key={s.id} data-session-name={s.name} data-owner={s.owner_email} data-status={s.status}>
                    <td>{s.name}</td>
                    <td>{s.owner_email}</td>
                    <td><StatusBadge status={s.status} /></td>
                    <td class="mono">{phoneText(s.phone)}</td>
                    <td>{s.node ?? 'this server'}</td>
                    <td>{timeText(s.last_connected_at)}</td>
                    <td>
                      {confirming === s.id ? (
                        <span class="confirm-inline">
                          <button type="button" class="btn danger-solid small" disabled={action.busy} onClick={() => act(s, 'logout')}>
                            Really log out
                          </button>
                          <button type="button" class="btn ghost small" onClick={() => setConfirming('')}>Cancel</button>
                        </span>
                      ) : (
                        <span class="confirm-inline">
                          <button type="button" class="btn small" disabled={action.busy || STOPPED.has(s.status)}
                            aria-label={`Stop ${s.name} of ${s.owner_email}`} onClick={() => act(s, 'stop')}>
                            Stop
                          </button>
                          <button type="button" class="btn danger small" disabled={action.busy || !s.auth_paired}
                            aria-label={`Log out ${s.name} of ${s.owner_email}`} onClick={() => setConfirming(s.id)}>
                            Log out
                          </button>
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {rows && shown.length === 0 && <p class="empty">No session matches.</p>}
      </section>
    </div>
  );
}
