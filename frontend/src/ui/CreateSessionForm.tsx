import { useState } from 'preact/hooks';
import { api, store } from '../services';
import { NoticeLine } from './NoticeLine';
import { cardHeadingId } from './SessionCard';
import { focusSoon, useAction } from './hooks';

export function CreateSessionForm({ onCreated }: { onCreated?: (id: string) => void }) {
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  // An error is about what was typed: editing it makes the error stale.
  const action = useAction(`${name}|${phone}`);

  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const s = await api.createSession(name.trim(), phone.trim() || undefined);
      store.dispatch({ type: 'session/upsert', session: s });
      setName('');
      setPhone('');
      if (onCreated) onCreated(s.id);
      // The new session's card is where the next step happens: one Tab reaches its actions.
      focusSoon(() => document.getElementById(cardHeadingId(s.id)) ?? document.querySelector<HTMLElement>(`[data-row-id="${s.id}"] a`));
    });
  };

  return (
    <form class="card create" onSubmit={submit} aria-label="New session">
      <h2>New session</h2>
      <div class="row">
        <label>
          Name
          <input name="name" required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          <span>Phone <span class="muted">(optional)</span></span>
          <input name="phone" type="tel" inputMode="tel" placeholder="+6281234567890" value={phone}
            onInput={(e) => setPhone(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create session'}
        </button>
      </div>
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
    </form>
  );
}
