import type { Session } from '../api/types';
import { api, store } from '../services';
import { HealthLine } from './HealthLine';
import { QrPanel } from './QrPanel';
import { SessionActions } from './SessionActions';
import { SimulatorBox } from './SimulatorBox';
import { StatusBadge } from './StatusBadge';
import { phoneText, reasonText, timeText } from './format';
import { useAction } from './hooks';

const LINKING = new Set(['starting', 'scan_qr', 'pairing']);

export function SessionCard({ session: s }: { session: Session }) {
  const primary = useAction();
  const makePrimary = () =>
    void primary.run(async () => {
      const updated = await api.makePrimary(s.id);
      store.dispatch({ type: 'session/upsert', session: updated });
    });

  return (
    <article class={`card session tone-border-${s.status}`} aria-labelledby={`sname-${s.id}`}
      data-session-id={s.id} data-session-name={s.name} data-status={s.status}>
      <header class="session-head">
        <button
          type="button"
          class={`star ${s.is_primary ? 'on' : ''}`}
          aria-pressed={s.is_primary}
          aria-label={s.is_primary ? `${s.name} is the primary session` : `Make ${s.name} the primary session`}
          title={s.is_primary ? 'Primary session' : 'Make primary'}
          disabled={s.is_primary || primary.busy}
          onClick={makePrimary}
        >
          {s.is_primary ? '★' : '☆'}
        </button>
        <h3 id={`sname-${s.id}`}>{s.name}</h3>
        <StatusBadge status={s.status} />
      </header>
      {s.status_reason && <p class="reason">Reason: {reasonText(s.status_reason)}</p>}
      {primary.error && <p class="error" role="alert">{primary.error}</p>}
      <dl class="facts">
        <div><dt>Phone</dt><dd data-field="phone">{phoneText(s.phone)}</dd></div>
        <div><dt>Push name</dt><dd data-field="push_name">{s.push_name || '—'}</dd></div>
        <div><dt>Last connected</dt><dd>{timeText(s.last_connected_at)}</dd></div>
        <div><dt>Engine</dt><dd>{s.engine}</dd></div>
      </dl>
      {LINKING.has(s.status) && <QrPanel session={s} />}
      {s.status === 'connected' && <HealthLine sessionId={s.id} />}
      <SessionActions session={s} />
      {s.engine === 'sim' && <SimulatorBox session={s} />}
    </article>
  );
}
