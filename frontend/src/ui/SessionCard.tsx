import type { Session } from '../api/types';
import { api, outage, store } from '../services';
import { HealthLine } from './HealthLine';
import { NoticeLine } from './NoticeLine';
import { QrPanel } from './QrPanel';
import { SessionActions } from './SessionActions';
import { SimulatorBox } from './SimulatorBox';
import { StatusBadge } from './StatusBadge';
import { phoneText, reasonText, timeText } from './format';
import { useAction, useSignal } from './hooks';
import { onLinkClick } from './router';

const LINKING = new Set(['starting', 'scan_qr', 'pairing']);

export function cardHeadingId(id: string): string {
  return `sname-${id}`;
}

export function SessionCard({ session: s }: { session: Session }) {
  const down = useSignal(outage);
  const primary = useAction(s.is_primary);
  const makePrimary = () =>
    void primary.run(async () => {
      const updated = await api.makePrimary(s.id);
      store.dispatch({ type: 'session/upsert', session: updated });
    });
  const detail = `/sessions/${s.id}`;

  return (
    <article class={`card session tone-border-${down ? 'unknown' : s.status}`} aria-labelledby={cardHeadingId(s.id)}
      data-session-id={s.id} data-session-name={s.name} data-status={s.status} data-stale={down ? 'true' : undefined}>
      <header class="session-head">
        <h3 id={cardHeadingId(s.id)} tabIndex={-1}>
          <a href={detail} onClick={onLinkClick(detail)}>{s.name}</a>
        </h3>
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
        <StatusBadge status={s.status} unknownSince={down} />
      </header>
      {s.status_reason && !down && <p class="reason">Reason: {reasonText(s.status_reason)}</p>}
      <NoticeLine notice={primary.notice} onDismiss={primary.dismiss} />
      <dl class="facts">
        <div><dt>Phone</dt><dd data-field="phone">{phoneText(s.phone)}</dd></div>
        <div><dt>Push name</dt><dd data-field="push_name">{s.push_name || '—'}</dd></div>
        <div><dt>Last connected</dt><dd>{timeText(s.last_connected_at)}</dd></div>
        <div><dt>Engine</dt><dd>{s.engine}</dd></div>
      </dl>
      {LINKING.has(s.status) && !down && <QrPanel session={s} />}
      {s.status === 'connected' && !down && <HealthLine sessionId={s.id} />}
      <SessionActions session={s} />
      {s.engine === 'sim' && <SimulatorBox session={s} />}
    </article>
  );
}
