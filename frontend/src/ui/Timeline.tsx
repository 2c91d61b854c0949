import { clockText } from './format';
import { useStore } from './hooks';

export function Timeline() {
  const timeline = useStore((s) => s.timeline);
  const sessions = useStore((s) => s.sessions);
  return (
    <aside class="card timeline" aria-labelledby="timeline-h" tabIndex={0}>
      <h2 id="timeline-h">Live events</h2>
      {timeline.length === 0 ? (
        <p class="muted">Nothing yet. Events appear here as they happen.</p>
      ) : (
        <ol aria-live="polite" aria-relevant="additions">
          {timeline.slice(0, 60).map((t) => (
            <li key={t.seq}>
              <time dateTime={t.at}>{clockText(t.at)}</time>
              <span class="ev-name">{t.sessionId ? sessions[t.sessionId]?.name ?? 'session' : 'account'}</span>
              <span class="ev-text">{t.summary}</span>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
