'use strict';
// The peer speaks what ws-fanout expects: a real server process on 127.0.0.1, a real
// SQLite file, real WebSockets.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Database = require('better-sqlite3');
const WebSocket = require('ws');

let server;
let base;
let dir;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-ws-peer-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ['server.js'], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, PEER_BIND: `127.0.0.1:${port}`, PEER_DB: path.join(dir, 'p.db') },
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('peer did not start');
});

after(() => {
  server.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(method, url, token, body) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const r = await fetch(`${base}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

function frames(ws) {
  const queue = [];
  const waiting = [];
  ws.on('message', (m) => {
    const f = JSON.parse(m.toString());
    (waiting.shift() ?? ((v) => queue.push(v)))(f);
  });
  return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)));
}

test('register, link, socket hello, stored events fanned out in seq order', async () => {
  const reg = await call('POST', '/api/v1/auth/register', null, { email: 'p@example.com', password: 'bench password 123' });
  assert.equal(reg.status, 201);
  const token = reg.body.access_token;
  const session = await call('POST', '/api/v1/sessions', token, { name: 'bench', start: true });
  assert.equal(session.status, 201);
  assert.equal(session.body.status, 'scan_qr');
  const id = session.body.id;
  assert.equal((await call('POST', `/api/v1/sessions/${id}/sim/incoming`, token, { from: '6289900000000', text: 'x' })).status, 409);
  assert.equal((await call('POST', `/api/v1/sessions/${id}/sim/scan`, token, { phone: '6281100000001' })).status, 200);
  assert.equal((await call('GET', `/api/v1/sessions/${id}`, token)).body.status, 'connected');

  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws?token=${token}`);
  const next = frames(ws);
  const hello = await next();
  assert.equal(hello.type, 'hello');
  assert.equal(hello.seq, 2); // session.created, session.status
  const db = new Database(path.join(dir, 'p.db'), { readonly: true });
  for (let i = 0; i < 3; i++) {
    const posted = await call('POST', `/api/v1/sessions/${id}/sim/incoming`, token, { from: '6289900000000', text: `m${i}` });
    assert.equal(posted.status, 200);
    const ev = await next();
    assert.equal(ev.type, 'event');
    assert.equal(ev.event, 'message.received');
    assert.equal(ev.seq, 3 + i);
    assert.equal(ev.data.text, `m${i}`);
    assert.match(ev.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const stored = db.prepare('SELECT seq FROM events WHERE user_id = ? AND seq = ?').get(reg.body.user.id, ev.seq);
    assert.ok(stored, 'the event is in the log when its frame arrives');
  }
  db.close();
  ws.close();
});

test('bad tokens and bodies are refused', async () => {
  const refused = await new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws?token=nope`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.on('open', () => resolve('opened'));
  });
  assert.equal(refused, 401);
  assert.equal((await call('POST', '/api/v1/sessions', 'nope', { name: 'x' })).status, 401);
  const bad = await fetch(`${base}/api/v1/auth/register`, { method: 'POST', body: '{nope' });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).code, 'invalid_json');
});
