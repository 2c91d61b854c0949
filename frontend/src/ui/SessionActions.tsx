import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { api, store } from '../services';
import { NoticeLine } from './NoticeLine';
import { focusSoon, useAction } from './hooks';

const STARTABLE = new Set(['stopped', 'failed', 'logged_out']);

/** Linked at least once: only then are there credentials that a relink would wipe. */
export function everLinked(s: Session): boolean {
  return s.auth_paired || s.last_connected_at !== null || s.status === 'connected' || s.status === 'reconnecting';
}

export function SessionActions({ session: s, afterDelete }: { session: Session; afterDelete?: () => void }) {
  const action = useAction(s.status);
  const [mode, setMode] = useState<'idle' | 'rename' | 'delete' | 'relink'>('idle');
  const [name, setName] = useState(s.name);
  const renameBtn = useRef<HTMLButtonElement>(null);
  const relinkBtn = useRef<HTMLButtonElement>(null);
  const deleteBtn = useRef<HTMLButtonElement>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const confirmBtn = useRef<HTMLButtonElement>(null);

  // Focus goes where the typing or the decision happens.
  useEffect(() => {
    if (mode === 'rename') nameInput.current?.focus();
    if (mode === 'delete' || mode === 'relink') confirmBtn.current?.focus();
  }, [mode]);

  const close = (back: { current: HTMLButtonElement | null }) => {
    setMode('idle');
    focusSoon(() => back.current);
  };

  const apply = (fn: () => Promise<Session>, done: string, back?: { current: HTMLButtonElement | null }) =>
    void action.run(async () => {
      const updated = await fn();
      if (updated && typeof updated === 'object' && 'id' in updated) {
        store.dispatch({ type: 'session/upsert', session: updated });
      }
      if (back) close(back);
      else setMode('idle');
    }, { tone: 'info', text: done });

  const startable = STARTABLE.has(s.status);
  const linked = s.auth_paired || s.status === 'connected' || s.status === 'reconnecting';

  return (
    <div class="actions-wrap">
      <div class="actions" role="group" aria-label={`Actions for ${s.name}`}>
        {startable && (
          <button type="button" class="btn" disabled={action.busy} onClick={() => apply(() => api.startSession(s.id), 'Starting.')}>
            Start
          </button>
        )}
        {!startable && (
          <button type="button" class="btn" disabled={action.busy} onClick={() => apply(() => api.stopSession(s.id), 'Stopped.')}>
            Stop
          </button>
        )}
        {linked && (
          <button type="button" class="btn" disabled={action.busy} onClick={() => apply(() => api.logoutSession(s.id), 'Logged out.')}>
            Log out device
          </button>
        )}
        {everLinked(s) && (
          <button type="button" class="btn" ref={relinkBtn} disabled={action.busy} aria-expanded={mode === 'relink'}
            onClick={() => setMode('relink')}>
            Force relink
          </button>
        )}
        <button type="button" class="btn" ref={renameBtn} disabled={action.busy} aria-expanded={mode === 'rename'}
          onClick={() => { setName(s.name); setMode('rename'); }}>
          Rename
        </button>
        <button type="button" class="btn danger" ref={deleteBtn} disabled={action.busy} aria-expanded={mode === 'delete'}
          onClick={() => setMode('delete')}>
          Delete
        </button>
      </div>
      {mode === 'rename' && (
        <form class="inline-form" aria-label={`Rename ${s.name}`}
          onSubmit={(e) => { e.preventDefault(); apply(() => api.renameSession(s.id, name.trim()), 'Renamed.', renameBtn); }}
          onKeyDown={(e) => { if (e.key === 'Escape') close(renameBtn); }}>
          <label>
            New name
            <input ref={nameInput} value={name} required maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn primary" disabled={action.busy}>Save</button>
          <button type="button" class="btn ghost" onClick={() => close(renameBtn)}>Cancel</button>
        </form>
      )}
      {mode === 'relink' && (
        <div class="confirm confirm-danger" role="alertdialog" aria-label={`Confirm force relink of ${s.name}`}
          onKeyDown={(e) => { if (e.key === 'Escape') close(relinkBtn); }}>
          <p>Wipe the stored credentials of “{s.name}” and link it again with a new QR code? The phone has to scan again.</p>
          <button type="button" class="btn danger-solid" ref={confirmBtn} disabled={action.busy}
            onClick={() => apply(() => api.startSession(s.id, true), 'Credentials wiped; scan the new QR code.', relinkBtn)}>
            Wipe and relink
          </button>
          <button type="button" class="btn ghost" onClick={() => close(relinkBtn)}>Cancel</button>
        </div>
      )}
      {mode === 'delete' && (
        <div class="confirm confirm-danger" role="alertdialog" aria-label={`Confirm delete of ${s.name}`}
          onKeyDown={(e) => { if (e.key === 'Escape') close(deleteBtn); }}>
          <p>Delete “{s.name}”? The device is logged out and its credentials are wiped.</p>
          <button type="button" class="btn danger-solid" ref={confirmBtn} disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                await api.deleteSession(s.id);
                store.dispatch({ type: 'session/removed', id: s.id });
                if (afterDelete) afterDelete();
                else focusSoon(() => document.querySelector<HTMLElement>('main h1'));
              })
            }>
            Delete session
          </button>
          <button type="button" class="btn ghost" onClick={() => close(deleteBtn)}>Cancel</button>
        </div>
      )}
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
    </div>
  );
}
