import { useState } from 'preact/hooks';
import { CARD_LIMIT } from '../state/sessionTable';
import { outage } from '../services';
import { CreateSessionForm } from './CreateSessionForm';
import { OutageBanner } from './OutageBanner';
import { SessionCard } from './SessionCard';
import { SessionTable } from './SessionTable';
import { Timeline } from './Timeline';
import { useSignal, useStore } from './hooks';
import { sortSessions } from './sessionList';

type View = 'cards' | 'table';
const VIEW_KEY = 'wahub.view';

function savedView(): View | null {
  try {
    const v = window.localStorage.getItem(VIEW_KEY);
    return v === 'cards' || v === 'table' ? v : null;
  } catch {
    return null;
  }
}

export function SessionsPage() {
  const sessions = useStore((s) => s.sessions);
  const down = useSignal(outage);
  const list = sortSessions(sessions);
  const [chosen, setChosen] = useState<View | null>(savedView);
  const view: View = chosen ?? (list.length > CARD_LIMIT ? 'table' : 'cards');
  const choose = (v: View) => {
    setChosen(v);
    try {
      window.localStorage.setItem(VIEW_KEY, v);
    } catch {
      /* not remembered */
    }
  };

  return (
    <div class={view === 'cards' ? 'page two-col' : 'page'}>
      <section aria-labelledby="sessions-h">
        <div class="section-head">
          <h1 id="sessions-h" tabIndex={-1}>Sessions <span class="count">({list.length})</span></h1>
          <div class="view-switch" role="group" aria-label="View">
            <button type="button" class="btn small" aria-pressed={view === 'cards'} onClick={() => choose('cards')}>Cards</button>
            <button type="button" class="btn small" aria-pressed={view === 'table'} onClick={() => choose('table')}>Table</button>
          </div>
        </div>
        <OutageBanner since={down} />
        <CreateSessionForm />
        {list.length === 0 ? (
          <p class="empty">No sessions yet. Create one to link a WhatsApp account.</p>
        ) : view === 'table' ? (
          <SessionTable sessions={list} />
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
      {view === 'cards' && <Timeline />}
    </div>
  );
}
