import type { HelloFrame, Message, ServerEvent, Session, StatusData } from '../api/types';
import { type Action, type State, MESSAGES_CAP, PENDING_UPDATES_CAP, TIMELINE_CAP, initialState } from './state';
import { laterStatus } from './messageStatus';
import { timelineEntry } from './timeline';

export function reducer(state: State, action: Action): State {
  switch (action.type) {
    case 'hello':
      return applyHello(state, action.frame);
    case 'event':
      return applyEvent(state, action.event);
    case 'sessions/loaded': {
      // Before the first hello the REST list is all we know; after it, events are
      // authoritative and a list fetched earlier may miss a session created since.
      const sessions: Record<string, Session> = state.lastSeq === null ? {} : { ...state.sessions };
      for (const s of action.sessions) sessions[s.id] = newer(state.sessions[s.id], s);
      return { ...state, sessions };
    }
    case 'session/upsert':
      return {
        ...state,
        sessions: { ...state.sessions, [action.session.id]: newer(state.sessions[action.session.id], action.session) },
      };
    case 'session/details':
      return mergeDetails(state, action.session);
    case 'session/removed':
      return removeSession(state, action.id);
    case 'qr/loaded':
      return { ...state, qr: { ...state.qr, [action.sessionId]: action.qr } };
    case 'paircode/loaded':
      return { ...state, pairCodes: { ...state.pairCodes, [action.sessionId]: action.code } };
    case 'messages/loaded':
      return loadMessages(state, action.sessionId, action.messages);
    case 'message/sent':
      return addMessage(state, action.message);
    case 'reset':
      return initialState;
  }
}

/**
 * hello: a resumed stream keeps the state (the missed events follow); otherwise the
 * snapshot replaces sessions and QR codes, and REST-loaded lists are refetched.
 */
function applyHello(state: State, frame: HelloFrame): State {
  if (frame.resumed && state.lastSeq !== null) {
    return state;
  }
  const sessions: Record<string, Session> = {};
  for (const s of frame.sessions ?? []) sessions[s.id] = s;
  const qr = { ...(frame.qr ?? {}) };
  // The snapshot carries no pairing codes: whatever we held may have died meanwhile
  // (a restart, a timeout), and a stale code must never be shown.
  return {
    ...state,
    lastSeq: frame.seq,
    sessions,
    qr,
    pairCodes: {},
    messages: {},
    epoch: state.epoch + 1,
  };
}

function applyEvent(state: State, ev: ServerEvent): State {
  // Exactly once: replays overlap live frames after a reconnect.
  if (state.lastSeq !== null && ev.seq <= state.lastSeq) return state;
  const next = applyEventData({ ...state, lastSeq: ev.seq }, ev);
  const timeline = [timelineEntry(ev), ...next.timeline];
  if (timeline.length > TIMELINE_CAP) timeline.length = TIMELINE_CAP;
  return { ...next, timeline };
}

function applyEventData(state: State, ev: ServerEvent): State {
  switch (ev.event) {
    case 'session.created':
    case 'session.updated': {
      const s = ev.data;
      let qr = state.qr;
      if (s.status !== 'scan_qr' && qr[s.id]) qr = without(qr, s.id);
      const pairCodes = isOffering(s.status) ? state.pairCodes : without(state.pairCodes, s.id);
      return { ...state, sessions: { ...state.sessions, [s.id]: s }, qr, pairCodes };
    }
    case 'session.deleted':
      return removeSession(state, ev.data.id ?? ev.session_id ?? '');
    case 'session.status':
      return ev.session_id ? applyStatus(state, ev.session_id, ev.data, ev.at) : state;
    case 'session.qr': {
      const id = ev.session_id;
      if (!id) return state;
      const cur = state.sessions[id];
      const sessions = cur
        ? {
            ...state.sessions,
            [id]: {
              ...cur,
              qr_expires_at: ev.data.expires_at,
              status: cur.status === 'starting' || cur.status === 'stopped' ? 'scan_qr' as const : cur.status,
            },
          }
        : state.sessions;
      // Attempt 1 begins a new linking run: a code from an earlier run is dead.
      const pairCodes = ev.data.attempt <= 1 ? without(state.pairCodes, id) : state.pairCodes;
      return { ...state, sessions, qr: { ...state.qr, [id]: ev.data }, pairCodes };
    }
    case 'session.pair_code':
      return ev.session_id
        ? { ...state, pairCodes: { ...state.pairCodes, [ev.session_id]: ev.data } }
        : state;
    case 'session.primary': {
      const target = ev.data.session_id;
      const sessions: Record<string, Session> = {};
      for (const [id, s] of Object.entries(state.sessions)) {
        const is_primary = id === target;
        sessions[id] = s.is_primary === is_primary ? s : { ...s, is_primary };
      }
      return { ...state, sessions };
    }
    case 'message.received': {
      const m = ev.data;
      const withSession = m.session_id ? m : { ...m, session_id: ev.session_id ?? '' };
      return addMessage(state, withSession);
    }
    case 'message.updated':
      return updateMessage(state, ev.data.id, ev.data.status, ev.data.error ?? null);
    default:
      return state;
  }
}

