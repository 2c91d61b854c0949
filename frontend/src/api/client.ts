import type { Http } from './http';
import { asList, secretOf } from './normalize';
import type {
  AdminSession, AdminUser, ApiKey, AuditPage, CreatedApiKey, Scope, ServerInfo, UserChange, CreatedWebhook, Health, MediaIn, Message, PairCode, QrInfo, SendResult, ServerEvent,
  Session, TokenPair, User, Webhook, WebhookDelivery,
} from './types';

const V1 = '/api/v1';
const enc = encodeURIComponent;

/** One method per REST endpoint of the contract that the dashboard uses. */
export class Api {
  constructor(private readonly http: Http) {}

  // ---- auth (no bearer token) ----
  register(email: string, password: string, display_name?: string): Promise<TokenPair> {
    const body = display_name ? { email, password, display_name } : { email, password };
    return this.http.json('POST', `${V1}/auth/register`, { body, auth: false });
  }
  login(email: string, password: string): Promise<TokenPair> {
    return this.http.json('POST', `${V1}/auth/login`, { body: { email, password }, auth: false });
  }
  logout(refresh_token: string): Promise<void> {
    return this.http.json('POST', `${V1}/auth/logout`, { body: { refresh_token }, auth: false });
  }
  me(): Promise<User> {
    return this.http.json('GET', `${V1}/me`);
  }

