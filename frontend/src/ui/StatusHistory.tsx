import { useEffect, useState } from 'preact/hooks';
import type { ServerEvent } from '../api/types';
import { HISTORY_PAGE, type StatusEntry, mergeEntries, pageBefore, statusEntries } from '../state/history';
import type { TimelineEntry } from '../state/state';
import { api } from '../services';
import { NoticeLine } from './NoticeLine';
import { reasonText, statusLabel, timeText } from './format';
import { useAction, useStore } from './hooks';

/** A session's status changes from the server's event log, read backwards page by page. */
export function StatusHistory({ sessionId }: { sessionId: string }) {
  const [entries, setEntries] = useState<StatusEntry[]>([]);
  const [end, setEnd] = useState<number | null>(null);
  const [scanned, setScanned] = useState(0);
  const lastSeq = useStore((s) => s.lastSeq);
  const live = useStore((s) => s.timeline);
  const action = useAction();

  const loadBefore = (from: number) =>
    void action.run(async () => {
      const page = pageBefore(from);
      if (!page) {
        setEnd(0);
        return;
      }
      const events: ServerEvent[] = await api.events(page.since, page.limit);
      setEntries((cur) => mergeEntries(cur, statusEntries(events, sessionId)));
      setScanned((n) => n + events.length);
      setEnd(page.since);
    });

  // Start from the newest event once the live stream told us where the log ends.
  useEffect(() => {
    if (end === null && lastSeq !== null) loadBefore(lastSeq + 1);
  }, [lastSeq, end]);

  // Changes that arrive live join the list without another read.
  const shown = mergeEntries(entries, liveStatus(live, sessionId));

  return (
    <section class="card" aria-labelledby="history-h" data-testid="status-history">
      <h2 id="history-h">Status history</h2>
      {shown.length === 0 && end !== null && <p class="muted">No status changes in the log yet.</p>}
      {shown.length > 0 && (
        <ol class="history" tabIndex={0} aria-label="Status changes, newest first">
          {shown.map((e) => (
            <li key={e.seq} data-seq={e.seq}>
              <time dateTime={e.at}>{timeText(e.at)}</time>
              <span class="history-text">
                {e.previous && e.previous !== e.status ? `${statusLabel(e.previous)} → ` : ''}
                <strong>{statusLabel(e.status)}</strong>
                {e.reason ? `: ${reasonText(e.reason)}` : ''}
              </span>
            </li>
          ))}
        </ol>
      )}
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
      {end !== null && end > 0 && (
        <button type="button" class="btn small" disabled={action.busy} onClick={() => loadBefore(end)}>
          Show older status changes
        </button>
      )}
      <p class="muted small" data-testid="history-scanned">
        {end === 0 ? 'This is the start of the log' : `Read the newest ${scanned} events of the log; each step reads ${HISTORY_PAGE} more`}.
      </p>
    </section>
  );
}

function liveStatus(timeline: TimelineEntry[], sessionId: string): StatusEntry[] {
  return timeline
    .filter((t) => t.event === 'session.status' && t.sessionId === sessionId && t.status)
    .map((t) => ({ seq: t.seq, at: t.at, status: t.status ?? '', previous: t.previous ?? null, reason: t.reason ?? null }));
}
