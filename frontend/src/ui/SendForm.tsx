import { useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { api, store } from '../services';
import { useAction } from './hooks';

export function SendForm({ session }: { session: Session }) {
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [sent, setSent] = useState('');
  const { busy, error, run } = useAction();

  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      setSent('');
      const res = await api.sendText(session.id, to.trim(), text);
      store.dispatch({
        type: 'message/sent',
        message: {
          id: res.id,
          session_id: res.session_id || session.id,
          status: res.status,
          direction: 'out',
          peer: to.trim(),
          text,
          created_at: new Date().toISOString(),
        },
      });
      setText('');
      setSent(`Message ${res.status}.`);
    });
  };

  return (
    <form class="card send" onSubmit={submit} aria-label="Send a message">
      <h2>Send a text from “{session.name}”</h2>
      <label>
        To (phone)
        <input name="to" type="tel" inputMode="tel" required value={to} placeholder="6281234567890"
          onInput={(e) => setTo(e.currentTarget.value)} />
      </label>
      <label>
        Text
        <textarea name="text" required rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <button type="submit" class="btn primary" disabled={busy}>{busy ? 'Sending…' : 'Send'}</button>
      {sent && <p class="ok-text" role="status">{sent}</p>}
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
