'use strict';
// WebSockets: the token is checked before the upgrade, each user has one set of sockets,
// and every event is serialized once and written to each socket of its user.

const { WebSocketServer } = require('ws');

const PING_EVERY_MS = 20_000;

class Hub {
  /** `bufferEvents`: how far (in frames of the current size) a socket may fall behind before it is closed with 4008, like wahub's `ws_buffer`. */
  constructor(store, auth, sessionView, bufferEvents) {
    this.store = store;
    this.auth = auth;
    this.sessionView = sessionView;
    this.bufferEvents = bufferEvents;
    this.users = new Map();
    this.sockets = 0;
    this.published = 0;
    this.slowCloses = 0;
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024, clientTracking: false });
    this.pinger = setInterval(() => this.pingAll(), PING_EVERY_MS);
    this.pinger.unref();
  }

  /** The HTTP server's 'upgrade' handler for GET /api/v1/ws?token=... */
  upgrade(req, socket, head) {
    const url = new URL(req.url, 'http://x');
    const claims = url.pathname === '/api/v1/ws' ? this.auth.verify(url.searchParams.get('token')) : null;
    if (!claims) {
      const body = JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'unauthorized' });
      socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.join(ws, claims.sub, claims.exp));
  }

  join(ws, userId, exp) {
    let set = this.users.get(userId);
    if (!set) {
      set = new Set();
      this.users.set(userId, set);
    }
    // Publishing is synchronous, so no event can slip between reading the seq and joining the set.
    const hello = { type: 'hello', seq: this.store.lastSeq(userId), resumed: false, sessions: this.sessionView(userId), qr: {} };
    set.add(ws);
    this.sockets++;
    ws.send(JSON.stringify(hello));
    const expiry = setTimeout(() => ws.close(4401, 'token expired'), Math.min(2 ** 31 - 1, exp * 1000 - Date.now()));
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.length < 64 && data.toString() === '{"type":"ping"}') ws.send('{"type":"pong"}');
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      clearTimeout(expiry);
      this.sockets--;
      set.delete(ws);
      if (set.size === 0 && this.users.get(userId) === set) this.users.delete(userId);
    });
  }

  /** Sends a stored event to every socket of its user. */
  broadcast(userId, event) {
    this.published++;
    const set = this.users.get(userId);
    if (!set) return;
    const frame = Buffer.from(JSON.stringify(event));
    const limit = this.bufferEvents * frame.length;
    for (const ws of set) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > limit) {
        this.slowCloses++;
        ws.close(4008, 'too slow');
        continue;
      }
      ws.send(frame, { binary: false });
    }
  }

  pingAll() {
    for (const set of this.users.values()) for (const ws of set) if (ws.readyState === ws.OPEN) ws.ping();
  }
}

module.exports = { Hub };
