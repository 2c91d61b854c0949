import type { HelloFrame, Message, ServerEvent, Session, StatusData } from '../api/types';
import { type Action, type State, MESSAGES_CAP, TIMELINE_CAP, initialState } from './state';
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
      return { ...state, messages: { ...state.messages, [action.sessionId]: mergeLoaded(state.messages[action.sessionId], action.messages) } };
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
  const pairCodes: State['pairCodes'] = {};
  for (const [id, code] of Object.entries(state.pairCodes)) {
    if (sessions[id] && !isLinked(sessions[id].status)) pairCodes[id] = code;
  }
  return {
    ...state,
    lastSeq: frame.seq,
    sessions,
    qr,
    pairCodes,
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
      return { ...state, sessions: { ...state.sessions, [s.id]: s }, qr };
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
      return { ...state, sessions, qr: { ...state.qr, [id]: ev.data } };
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
  if (isLinked(d.status) && pairCodes[id]) pairCodes = without(pairCodes, id);
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

function isLinked(status: string): boolean {
  return status === 'connected' || status === 'pairing' || status === 'reconnecting';
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

function addMessage(state: State, m: Message): State {
  const sid = m.session_id;
  const list = state.messages[sid] ?? [];
  const idx = list.findIndex((x) => x.id === m.id);
  let next: Message[];
  if (idx >= 0) {
    next = list.slice();
    next[idx] = { ...list[idx], ...m };
  } else {
    next = [m, ...list];
    if (next.length > MESSAGES_CAP) next.length = MESSAGES_CAP;
  }
  return { ...state, messages: { ...state.messages, [sid]: next } };
}

function updateMessage(state: State, id: string, status: string, error: string | null): State {
  for (const [sid, list] of Object.entries(state.messages)) {
    const idx = list.findIndex((m) => m.id === id);
    if (idx < 0) continue;
    const next = list.slice();
    next[idx] = { ...list[idx], status, error };
    return { ...state, messages: { ...state.messages, [sid]: next } };
  }
  return state;
}

/** REST list (newest first) merged with anything that arrived live meanwhile. */
function mergeLoaded(live: Message[] | undefined, loaded: Message[]): Message[] {
  if (!live || live.length === 0) return loaded.slice(0, MESSAGES_CAP);
  const known = new Set(loaded.map((m) => m.id));
  const extra = live.filter((m) => !known.has(m.id));
  const merged = [...extra, ...loaded.map((m) => {
    const l = live.find((x) => x.id === m.id);
    return l && l.status !== m.status && isFinalStatus(l.status) ? { ...m, status: l.status, error: l.error } : m;
  })];
  merged.sort((x, y) => timeOf(y) - timeOf(x));
  return merged.slice(0, MESSAGES_CAP);
}

function isFinalStatus(s: string): boolean {
  return s !== 'queued' && s !== 'pending';
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
