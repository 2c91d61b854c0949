import { useEffect, useState } from 'preact/hooks';
import type { Message } from '../api/types';
import { describeError } from '../api/errors';
import { api, store } from '../services';
import { timeText } from './format';
import { useStore } from './hooks';

function peer(m: Message): string {
  const v = m.peer ?? (m.direction === 'out' ? m.to ?? m.chat : m.from ?? m.chat);
  return typeof v === 'string' && v ? v : '—';
}

function body(m: Message): string {
  if (typeof m.text === 'string' && m.text) return m.text;
  const media = m.media as { caption?: string; mimetype?: string } | undefined;
  if (media) return media.caption || `[${media.mimetype ?? 'media'}]`;
  return '';
}

export function MessageList({ sessionId }: { sessionId: string }) {
  const messages = useStore((s) => s.messages[sessionId]);
  const epoch = useStore((s) => s.epoch);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    api.listMessages(sessionId).then(
      (list) => {
        if (!cancelled) store.dispatch({ type: 'messages/loaded', sessionId, messages: list });
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
      {error && <p class="error" role="alert">{error}</p>}
      {!messages ? (
        <p class="muted">Loading…</p>
      ) : messages.length === 0 ? (
        <p class="muted">No messages yet.</p>
      ) : (
        <ul class="messages" data-testid="messages">
          {messages.map((m) => (
            <li key={m.id} class={`msg ${m.direction}`} data-message-id={m.id}>
              <div class="msg-head">
                <span class="dir">{m.direction === 'out' ? '→ to' : '← from'} {peer(m)}</span>
                <span class={`msg-status st-${m.status}`}>{m.status}</span>
              </div>
              <p class="msg-text">{body(m)}</p>
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
