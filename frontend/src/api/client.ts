import type { Http } from './http';
import { asList, secretOf } from './normalize';
import type {
  ApiKey, CreatedApiKey, Health, Message, PairCode, QrInfo, SendResult, Session, TokenPair, User,
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
  async listMessages(session_id: string, limit = 50): Promise<Message[]> {
    return asList<Message>(await this.http.json('GET', `${V1}/messages`, { query: { session_id, limit } }));
  }

  // ---- api keys ----
  async listApiKeys(): Promise<ApiKey[]> {
    return asList<ApiKey>(await this.http.json('GET', `${V1}/api-keys`));
  }
  async createApiKey(name: string, expires_in_days?: number): Promise<CreatedApiKey> {
    const body = expires_in_days ? { name, expires_in_days } : { name };
    const created = await this.http.json<ApiKey>('POST', `${V1}/api-keys`, { body });
    return { ...created, key: secretOf(created) };
  }
  deleteApiKey(id: string): Promise<void> {
    return this.http.json('DELETE', `${V1}/api-keys/${enc(id)}`);
  }
}
