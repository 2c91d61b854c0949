import { useEffect, useState } from 'preact/hooks';
import { api, outage, store } from '../services';
import { ChatsPanel } from './ChatsPanel';
import { HealthLine } from './HealthLine';
import { OutageBanner } from './OutageBanner';
import { QrPanel } from './QrPanel';
import { SessionActions } from './SessionActions';
import { SimulatorBox } from './SimulatorBox';
import { StatusBadge } from './StatusBadge';
import { StatusHistory } from './StatusHistory';
import { phoneText, reasonText, timeText } from './format';
import { useSignal, useStore } from './hooks';
import { navigate, onLinkClick } from './router';

const LINKING = new Set(['starting', 'scan_qr', 'pairing']);

/** One session in depth: facts, health, linking, status history and its chats. */
export function SessionDetailPage({ id }: { id: string }) {
  const s = useStore((st) => st.sessions[id]);
  const loaded = useStore((st) => st.lastSeq !== null);
  const down = useSignal(outage);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    api.getSession(id).then((fresh) => store.dispatch({ type: 'session/details', session: fresh }), () => setMissing(true));
  }, [id]);

  const back = (
    <a href="/sessions" class="back" onClick={onLinkClick('/sessions')}>← All sessions</a>
  );
  if (!s) {
    return (
      <div class="page">
        {back}
        <h1 tabIndex={-1}>{missing || loaded ? 'Session not found' : 'Loading…'}</h1>
        {(missing || loaded) && <p class="muted">It may have been deleted, or it belongs to someone else.</p>}
      </div>
    );
  }
  return (
    <div class="page detail" data-session-id={s.id} data-session-name={s.name} data-status={s.status}>
      {back}
      {/* The h1 stays the same element from "Loading…" to the name, so its focus survives. */}
      <h1 tabIndex={-1}>{s.name}</h1>
      <div class="detail-head">
        {s.is_primary && <span class="primary-mark">★ Primary</span>}
        <StatusBadge status={s.status} unknownSince={down} />
      </div>
      <OutageBanner since={down} />
      {s.status_reason && !down && <p class="reason">Reason: {reasonText(s.status_reason)}</p>}
      <div class="detail-grid">
        <section class="card" aria-labelledby="facts-h">
          <h2 id="facts-h">Details</h2>
          <dl class="facts">
            <div><dt>Phone</dt><dd data-field="phone">{phoneText(s.phone)}</dd></div>
            <div><dt>Push name</dt><dd data-field="push_name">{s.push_name || '—'}</dd></div>
            <div><dt>Engine</dt><dd>{s.engine}</dd></div>
            {s.node && <div><dt>Node</dt><dd>{s.node}</dd></div>}
            <div><dt>Created</dt><dd>{timeText(s.created_at)}</dd></div>
            <div><dt>Last connected</dt><dd>{timeText(s.last_connected_at)}</dd></div>
            <div><dt>Last disconnected</dt><dd>{timeText(s.last_disconnected_at)}</dd></div>
            <div><dt>Last activity</dt><dd>{timeText(s.last_activity_at)}</dd></div>
          </dl>
          <h3 class="small-h">Health and daily usage</h3>
          <HealthLine sessionId={s.id} />
          {LINKING.has(s.status) && !down && <QrPanel session={s} />}
          <SessionActions session={s} afterDelete={() => navigate('/sessions')} />
          {s.engine === 'sim' && <SimulatorBox session={s} />}
        </section>
        <StatusHistory sessionId={s.id} />
      </div>
      <ChatsPanel session={s} />
    </div>
  );
}
