import { useEffect, useState } from 'preact/hooks';
import { HealthLine } from './HealthLine';
import { MessageList } from './MessageList';
import { SendForm } from './SendForm';
import { StatusBadge } from './StatusBadge';
import { useStore } from './hooks';
import { sortSessions } from './sessionList';
import { statusLabel } from './format';

export function MessagesPage() {
  const sessions = useStore((s) => s.sessions);
  const list = sortSessions(sessions);
  const primary = list.find((s) => s.is_primary) ?? list[0];
  const [selected, setSelected] = useState<string>('');

  // Preselect the primary session; fall back to it when the selection disappears.
  useEffect(() => {
    if (!selected || !sessions[selected]) setSelected(primary?.id ?? '');
  }, [primary?.id, selected, sessions]);

  const current = selected ? sessions[selected] : undefined;

  return (
    <div class="page">
      <h1>Messages</h1>
      {list.length === 0 ? (
        <p class="empty">Create and link a session first.</p>
      ) : (
        <>
          <div class="card">
            <label class="session-pick">
              Session
              <select name="session" value={selected} onChange={(e) => setSelected(e.currentTarget.value)}>
                {list.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.is_primary ? '★ ' : ''}{s.name} — {statusLabel(s.status)}
                  </option>
                ))}
              </select>
            </label>
            {current && (
              <div class="session-line">
                <StatusBadge status={current.status} />
                <HealthLine sessionId={current.id} />
              </div>
            )}
          </div>
          {current && <SendForm session={current} />}
          {current && <MessageList sessionId={current.id} />}
        </>
      )}
    </div>
  );
}
