import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/errors';
import { api, store } from '../services';
import { phoneText, timeText } from './format';
import { messageBody, messagePeer } from '../state/chats';
import { useStore } from './hooks';

export function MessageList({ sessionId }: { sessionId: string }) {
  const messages = useStore((s) => s.messages[sessionId]);
  const epoch = useStore((s) => s.epoch);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    api.listMessages(sessionId).then(
      (list) => {
        if (cancelled) return;
        store.dispatch({ type: "messages/loaded", sessionId, messages: list });
        setError("");
      },
      (e) => {
        if (!cancelled) setError(describeError(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [sessionId, epoch]);

  return (
    <section class="card" aria-labelledby="msgs-h">
      <h2 id="msgs-h">Recent messages</h2>
      {error && <p class="notice notice-error" role="alert">{error}</p>}
      {!messages ? (
        <p class="muted">Loading…</p>
      ) : messages.length === 0 ? (
        <p class="muted">No messages yet.</p>
      ) : (
        <ul class="messages" data-testid="messages">
          {messages.map((m) => (
            <li key={m.id} class={`msg ${m.direction}`} data-message-id={m.id}>
              <div class="msg-head">
                <span class="dir">{m.direction === 'out' ? '→ to' : '← from'} {phoneText(messagePeer(m))}</span>
                <span class={`msg-status st-${m.status}`}>{m.status}</span>
              </div>
              <p class="msg-text">{messageBody(m)}</p>
              <div class="msg-foot">
                <time>{timeText(typeof m.created_at === 'string' ? m.created_at : null)}</time>
                {m.error && <span class="error">{m.error}</span>}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
