import type { HelloFrame, Message, PairCode, QrInfo, ServerEvent, Session } from '../api/types';

export interface TimelineEntry {
  seq: number;
  at: string;
  event: string;
  sessionId: string | null;
  summary: string;
  /** For `session.status`: the change itself, so the history can show it without a reload. */
  status?: string;
  previous?: string | null;
  reason?: string | null;
}

export interface State {
  /** Highest event seq applied; null until the first hello. */
  lastSeq: number | null;
  sessions: Record<string, Session>;
  qr: Record<string, QrInfo>;
  pairCodes: Record<string, PairCode>;
  /** Messages per session id, newest first; absent until loaded. */
  messages: Record<string, Message[]>;
  /** Newest first, capped. */
  timeline: TimelineEntry[];
  /** Bumped whenever a snapshot replaced the state: lists loaded over REST must be reloaded. */
  epoch: number;
  /**
   * `message.updated` events for messages we have no row for yet (the event can beat the
   * POST answer): applied when the row arrives. Keyed by message id, capped.
   */
  pendingUpdates: Record<string, { status: string; error: string | null }>;
}

export const TIMELINE_CAP = 200;
export const MESSAGES_CAP = 200;

export const initialState: State = {
  lastSeq: null,
  sessions: {},
  qr: {},
  pairCodes: {},
  messages: {},
  timeline: [],
  epoch: 0,
  pendingUpdates: {},
};

export const PENDING_UPDATES_CAP = 500;

export type Action =
  | { type: 'hello'; frame: HelloFrame }
  | { type: 'event'; event: ServerEvent }
  | { type: 'sessions/loaded'; sessions: Session[] }
  | { type: 'session/upsert'; session: Session }
  | { type: 'session/details'; session: Session }
  | { type: 'session/removed'; id: string }
  | { type: 'qr/loaded'; sessionId: string; qr: QrInfo }
  | { type: 'paircode/loaded'; sessionId: string; code: PairCode }
  | { type: 'messages/loaded'; sessionId: string; messages: Message[] }
  | { type: 'message/sent'; message: Message }
  | { type: 'reset' };
