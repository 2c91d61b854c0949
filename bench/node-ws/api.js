'use strict';
// The REST subset ws-fanout calls, with wahub's paths, bodies and status codes:
// register, create + read a session, the simulated phone's scan and incoming message,
// readiness and the two metrics the bench reads.

const crypto = require('node:crypto');
const { hashPassword } = require('./auth');
const { nowIso } = require('./store');

const MAX_BODY = 1024 * 1024;
const PHONE = /^\+?[0-9]{6,15}$/;

class HttpError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

function sessionView(row) {
  return {
    id: row.id, name: row.name, status: row.status, status_reason: null, is_primary: true,
    phone: row.phone, push_name: row.push_name, auth_paired: row.status === 'connected',
    socket_open: row.status === 'connected', qr_expires_at: null, created_at: row.created_at,
    updated_at: row.updated_at, last_connected_at: row.last_connected_at, last_disconnected_at: null,
    last_activity_at: row.last_activity_at, engine: 'sim', node: null,
  };
}

function makeApi(store, auth, hub) {
  const q = store.q;
  const owned = (userId, id) => {
    const row = q.session.get(id, userId);
    if (!row) throw new HttpError(404, 'not_found', 'No such session.');
    return row;
  };
  const user = (req) => {
    const id = auth.bearer(req);
    if (!id) throw new HttpError(401, 'unauthorized', 'A valid bearer token is required.');
    return id;
  };
  const text = (v, what) => {
    if (typeof v !== 'string' || v.length === 0) throw new HttpError(422, 'validation_failed', `${what} must be a non-empty string.`);
    return v;
  };

  const routes = [
    ['GET', /^\/readyz$/, () => [200, { status: 'ready' }]],
    ['GET', /^\/healthz$/, () => [200, { status: 'ok' }]],
    ['POST', /^\/api\/v1\/auth\/register$/, async (req, body) => {
      const email = text(body.email, 'email').trim().toLowerCase();
      const password = text(body.password, 'password');
      if (password.length < 8) throw new HttpError(422, 'validation_failed', 'password must be at least 8 characters.');
      if (q.userByEmail.get(email)) throw new HttpError(409, 'email_taken', 'That email is registered.');
      const hash = await hashPassword(password);
      const id = crypto.randomUUID();
      const role = q.userCount.get().n === 0 ? 'admin' : 'user';
      const created = nowIso();
      try {
        q.insertUser.run(id, email, hash, role, created);
      } catch {
        throw new HttpError(409, 'email_taken', 'That email is registered.');
      }
      return [201, {
        user: { id, email, display_name: null, role, created_at: created },
        access_token: auth.mint(id), refresh_token: null, token_type: 'Bearer', expires_in: auth.ttlSecs,
      }];
    }],
    ['POST', /^\/api\/v1\/sessions$/, (req, body) => {
      const userId = user(req);
      const name = text(body.name, 'name');
      const id = crypto.randomUUID();
      const now = nowIso();
      try {
        q.insertSession.run(id, userId, name, body.start === false ? 'stopped' : 'scan_qr', now, now);
      } catch {
        throw new HttpError(409, 'name_taken', 'A session with that name exists.');
      }
      const session = sessionView(q.session.get(id, userId));
      hub.broadcast(userId, store.append(userId, 'session.created', id, session));
      return [201, session];
    }],
    ['GET', /^\/api\/v1\/sessions\/([0-9a-f-]{36})$/, (req, _body, m) => [200, sessionView(owned(user(req), m[1]))]],
    ['POST', /^\/api\/v1\/sessions\/([0-9a-f-]{36})\/sim\/scan$/, (req, body, m) => {
      const userId = user(req);
      const row = owned(userId, m[1]);
      const phone = text(body.phone, 'phone');
      if (!PHONE.test(phone)) throw new HttpError(422, 'validation_failed', 'phone must be 6 to 15 digits.');
      if (row.status !== 'scan_qr') throw new HttpError(409, 'no_qr', 'No QR is on offer.');
      const now = nowIso();
      const pushName = typeof body.push_name === 'string' ? body.push_name.slice(0, 64) : null;
      const data = { status: 'connected', previous: row.status, reason: null, auth_paired: true, socket_open: true, phone };
      const ev = store.append(userId, 'session.status', row.id, data,
        () => q.connect.run('connected', phone, pushName, now, now, row.id));
      hub.broadcast(userId, ev);
      return [200, { ok: true }];
    }],
    ['POST', /^\/api\/v1\/sessions\/([0-9a-f-]{36})\/sim\/incoming$/, (req, body, m) => {
      const userId = user(req);
      const row = owned(userId, m[1]);
      const from = text(body.from, 'from');
      const msgText = text(body.text, 'text');
      if (!PHONE.test(from)) throw new HttpError(422, 'validation_failed', 'from must be 6 to 15 digits.');
      if (msgText.length > 65536) throw new HttpError(422, 'validation_failed', 'text must be 1 to 65536 characters.');
      if (row.status !== 'connected') throw new HttpError(409, 'session_not_connected', 'The session is not connected.');
      const now = nowIso();
      const msg = {
        created_at: now, direction: 'in', error: null, external_id: `SIM${crypto.randomUUID().replaceAll('-', '')}`,
        id: crypto.randomUUID(), media: null, peer: from.replace(/^\+/, ''), session_id: row.id, status: 'received',
        text: msgText, updated_at: now,
      };
      const ev = store.append(userId, 'message.received', row.id, msg, () => {
        q.insertMessage.run(msg.id, userId, row.id, 'in', msg.peer, msgText, 'received', msg.external_id, now, now);
        q.touch.run(now, row.id);
      });
      hub.broadcast(userId, ev);
      return [200, { ok: true }];
    }],
    ['GET', /^\/metrics$/, () => [200,
      `wahub_events_published_total ${hub.published}\nwahub_ws_slow_closes_total ${hub.slowCloses}\nwahub_ws_connections ${hub.sockets}\n`]],
  ];

  return async function handle(req, res) {
    try {
      const path = req.url.split('?')[0];
      const route = routes.find(([method, re]) => method === req.method && re.test(path));
      if (!route) throw new HttpError(404, 'not_found', 'No such route.');
      const body = req.method === 'POST' ? await readJson(req) : null;
      const [status, out] = await route[2](req, body, path.match(route[1]));
      send(res, status, out);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      send(res, status, { type: 'about:blank', title: e.message, status, code: e.code ?? 'internal' }, 'application/problem+json');
    }
  };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'payload_too_large', 'The body is too large.'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error();
        resolve(v);
      } catch {
        reject(new HttpError(400, 'invalid_json', 'The body is not a JSON object.'));
      }
    });
    req.on('error', reject);
  });
}

function send(res, status, out, type) {
  const isText = typeof out === 'string';
  const body = isText ? out : JSON.stringify(out);
  res.writeHead(status, {
    'Content-Type': type ?? (isText ? 'text/plain; version=0.0.4' : 'application/json'),
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

module.exports = { makeApi, sessionView };
