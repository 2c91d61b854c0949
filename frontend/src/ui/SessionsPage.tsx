import { CreateSessionForm } from './CreateSessionForm';
import { SessionCard } from './SessionCard';
import { Timeline } from './Timeline';
import { useStore } from './hooks';
import { sortSessions } from './sessionList';

export function SessionsPage() {
  const sessions = useStore((s) => s.sessions);
  const list = sortSessions(sessions);
  return (
    <div class="page two-col">
      <section aria-labelledby="sessions-h">
        <div class="section-head">
          <h1 id="sessions-h">Sessions</h1>
        </div>
        <CreateSessionForm />
        {list.length === 0 ? (
          <p class="empty">No sessions yet. Create one to link a WhatsApp account.</p>
        ) : (
          <ul class="cards" aria-label="Your sessions">
            {list.map((s) => (
              <li key={s.id}>
                <SessionCard session={s} />
              </li>
            ))}
          </ul>
        )}
      </section>
      <Timeline />
    </div>
  );
}