function applyStatus(state: State, id: string, d: StatusData, at: string): State {
  const cur = state.sessions[id];
  let qr = state.qr;
  let pairCodes = state.pairCodes;
  if (d.status !== 'scan_qr' && qr[id]) qr = without(qr, id);
  // A code only lives while the session offers a link.
  if (!isOffering(d.status) && pairCodes[id]) pairCodes = without(pairCodes, id);
  if (!cur) return { ...state, qr, pairCodes };
  const s: Session = {
    ...cur,
    status: d.status,
    status_reason: d.reason ?? null,
    auth_paired: d.auth_paired ?? cur.auth_paired,
    socket_open: d.socket_open ?? cur.socket_open,
    phone: d.phone ?? cur.phone,
    push_name: d.push_name ?? cur.push_name,
    updated_at: at,
  };
  if (d.status === 'connected' && cur.status !== 'connected') s.last_connected_at = at;
  if (d.status !== 'connected' && cur.status === 'connected') s.last_disconnected_at = at;
  if (d.status !== 'scan_qr') s.qr_expires_at = null;
  return { ...state, sessions: { ...state.sessions, [id]: s }, qr, pairCodes };
}

function isOffering(status: string): boolean {
  return status === 'starting' || status === 'scan_qr';
}

function removeSession(state: State, id: string): State {
  if (!id) return state;
  return {
    ...state,
    sessions: without(state.sessions, id),
    qr: without(state.qr, id),
    pairCodes: without(state.pairCodes, id),
    messages: without(state.messages, id),
  };
}

/**
 * Descriptive fields (push name, phone, times) from a REST read; the live status
 * stays as the events left it, so a slow answer cannot roll it back.
 */
function mergeDetails(state: State, incoming: Session): State {
  const cur = state.sessions[incoming.id];
  if (!cur) return state;
  const s: Session = {
    ...cur,
    name: incoming.name,
    phone: incoming.phone ?? cur.phone,
    push_name: incoming.push_name ?? cur.push_name,
    engine: incoming.engine,
    last_connected_at: incoming.last_connected_at ?? cur.last_connected_at,
    last_disconnected_at: incoming.last_disconnected_at ?? cur.last_disconnected_at,
    last_activity_at: incoming.last_activity_at ?? cur.last_activity_at,
  };
  return { ...state, sessions: { ...state.sessions, [s.id]: s } };
}

/** A REST answer must not roll back a newer state that arrived by event. */
function newer(current: Session | undefined, incoming: Session): Session {
  if (!current) return incoming;
  const a = Date.parse(current.updated_at);
  const b = Date.parse(incoming.updated_at);
  if (Number.isFinite(a) && Number.isFinite(b) && b < a) return current;
  return incoming;
}

/**
 * One row per message id, whichever arrives first: the POST answer (always `queued`),
 * a `message.updated` event, or a REST list. A status never moves backwards.
 */
function addMessage(state: State, m: Message): State {
  const sid = m.session_id;
  const list = state.messages[sid] ?? [];
  const idx = list.findIndex((x) => x.id === m.id);
  let pendingUpdates = state.pendingUpdates;
  let incoming = m;
  const pending = pendingUpdates[m.id];
  if (pending) {
    pendingUpdates = without(pendingUpdates, m.id);
    incoming = { ...m, status: laterStatus(m.status, pending.status), error: pending.error ?? m.error ?? null };
  }
  let next: Message[];
  if (idx >= 0) {
    const cur = list[idx];
    next = list.slice();
    next[idx] = { ...cur, ...incoming, status: laterStatus(cur.status, incoming.status), error: incoming.error ?? cur.error ?? null };
  } else {
    next = [incoming, ...list];
    if (next.length > MESSAGES_CAP) next.length = MESSAGES_CAP;
  }
  return { ...state, messages: { ...state.messages, [sid]: next }, pendingUpdates };
}

function updateMessage(state: State, id: string, status: string, error: string | null): State {
  for (const [sid, list] of Object.entries(state.messages)) {
    const idx = list.findIndex((m) => m.id === id);
    if (idx < 0) continue;
    const next = list.slice();
    next[idx] = { ...list[idx], status: laterStatus(list[idx].status, status), error };
    return { ...state, messages: { ...state.messages, [sid]: next } };
  }
  // No row yet: keep the update for when the row arrives.
  const pendingUpdates = { ...state.pendingUpdates, [id]: { status, error } };
  const keys = Object.keys(pendingUpdates);
  if (keys.length > PENDING_UPDATES_CAP) delete pendingUpdates[keys[0]];
  return { ...state, pendingUpdates };
}

/** REST list (newest first) merged with anything that arrived live meanwhile. */
function loadMessages(state: State, sessionId: string, loaded: Message[]): State {
  const live = state.messages[sessionId] ?? [];
  let pendingUpdates = state.pendingUpdates;
  const liveById = new Map(live.map((m) => [m.id, m]));
  const known = new Set(loaded.map((m) => m.id));
  const merged = [
    ...live.filter((m) => !known.has(m.id)),
    ...loaded.map((m) => {
      let status = m.status;
      let error = m.error ?? null;
      const l = liveById.get(m.id);
      if (l) {
        status = laterStatus(status, l.status);
        error = error ?? l.error ?? null;
      }
      const pending = pendingUpdates[m.id];
      if (pending) {
        pendingUpdates = without(pendingUpdates, m.id);
        status = laterStatus(status, pending.status);
        error = pending.error ?? error;
      }
      return status !== m.status || error !== (m.error ?? null) ? { ...m, status, error } : m;
    }),
  ];
  merged.sort((x, y) => timeOf(y) - timeOf(x));
  if (merged.length > MESSAGES_CAP) merged.length = MESSAGES_CAP;
  return { ...state, messages: { ...state.messages, [sessionId]: merged }, pendingUpdates };
}

function timeOf(m: Message): number {
  const t = Date.parse(String(m.created_at ?? m.timestamp ?? ''));
  return Number.isFinite(t) ? t : Number.MAX_SAFE_INTEGER;
}

function without<V>(rec: Record<string, V>, key: string): Record<string, V> {
  if (!(key in rec)) return rec;
  const next = { ...rec };
  delete next[key];
  return next;
}
