import type { HelloFrame, ServerEvent, Session } from '../src/api/types';

export function session(over: Partial<Session> = {}): Session {
  return {
    id: 's1',
    name: 'one',
    status: 'stopped',
    status_reason: null,
    is_primary: true,
    phone: null,
    push_name: null,
    auth_paired: false,
    socket_open: false,
    qr_expires_at: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    last_connected_at: null,
    last_disconnected_at: null,
    last_activity_at: null,
    engine: 'sim',
    ...over,
  };
}

export function hello(over: Partial<HelloFrame> = {}): HelloFrame {
  return { type: 'hello', seq: 10, resumed: false, sessions: [session()], qr: {}, ...over };
}

type Ev<E extends ServerEvent['event']> = Extract<ServerEvent, { event: E }>;

export function ev<E extends ServerEvent['event']>(
  seq: number,
  event: E,
  data: Ev<E>['data'],
  session_id: string | null = 's1',
): ServerEvent {
  return { type: 'event', seq, event, session_id, at: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}Z`, data } as ServerEvent;
}
