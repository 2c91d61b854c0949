import { useEffect, useRef, useState } from 'preact/hooks';
import type { Webhook, WebhookDelivery } from '../api/types';
import { eventsChosen, eventsToSend, newSecret } from '../state/webhookEvents';
import { api } from '../services';
import { EventChooser } from './EventChooser';
import { NoticeLine } from './NoticeLine';
import { OneTimeSecret } from './OneTimeSecret';
import { timeText } from './format';
import { focusSoon, useAction } from './hooks';

const DELIVERY_STATUS: Record<string, string> = { pending: 'Pending', delivered: 'Delivered', failed: 'Failed' };

/** One webhook: pause, edit events, rotate the secret, delete, and its delivery log. */
export function WebhookItem({ hook: w, onChanged, onDeleted }: {
  hook: Webhook; onChanged: (w: Webhook) => void; onDeleted: (id: string) => void;
}) {
  const [mode, setMode] = useState<'idle' | 'edit' | 'delete' | 'rotate'>('idle');
  const [chosen, setChosen] = useState<Set<string>>(() => eventsChosen(w.events));
  const [secret, setSecret] = useState('');
  const [log, setLog] = useState<WebhookDelivery[] | null>(null);
  const action = useAction(w.active);
  const logAction = useAction();
  const confirmBtn = useRef<HTMLButtonElement>(null);
  const editFirst = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (mode === 'delete' || mode === 'rotate') confirmBtn.current?.focus();
    if (mode === 'edit') editFirst.current?.querySelector<HTMLInputElement>('input')?.focus();
  }, [mode]);

  const loadLog = () => logAction.run(async () => setLog(await api.deliveries(w.id, 50)));
  const headingId = `hook-${w.id}`;

  return (
    <article class={`card hook ${w.active ? '' : 'paused'}`} aria-labelledby={headingId} data-webhook-id={w.id} data-active={String(w.active)}>
      <header class="session-head">
        <h3 id={headingId} tabIndex={-1} class="mono">{w.url}</h3>
        <span class={`badge ${w.active ? 'tone-ok' : 'tone-muted'}`}>{w.active ? 'Active' : 'Paused'}</span>
      </header>
      <p class="small">Events: {w.events.map((e) => <code key={e} class="chip">{e}</code>)}</p>
      <p class="muted small">Created {timeText(w.created_at)}</p>
      <div class="actions" role="group" aria-label={`Actions for webhook ${w.url}`}>
        <button type="button" class="btn small" disabled={action.busy}
          onClick={() => void action.run(async () => onChanged(await api.updateWebhook(w.id, { active: !w.active })),
            { tone: 'info', text: w.active ? 'Paused: no events are sent until you resume.' : 'Resumed.' })}>
          {w.active ? 'Pause' : 'Resume'}
        </button>
        <button type="button" class="btn small" aria-expanded={mode === 'edit'} onClick={() => { setChosen(eventsChosen(w.events)); setMode('edit'); }}>
          Edit events
        </button>
        <button type="button" class="btn small" aria-expanded={mode === 'rotate'} onClick={() => setMode('rotate')}>Rotate secret</button>
        <button type="button" class="btn small" aria-expanded={log !== null} onClick={() => (log ? setLog(null) : void loadLog())}>
          {log ? 'Hide deliveries' : 'Show deliveries'}
        </button>
        <button type="button" class="btn small danger" aria-expanded={mode === 'delete'} onClick={() => setMode('delete')}>Delete</button>
      </div>
      {mode === 'edit' && (
        <form class="inline-edit" aria-label={`Events of ${w.url}`} onSubmit={(e) => {
          e.preventDefault();
          if (chosen.size === 0) {
            action.say({ tone: 'error', text: 'Choose at least one event.' });
            return;
          }
          void action.run(async () => {
            onChanged(await api.updateWebhook(w.id, { events: eventsToSend(chosen) }));
            setMode('idle');
            focusSoon(() => document.getElementById(headingId));
          }, 'Events saved.');
        }}>
          <div ref={editFirst}><EventChooser chosen={chosen} onChange={setChosen} legend="Events to send" /></div>
          <div class="actions">
            <button type="submit" class="btn primary small" disabled={action.busy}>Save events</button>
            <button type="button" class="btn ghost small" onClick={() => setMode('idle')}>Cancel</button>
          </div>
        </form>
      )}
      {mode === 'rotate' && (
        <div class="confirm confirm-danger" role="alertdialog" aria-label={`Confirm secret rotation for ${w.url}`}>
          <p>Make a new signing secret? The old one stops working at once: update your receiver with the new one.</p>
          <button type="button" class="btn danger-solid small" ref={confirmBtn} disabled={action.busy}
            onClick={() => void action.run(async () => {
              const fresh = newSecret();
              onChanged(await api.updateWebhook(w.id, { secret: fresh }));
              setSecret(fresh);
              setMode('idle');
            })}>
            Rotate secret
          </button>
          <button type="button" class="btn ghost small" onClick={() => setMode('idle')}>Cancel</button>
        </div>
      )}
      {mode === 'delete' && (
        <div class="confirm confirm-danger" role="alertdialog" aria-label={`Confirm delete of webhook ${w.url}`}>
          <p>Delete this webhook and its delivery log? Pending deliveries are dropped.</p>
          <button type="button" class="btn danger-solid small" ref={confirmBtn} disabled={action.busy}
            onClick={() => void action.run(async () => {
              await api.deleteWebhook(w.id);
              onDeleted(w.id);
              focusSoon(() => document.querySelector<HTMLElement>('main h1'));
            })}>
            Delete webhook
          </button>
          <button type="button" class="btn ghost small" onClick={() => setMode('idle')}>Cancel</button>
        </div>
      )}
      {secret && <OneTimeSecret title={`New signing secret for ${w.url}`} value={secret} onDone={() => setSecret('')} />}
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
      {log && (
        <section aria-label={`Deliveries of ${w.url}`} data-testid="deliveries">
          <div class="row">
            <h4>Delivery log</h4>
            <button type="button" class="btn small" disabled={logAction.busy} onClick={() => void loadLog()}>Refresh</button>
          </div>
          {log.length === 0 ? (
            <p class="muted">No deliveries yet.</p>
          ) : (
            <div class="table-scroll" tabIndex={0} role="region" aria-label={`Delivery table of ${w.url}`}>
              <table class="deliveries">
                <caption class="sr-only">Deliveries, newest first</caption>
                <thead>
                  <tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Action</span></th></tr>
                </thead>
                <tbody>
                  {log.map((d) => (
                    <tr key={d.id} data-delivery-id={d.id} data-status={d.status}>
                      <td><code>{d.event}</code></td>
                      <td><span class={`badge ${d.status === 'delivered' ? 'tone-ok' : d.status === 'failed' ? 'tone-bad' : 'tone-warn'}`}>{DELIVERY_STATUS[d.status] ?? d.status}</span></td>
                      <td data-field="attempts">{d.attempts}</td>
                      <td>
                        {d.last_status_code ? `HTTP ${d.last_status_code}` : ''}
                        {d.last_error ? <span class="muted small"> {d.last_error}</span> : ''}
                        {d.next_attempt_at ? <span class="muted small"> next try {timeText(d.next_attempt_at)}</span> : ''}
                      </td>
                      <td>{timeText(d.created_at)}</td>
                      <td>
                        <button type="button" class="btn small" disabled={logAction.busy}
                          aria-label={`Redeliver ${d.event} from ${timeText(d.created_at)}`}
                          onClick={() => void logAction.run(async () => {
                            await api.redeliver(w.id, d.id);
                            setLog(await api.deliveries(w.id, 50));
                          }, 'Queued again as a new delivery.')}>
                          Redeliver
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <NoticeLine notice={logAction.notice} onDismiss={logAction.dismiss} />
        </section>
      )}
    </article>
  );
}
