// Wires the plain modules together for the browser. Components import from here.
import { Auth, browserLock, webStorage } from './api/auth';
import { Api } from './api/client';
import { NetworkError, errorFromResponse } from './api/errors';
import { Http } from './api/http';
import type { TokenPair, User } from './api/types';
import { createStore } from './state/store';
import { Signal } from './ui/signal';
import { type ConnectionState, WsClient } from './ws/client';
import { openBrowserSocket } from './ws/browserSocket';
import { OutageTracker } from './ws/outage';
import { wsUrl } from './ws/url';

const fetchFn = (input: string, init?: RequestInit) => fetch(input, init);

async function exchange(refresh_token: string): Promise<TokenPair> {
  let res: Response;
  try {
    res = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ refresh_token }),
    });
  } catch (err) {
    throw new NetworkError(err);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return (await res.json()) as TokenPair;
}

const TOKEN_KEY = 'wahub.tokens';
export const auth = new Auth({ storage: webStorage(window.localStorage, TOKEN_KEY), exchange, withLock: browserLock() });
export const store = createStore();
export const connection = new Signal<ConnectionState>('idle');
export const user = new Signal<User | null>(null);
/** Why the user was sent back to the login screen, if not by choice. */
export const loginNotice = new Signal<string>('');
/** When the live link to the server was lost (ISO time), or null while it is up. */
export const outage = new Signal<string | null>(null);
/** Counts recoveries from an outage: notices caused by the outage go away on each. */
export const recoveries = new Signal<number>(0);

const http = new Http(auth, fetchFn, '', () => {
  loginNotice.set('Your login has expired. Please log in again.');
});
export const api = new Api(http);

const outages = new OutageTracker({
  onChange: (since) => outage.set(since),
  onRecovered: () => recoveries.set(recoveries.get() + 1),
});

export const ws = new WsClient({
  token: () => auth.accessToken(),
  forceRefresh: (stale) => auth.refresh(stale),
  lastSeq: () => store.getState().lastSeq,
  url: (token, since) => wsUrl(window.location, token, since),
  open: openBrowserSocket,
  onFrame: (frame) => {
    if (frame.type === 'hello') store.dispatch({ type: 'hello', frame });
    else if (frame.type === 'event') {
      store.dispatch({ type: 'event', event: frame });
      if (frame.event === 'session.status' && frame.session_id && needsDetails(frame.data.status)) {
        // Status events do not carry the push name; read it once the phone is known.
        const id = frame.session_id;
        api.getSession(id).then((session) => store.dispatch({ type: 'session/details', session }), () => {});
      }
    }
  },
  onState: (s) => {
    connection.set(s);
    outages.update(s);
  },
  onAuthLost: () => loginNotice.set('Your login has expired. Please log in again.'),
});

function needsDetails(status: string): boolean {
  return status === 'connected' || status === 'pairing';
}

window.addEventListener('online', () => ws.kick());

// Keep tabs in step: a rotation elsewhere is adopted, a logout elsewhere logs out here.
window.addEventListener('storage', (e) => {
  if (e.key !== null && e.key !== TOKEN_KEY) return;
  const what = auth.syncFromStorage();
  if (what === 'other_user') window.location.reload();
});

/** Starts everything that runs while logged in. */
export function startSession(): void {
  ws.start();
  api.listSessions().then(
    (sessions) => store.dispatch({ type: 'sessions/loaded', sessions }),
    () => {},
  );
  if (!user.get()) {
    api.me().then((u) => user.set(u), () => {});
  }
}

export function acceptLogin(pair: TokenPair): void {
  ws.stop();
  store.dispatch({ type: 'reset' });
  loginNotice.set('');
  user.set(pair.user ?? null);
  // The App starts the socket and the loads when it sees the login.
  auth.accept(pair);
}

export async function logout(): Promise<void> {
  const refresh = auth.current?.refresh;
  ws.stop();
  auth.clear();
  store.dispatch({ type: 'reset' });
  user.set(null);
  if (refresh) await api.logout(refresh).catch(() => {});
}

// Logged out (here, in another tab, or the refresh failed): stop the socket, drop the state.
auth.subscribe((tokens) => {
  if (!tokens) {
    ws.stop();
    store.dispatch({ type: 'reset' });
    user.set(null);
  }
});
