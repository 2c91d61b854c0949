import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Message, Session } from '../api/types';
import { groupByChat, mergePages, messageBody, searchMessages } from '../state/chats';
import { laterStatus } from '../state/messageStatus';
import { api } from '../services';
import { NoticeLine } from './NoticeLine';
import { SendForm } from './SendForm';
import { phoneText, timeText } from './format';
import { useAction, useStore } from './hooks';

const PAGE = 50;

function withUpdates(rows: Message[], pending: Record<string, { status: string; error: string | null }>): Message[] {
  return rows.map((m) => {
    const u = pending[m.id];
    return u ? { ...m, status: laterStatus(m.status, u.status), error: u.error ?? m.error ?? null } : m;
  });
}

/** A session's messages grouped by chat, paged back through the server, searchable. */
export function ChatsPanel({ session }: { session: Session }) {
  const live = useStore((s) => s.messages[session.id]);
  const epoch = useStore((s) => s.epoch);
  // Rows read page by page live here, not in the store: their status events wait in
  // `pendingUpdates` and are applied on the way to the screen.
  const pending = useStore((s) => s.pendingUpdates);
  const [older, setOlder] = useState<Message[]>([]);
  const [exhausted, setExhausted] = useState(false);
  const [query, setQuery] = useState('');
  const [peer, setPeer] = useState<string | null>(null);
  const action = useAction();

  const all = useMemo(() => mergePages(live ?? [], withUpdates(older, pending)), [live, older, pending]);
  const chats = useMemo(() => groupByChat(searchMessages(all, query)), [all, query]);
  const current = chats.find((c) => c.peer === peer) ?? null;

  const loadPage = (before?: string) =>
    void action.run(async () => {
      const page = await api.listMessages(session.id, PAGE, before);
      setOlder((cur) => mergePages(cur, page));
      if (page.length < PAGE) setExhausted(true);
    });

  useEffect(() => {
    setOlder([]);
    setExhausted(false);
    loadPage();
  }, [session.id, epoch]);

  const oldest = all.length ? all[all.length - 1].created_at : undefined;

  return (
    <section class="card chats" aria-labelledby="chats-h" data-testid="chats">
      <h2 id="chats-h">Messages by chat</h2>
      <div class="row">
        <label>
          Search messages
          <input type="search" name="message-search" value={query} placeholder="Words or a phone number"
            onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
      </div>
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
      <div class="chat-grid">
        <div>
          <h3 class="small-h">Chats ({chats.length})</h3>
          {chats.length === 0 ? (
            <p class="muted">{query ? 'No message matches.' : 'No messages yet.'}</p>
          ) : (
            <ul class="chat-list">
              {chats.map((c) => (
                <li key={c.peer}>
                  <button type="button" class="chat-item" aria-pressed={c.peer === current?.peer}
                    data-peer={c.peer} onClick={() => setPeer(c.peer)}>
                    <span class="chat-peer">{phoneText(c.peer)}</span>
                    <span class="muted small">{c.messages.length} message{c.messages.length === 1 ? '' : 's'} · {timeText(String(c.last.created_at ?? ''))}</span>
                    <span class="chat-last">{messageBody(c.last).slice(0, 80)}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          {!exhausted && (
            <button type="button" class="btn small" disabled={action.busy} onClick={() => loadPage(oldest)}>
              Load older messages
            </button>
          )}
          {exhausted && all.length > 0 && <p class="muted small">All {all.length} messages are loaded.</p>}
        </div>
        <div>
          {current ? (
            <>
              <h3 class="small-h">Chat with {phoneText(current.peer)}</h3>
              <ul class="messages" data-testid="chat-messages" tabIndex={0} aria-label={`Messages with ${phoneText(current.peer)}, newest first`}>
                {current.messages.map((m) => (
                  <li key={m.id} class={`msg ${m.direction}`} data-message-id={m.id}>
                    <div class="msg-head">
                      <span class="dir">{m.direction === 'out' ? 'Sent' : 'Received'}</span>
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
              <SendForm session={session} to={current.peer} />
            </>
          ) : (
            <>
              <p class="muted">Choose a chat, or start a new one.</p>
              <SendForm session={session} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}
