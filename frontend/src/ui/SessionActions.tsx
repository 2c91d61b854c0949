import { useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { api, store } from '../services';
import { useAction } from './hooks';

const STARTABLE = new Set(['stopped', 'failed', 'logged_out']);

export function SessionActions({ session: s }: { session: Session }) {
  const { busy, error, run } = useAction();
  const [mode, setMode] = useState<'idle' | 'rename' | 'delete' | 'relink'>('idle');
  const [name, setName] = useState(s.name);

  const apply = (fn: () => Promise<Session>) =>
    void run(async () => {
      const updated = await fn();
      if (updated && typeof updated === 'object' && 'id' in updated) {
        store.dispatch({ type: 'session/upsert', session: updated });
      }
      setMode('idle');
    });

  const startable = STARTABLE.has(s.status);
  const linked = s.auth_paired || s.status === 'connected' || s.status === 'reconnecting';

  return (
    <div class="actions-wrap">
      <div class="actions" role="group" aria-label={`Actions for ${s.name}`}>
        {startable && (
          <button type="button" class="btn" disabled={busy} onClick={() => apply(() => api.startSession(s.id))}>
            Start
          </button>
        )}
        {!startable && (
          <button type="button" class="btn" disabled={busy} onClick={() => apply(() => api.stopSession(s.id))}>
            Stop
          </button>
        )}
        {linked && (
          <button type="button" class="btn" disabled={busy} onClick={() => apply(() => api.logoutSession(s.id))}>
            Log out device
          </button>
        )}
        <button type="button" class="btn" disabled={busy} onClick={() => setMode('relink')}>
          Force relink
        </button>
        <button type="button" class="btn" disabled={busy} onClick={() => { setName(s.name); setMode('rename'); }}>
          Rename
        </button>
        <button type="button" class="btn danger" disabled={busy} onClick={() => setMode('delete')}>
          Delete
        </button>
      </div>
      {mode === 'rename' && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); apply(() => api.renameSession(s.id, name.trim())); }}>
          <label>
            New name
            <input value={name} required maxLength={64} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn primary" disabled={busy}>Save</button>
          <button type="button" class="btn ghost" onClick={() => setMode('idle')}>Cancel</button>
        </form>
      )}
      {mode === 'relink' && (
        <div class="confirm" role="alertdialog" aria-label="Confirm force relink">
          <p>Wipe the stored credentials of “{s.name}” and link it again with a new QR code?</p>
          <button type="button" class="btn primary" autoFocus disabled={busy}
            onClick={() => apply(() => api.startSession(s.id, true))}>
            Relink
          </button>
          <button type="button" class="btn ghost" onClick={() => setMode('idle')}>Cancel</button>
        </div>
      )}
      {mode === 'delete' && (
        <div class="confirm" role="alertdialog" aria-label="Confirm delete">
          <p>Delete “{s.name}”? The device is logged out and its credentials are wiped.</p>
          <button type="button" class="btn danger" autoFocus disabled={busy}
            onClick={() =>
              void run(async () => {
                await api.deleteSession(s.id);
                store.dispatch({ type: 'session/removed', id: s.id });
              })
            }>
            Delete session
          </button>
          <button type="button" class="btn ghost" onClick={() => setMode('idle')}>Cancel</button>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