  // ---- sessions ----
  async listSessions(): Promise<Session[]> {
    return asList<Session>(await this.http.json('GET', `${V1}/sessions`));
  }
  createSession(name: string, phone?: string): Promise<Session> {
    const body = phone ? { name, phone, start: true } : { name, start: true };
    return this.http.json('POST', `${V1}/sessions`, { body });
  }
  getSession(id: string): Promise<Session> {
    return this.http.json('GET', `${V1}/sessions/${enc(id)}`);
  }
  renameSession(id: string, name: string): Promise<Session> {
    return this.http.json('PATCH', `${V1}/sessions/${enc(id)}`, { body: { name } });
  }
  deleteSession(id: string): Promise<void> {
    return this.http.json('DELETE', `${V1}/sessions/${enc(id)}`);
  }
  startSession(id: string, forceRelink = false): Promise<Session> {
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/start`, { body: { force_relink: forceRelink } });
  }
  stopSession(id: string): Promise<Session> {
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/stop`);
  }
  logoutSession(id: string): Promise<Session> {
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/logout`);
  }
  makePrimary(id: string): Promise<Session> {
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/primary`);
  }
  qr(id: string): Promise<QrInfo> {
    return this.http.json('GET', `${V1}/sessions/${enc(id)}/qr`);
  }
  qrSvg(id: string): Promise<Blob> {
    return this.http.blob(`${V1}/sessions/${enc(id)}/qr`, { query: { format: 'svg' }, accept: 'image/svg+xml' });
  }
  pairCode(id: string, phone: string): Promise<PairCode> {
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/pair-code`, { body: { phone } });
  }
  health(id: string): Promise<Health> {
    return this.http.json('GET', `${V1}/sessions/${enc(id)}/health`);
  }

  // ---- simulator ----
  simScan(id: string, phone: string, push_name?: string): Promise<unknown> {
    const body = push_name ? { phone, push_name } : { phone };
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/sim/scan`, { body });
  }
  simAction(id: string, action: 'fail-scan' | 'drop' | 'unlink'): Promise<unknown> {
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/sim/${action}`, { body: {} });
  }
  simIncoming(id: string, from: string, text: string): Promise<unknown> {
    return this.http.json('POST', `${V1}/sessions/${enc(id)}/sim/incoming`, { body: { from, text } });
  }

  // ---- messages ----
  sendText(session_id: string | undefined, to: string, text: string): Promise<SendResult> {
    const body = session_id ? { session_id, to, text } : { to, text };
    return this.http.json('POST', `${V1}/messages`, { body });
  }
  sendMedia(session_id: string, to: string, media: MediaIn): Promise<SendResult> {
    return this.http.json('POST', `${V1}/messages`, { body: { session_id, to, media } });
  }
  /** Newest first; `before` (a created_at) pages back. */
  async listMessages(session_id: string, limit = 50, before?: string): Promise<Message[]> {
    return asList<Message>(await this.http.json('GET', `${V1}/messages`, { query: { session_id, limit, before } }));
  }

  // ---- event log ----
  /** Events after `since`, oldest first. */
  async events(since: number, limit: number): Promise<ServerEvent[]> {
    return asList<ServerEvent>(await this.http.json('GET', `${V1}/events`, { query: { since, limit } }));
  }

  // ---- webhooks ----
  async listWebhooks(): Promise<Webhook[]> {
    return asList<Webhook>(await this.http.json('GET', `${V1}/webhooks`));
  }
  createWebhook(url: string, events: string[]): Promise<CreatedWebhook> {
    return this.http.json('POST', `${V1}/webhooks`, { body: { url, events } });
  }
  updateWebhook(id: string, change: { url?: string; events?: string[]; active?: boolean; secret?: string }): Promise<Webhook> {
    return this.http.json('PATCH', `${V1}/webhooks/${enc(id)}`, { body: change });
  }
  deleteWebhook(id: string): Promise<void> {
    return this.http.json('DELETE', `${V1}/webhooks/${enc(id)}`);
  }
  async deliveries(id: string, limit = 50): Promise<WebhookDelivery[]> {
    return asList<WebhookDelivery>(await this.http.json('GET', `${V1}/webhooks/${enc(id)}/deliveries`, { query: { limit } }));
  }
  redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.http.json('POST', `${V1}/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/redeliver`);
  }

  // ---- server ----
  /** Version, engine, node, and whether this is a new server (no auth). */
  serverInfo(): Promise<ServerInfo> {
    return this.http.json('GET', `${V1}/server`, { auth: false });
  }

  // ---- admin (admins only; 404 for everyone else) ----
  async adminUsers(): Promise<AdminUser[]> {
    return asList<AdminUser>(await this.http.json('GET', `${V1}/admin/users`));
  }
  updateUser(id: string, change: UserChange): Promise<AdminUser> {
    return this.http.json('PATCH', `${V1}/admin/users/${enc(id)}`, { body: change });
  }
  async adminSessions(): Promise<AdminSession[]> {
    return asList<AdminSession>(await this.http.json('GET', `${V1}/admin/sessions`));
  }
  adminStopSession(id: string): Promise<AdminSession> {
    return this.http.json('POST', `${V1}/admin/sessions/${enc(id)}/stop`);
  }
  adminLogoutSession(id: string): Promise<AdminSession> {
    return this.http.json('POST', `${V1}/admin/sessions/${enc(id)}/logout`);
  }
  /** Newest first; `before` is the previous page's `next_before`. */
  audit(limit: number, before?: number): Promise<AuditPage> {
    return this.http.json('GET', `${V1}/admin/audit`, { query: { limit, before } });
  }

  // ---- api keys ----
  async listApiKeys(): Promise<ApiKey[]> {
    return asList<ApiKey>(await this.http.json('GET', `${V1}/api-keys`));
  }
  async createApiKey(name: string, expires_in_days?: number, scopes?: Scope[]): Promise<CreatedApiKey> {
    const body: { name: string; expires_in_days?: number; scopes?: Scope[] } = { name };
    if (expires_in_days) body.expires_in_days = expires_in_days;
    if (scopes) body.scopes = scopes;
    const created = await this.http.json<ApiKey>('POST', `${V1}/api-keys`, { body });
    return { ...created, key: secretOf(created) };
  }
  deleteApiKey(id: string): Promise<void> {
    return this.http.json('DELETE', `${V1}/api-keys/${enc(id)}`);
  }
}
