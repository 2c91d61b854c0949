import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry } from '../api/types';
import { api } from '../services';
import { FIRST_PAGE, type AuditCursor, actionLabel, actionTone, current, detailText, loaded, newer, older, pageNumber } from '../state/admin';
import { NoticeLine } from './NoticeLine';
import { timeText } from './format';
import { useAction } from './hooks';

export const AUDIT_PAGE_SIZE = 25;

/** The audit log, newest first, a page at a time. Admins only. */
export function AuditPage() {
  const [cursor, setCursor] = useState<AuditCursor>(FIRST_PAGE);
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const action = useAction();
  const at = current(cursor);
  const stackKey = cursor.stack.length;

  useEffect(() => {
    void action.run(async () => {
      const page = await api.audit(AUDIT_PAGE_SIZE, at);
      setItems(page.items);
      setCursor((c) => loaded(c, page.next_before ?? null));
    });
  }, [at, stackKey]);

  return (
    <div class="page">
      <h1>Audit log</h1>
      <p class="muted">Logins, failed logins, API keys, role changes, disabled users, deleted sessions and admin actions.</p>
      <NoticeLine notice={action.notice} onDismiss={action.dismiss} />
      <section class="card table-card" aria-labelledby="audit-h">
        <h2 id="audit-h">Entries, newest first</h2>
        <div class="bulk" role="group" aria-label="Audit pages">
          <button type="button" class="btn small" disabled={action.busy || pageNumber(cursor) === 1}
            onClick={() => setCursor(newer(cursor))}>
            Newer
          </button>
          <span data-testid="audit-page">Page {pageNumber(cursor)}</span>
          <button type="button" class="btn small" disabled={action.busy || cursor.next === null}
            onClick={() => setCursor(older(cursor))}>
            Older
          </button>
        </div>
        {!items ? (
          <p class="muted">Loading…</p>
        ) : items.length === 0 ? (
          <p class="empty">Nothing recorded yet.</p>
        ) : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Audit table">
            <table class="sessions-table" data-testid="audit-table">
              <caption class="sr-only">Audit log, page {pageNumber(cursor)}</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Action</th>
                  <th scope="col">Who</th>
                  <th scope="col">Target</th>
                  <th scope="col">IP</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id} data-action={e.action} class={actionTone(e.action) === 'warning' ? 'row-warning' : undefined}>
                    <td>{timeText(e.at)}</td>
                    <td>{actionLabel(e.action)}</td>
                    <td>{e.actor_email ?? '—'}</td>
                    <td>{e.target_type ? `${e.target_type} ${e.target_id?.slice(0, 8) ?? ''}` : '—'}</td>
                    <td class="mono">{e.ip ?? '—'}</td>
                    <td>{detailText(e)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
