// Shapes from the wahub contract (shared/CONTRACT.md). Only what the dashboard reads.

export type SessionStatus =
  | 'stopped'
  | 'starting'
  | 'scan_qr'
  | 'pairing'
  | 'connected'
  | 'reconnecting'
  | 'failed'
  | 'logged_out';

export interface Session {
  id: string;
  name: string;
  status: SessionStatus;
  status_reason: string | null;
  is_primary: boolean;
  phone: string | null;
  push_name: string | null;
  auth_paired: boolean;
  socket_open: boolean;
  qr_expires_at: string | null;
  created_at: string;
  updated_at: string;
  last_connected_at: string | null;
  last_disconnected_at: string | null;
  last_activity_at: string | null;
  engine: string;
  /** The cluster node running it; null on a single node. */
  node?: string | null;
}

export interface QrInfo {
  value: string;
  expires_at: string;
  attempt: number;
  max_attempts: number;
}

export interface PairCode {
  code: string;
  expires_at: string;
}

export interface User {
  id: string;
  email: string;
  display_name: string | null;
  role: string;
  created_at: string;
}

export interface TokenPair {
  user?: User;
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

export interface Message {
  id: string;
  session_id: string;
  direction: 'in' | 'out';
  status: string;
  error?: string | null;
  created_at?: string;
  /** The other party: recipient of an `out` message, sender of an `in` message. */
  peer?: string | null;
  updated_at?: string;
  // Older or alternative shapes; read when present.
  from?: string | null;
  to?: string | null;
  chat?: string | null;
  text?: string | null;
  [key: string]: unknown;
}

export interface SendResult {
  id: string;
  session_id: string;
  status: string;
}

export interface Health {
  messages_sent_today: number;
  messages_received_today: number;
  daily_limit: number;
  usage_percent: number;
  level: 'healthy' | 'warning' | 'critical';
  connected: boolean;
}

/** What an API key may do (contract §7). */
export type Scope = 'read' | 'send' | 'control' | 'admin';

export interface ApiKey {
  id: string;
  name: string;
  scopes?: Scope[];
  created_at?: string;
  expires_at?: string | null;
  last_used_at?: string | null;
  prefix?: string | null;
  [key: string]: unknown;
}

export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  created_at: string;
}

export interface CreatedWebhook extends Webhook {
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event: string;
  status: 'pending' | 'delivered' | 'failed' | string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  payload: unknown;
}

export interface MediaOut {
  mimetype: string;
  filename?: string | null;
  caption?: string | null;
  url?: string | null;
}

export interface MediaIn {
  mimetype: string;
  data_base64: string;
  filename?: string;
  caption?: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
}

// ---- WebSocket frames ----

export interface HelloFrame {
  type: 'hello';
  seq: number;
  resumed: boolean;
  sessions: Session[];
  qr: Record<string, QrInfo>;
}

export interface StatusData {
  status: SessionStatus;
  previous: SessionStatus | null;
  reason: string | null;
  auth_paired: boolean;
  socket_open: boolean;
  phone: string | null;
  /** Sent by the server along with the contract's fields. */
  push_name?: string | null;
}

export interface PrimaryData {
  session_id: string;
  previous_session_id: string | null;
}

export interface MessageUpdateData {
  id: string;
  status: string;
  error?: string | null;
}

interface EventBase<E extends string, D> {
  type: 'event';
  seq: number;
  event: E;
  session_id: string | null;
  at: string;
  data: D;
}

export type ServerEvent =
  | EventBase<'session.created', Session>
  | EventBase<'session.updated', Session>
  | EventBase<'session.deleted', { id: string }>
  | EventBase<'session.status', StatusData>
  | EventBase<'session.qr', QrInfo>
  | EventBase<'session.pair_code', PairCode>
  | EventBase<'session.primary', PrimaryData>
  | EventBase<'message.received', Message>
  | EventBase<'message.updated', MessageUpdateData>;

export type EventName = ServerEvent['event'];

export type ServerFrame = HelloFrame | ServerEvent | { type: 'pong' };

/** GET /api/v1/server: what the dashboard shows before anyone logs in. */
export interface ServerInfo {
  version: string;
  engine: string;
  node: string | null;
  registration_open: boolean;
  has_users: boolean;
}

/** A user as an admin sees it (GET /api/v1/admin/users). */
export interface AdminUser {
  id: string;
  email: string;
  display_name: string | null;
  role: 'admin' | 'user' | string;
  disabled: boolean;
  created_at: string;
  session_count: number;
  max_sessions: number | null;
  daily_message_limit: number | null;
  effective_max_sessions: number;
  effective_daily_message_limit: number;
}

/** PATCH /api/v1/admin/users/{id}: absent fields stay; a `null` limit goes back to the default. */
export interface UserChange {
  role?: 'admin' | 'user';
  disabled?: boolean;
  max_sessions?: number | null;
  daily_message_limit?: number | null;
}

/** Any user's session, with its owner (GET /api/v1/admin/sessions). */
export interface AdminSession extends Session {
  owner_id: string;
  owner_email: string;
  node: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  action: string;
  actor_id: string | null;
  actor_email: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditPage {
  items: AuditEntry[];
  next_before: number | null;
}
