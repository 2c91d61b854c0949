import { useMemo, useState } from 'preact/hooks';
import type { Session, SessionStatus } from '../api/types';
import { DEFAULT_QUERY, type SortKey, type TableQuery, inBatches, lastActivityOf, tableRows } from '../state/sessionTable';
import { api, outage, store } from '../services';
import { NoticeLine } from './NoticeLine';
import { StatusBadge } from './StatusBadge';
import { STATUS_LABEL, phoneText, timeText } from './format';
import { useAction, useSignal } from './hooks';
import { onLinkClick } from './router';
import { useHealth } from './healthCache';

const STARTABLE = new Set(['stopped', 'failed', 'logged_out']);
const COLUMNS: { key: SortKey | null; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'status', label: 'Status' },
  { key: null, label: 'Phone' },
  { key: null, label: 'Push name' },
  { key: null, label: 'Primary' },
  { key: 'last_activity', label: 'Last activity' },
  { key: null, label: 'Health' },
];

/** Many sessions at a glance: search, filter by status, sort, and start or stop in bulk. */
export function SessionTable({ sessions }: { sessions: Session[] }) {
  const [q, setQ] = useState<TableQuery>(DEFAULT_QUERY);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const down = useSignal(outage);
  const bulk = useAction(q);
  const rows = useMemo(() => tableRows(sessions, q), [sessions, q]);
  const visibleSelected = rows.filter((r) => selected.has(r.id));
  const allChecked = rows.length > 0 && visibleSelected.length === rows.length;

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const toggleAll = () => setSelected(allChecked ? new Set() : new Set(rows.map((r) => r.id)));
  const sortBy = (key: SortKey) =>
    setQ({ ...q, sort: key, dir: q.sort === key && q.dir === 'asc' ? 'desc' : 'asc' });

  const runBulk = (verb: 'start' | 'stop') =>
    void bulk.run(async () => {
      const targets = visibleSelected.filter((s) => (verb === 'start' ? STARTABLE.has(s.status) : !STARTABLE.has(s.status)));
      const failures = await inBatches(targets, 4, async (s) => {
        const updated = verb === 'start' ? await api.startSession(s.id) : await api.stopSession(s.id);
        store.dispatch({ type: 'session/upsert', session: updated });
      });
      const done = targets.length - failures.length;
      const skipped = visibleSelected.length - targets.length;
      const parts = [`${verb === 'start' ? 'Started' : 'Stopped'} ${done} of ${targets.length}.`];
      if (skipped) parts.push(`${skipped} already ${verb === 'start' ? 'running' : 'stopped'}.`);
      if (failures.length) parts.push(`${failures.length} failed.`);
      bulk.say({ tone: failures.length ? 'warning' : 'success', text: parts.join(' ') });
      setSelected(new Set());
    });

  return (
    <section class="card table-card" aria-labelledby="table-h">
      <h2 id="table-h" class="sr-only">Session table</h2>
      <div class="table-tools" role="search" aria-label="Filter sessions">
        <label>
          Search
          <input type="search" name="session-search" placeholder="Name, phone or push name" value={q.search}
            onInput={(e) => setQ({ ...q, search: e.currentTarget.value })} />
        </label>
        <label>
          Status
          <select name="status-filter" value={q.status}
            onChange={(e) => setQ({ ...q, status: e.currentTarget.value as SessionStatus | 'all' })}>
            <option value="all">All statuses</option>
            {Object.entries(STATUS_LABEL).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
      </div>
      <div class="bulk" role="group" aria-label="Selected sessions">
        <span data-testid="row-count">{rows.length} shown, {visibleSelected.length} selected</span>
        <button type="button" class="btn small" disabled={bulk.busy || visibleSelected.length === 0} onClick={() => runBulk('start')}>
          Start selected
        </button>
        <button type="button" class="btn small" disabled={bulk.busy || visibleSelected.length === 0} onClick={() => runBulk('stop')}>
          Stop selected
        </button>
      </div>
      <NoticeLine notice={bulk.notice} onDismiss={bulk.dismiss} />
      <div class="table-scroll" tabIndex={0} role="region" aria-label="Session table">
        <table class="sessions-table" data-testid="session-table">
          <caption class="sr-only">Sessions, {rows.length} shown</caption>
          <thead>
            <tr>
              <th scope="col">
                <input type="checkbox" checked={allChecked} onChange={toggleAll} aria-label="Select all shown sessions" />
              </th>
              {COLUMNS.map((c) => (
                <th key={c.label} scope="col" aria-sort={c.key && q.sort === c.key ? (q.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                  {c.key ? (
                    <button type="button" class="sort" onClick={() => sortBy(c.key as SortKey)}>
                      {c.label}
                      <span aria-hidden="true">{q.sort === c.key ? (q.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                    </button>
                  ) : c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <Row key={s.id} s={s} checked={selected.has(s.id)} onToggle={toggle} down={down} />
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && <p class="empty">No session matches.</p>}
    </section>
  );
}

function Row({ s, checked, onToggle, down }: { s: Session; checked: boolean; onToggle: (id: string) => void; down: string | null }) {
  const detail = `/sessions/${s.id}`;
  return (
    <tr data-row-id={s.id} data-session-name={s.name} data-status={s.status}>
      <td><input type="checkbox" checked={checked} onChange={() => onToggle(s.id)} aria-label={`Select ${s.name}`} /></td>
      <td><a href={detail} onClick={onLinkClick(detail)}>{s.name}</a></td>
      <td><StatusBadge status={s.status} unknownSince={down} /></td>
      <td class="mono">{phoneText(s.phone)}</td>
      <td>{s.push_name || '—'}</td>
      <td>{s.is_primary ? <span class="primary-mark">★ Primary</span> : ''}</td>
      <td>{timeText(lastActivityOf(s))}</td>
      <td><HealthCell s={s} /></td>
    </tr>
  );
}

function HealthCell({ s }: { s: Session }) {
  const health = useHealth(s.id, s.status === 'connected');
  if (s.status !== 'connected') return <span class="muted">—</span>;
  if (!health) return <span class="muted">…</span>;
  return <span class={`level-${health.level}`}>{health.usage_percent}% of daily limit</span>;
}
