import type { Problem } from './types';

/** An HTTP error answered by the server, carrying its RFC 9457 problem body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem, retryAfter: number | null = null) {
    const title = problem.title || `HTTP ${status}`;
    const detail = problem.detail || '';
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || codeForStatus(status);
    this.title = title;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** The request never got an answer (server down, offline, CORS, aborted). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(`Cannot reach the server (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'NetworkError';
  }
}

/** The session could not be renewed: the user has to log in again. */
export class AuthLostError extends Error {
  constructor() {
    super('Your login has expired. Please log in again.');
    this.name = 'AuthLostError';
  }
}

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'server_error' : 'http_error';
}

const FRIENDLY: Record<string, string> = {
  invalid_credentials: 'Wrong email or password.',
  registration_closed: 'Registration is closed on this server.',
  weak_password: 'The password must be 8 to 256 characters long.',
  email_taken: 'An account with that email already exists. Log in instead.',
  name_taken: 'You already have a session with that name.',
  phone_in_use: 'That phone number is already linked to an active session.',
  invalid_phone: 'That phone number is not valid: use 8 to 15 digits, like +6281234567890.',
  instance_limit_reached: 'You have reached your session limit.',
  no_qr: 'No QR code is on offer for this session right now.',
  session_not_connected: 'This session is not connected.',
  no_connected_session: 'No connected session can send this message.',
  daily_limit_reached: 'The daily message limit of this session is reached.',
  rate_limited: 'Too many attempts. Please wait and try again.',
  payload_too_large: 'That is too large for the server.',
  not_found: 'That no longer exists. It may have been deleted.',
  unauthorized: 'Please log in again.',
  forbidden: 'You are not allowed to do that.',
  insufficient_scope: 'This key is not allowed to do that.',
};

export type NoticeTone = 'error' | 'warning' | 'success' | 'info';

/** A message for a person: what happened, in words, and how it should look. */
export interface Notice {
  tone: NoticeTone;
  text: string;
  /** Caused by the server being unreachable: goes away when it is back. */
  network?: boolean;
}

const WARNING_CODES = new Set(['rate_limited', 'daily_limit_reached', 'instance_limit_reached']);

/** One plain sentence a person can act on, for any thrown value; never an HTTP title or code. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : '';
    const friendly = FRIENDLY[err.code];
    if (friendly) return friendly + wait;
    if (err.detail && err.status < 500) return sentence(err.detail) + wait;
    if (err.status >= 500) return 'The server had a problem with that. Try again in a moment.';
    return 'The server refused that request.' + wait;
  }
  if (err instanceof NetworkError) return 'Cannot reach the server. Check the connection and try again.';
  if (err instanceof AuthLostError) return err.message;
  if (err instanceof Error) return sentence(err.message);
  return sentence(String(err));
}

export function noticeFor(err: unknown): Notice {
  const network = err instanceof NetworkError;
  const warn = network || (err instanceof ApiError && WARNING_CODES.has(err.code));
  return { tone: warn ? 'warning' : 'error', text: describeError(err), network };
}

/** "url must be …" → "Url must be ….": the server's details are already words. */
function sentence(text: string): string {
  const t = text.trim();
  if (!t) return 'Something went wrong.';
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** Parses a failed response into an ApiError, whatever its body is. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let problem: Problem = {};
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') problem = parsed as Problem;
    } catch {
      problem = { detail: text.slice(0, 300) };
    }
  }
  if (!problem.title) problem.title = res.statusText || `HTTP ${res.status}`;
  const ra = res.headers.get('Retry-After');
  const retryAfter = ra && /^\d+$/.test(ra) ? Number(ra) : null;
  return new ApiError(res.status, problem, retryAfter);
}
