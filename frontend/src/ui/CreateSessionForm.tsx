import { useState } from 'preact/hooks';
import { api, store } from '../services';
import { useAction } from './hooks';

export function CreateSessionForm() {
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const { busy, error, run } = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const s = await api.createSession(name.trim(), phone.trim() || undefined);
      store.dispatch({ type: 'session/upsert', session: s });
      setName('');
      setPhone('');
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
          <input name="phone" type="tel" inputMode="tel" placeholder="+62 812 3456 7890" value={phone}
            onInput={(e) => setPhone(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create session'}
        </button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
