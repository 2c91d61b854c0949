'use strict';
// Peer server for `ws-fanout --target node-ws`: wahub's event path (store the event in
// SQLite, then fan it out to the user's sockets) in plain Node.
//
// PEER_BIND=127.0.0.1:PORT  PEER_DB=path/to/file.db  [PEER_TOKEN_TTL_SECS=86400]  [PEER_WS_BUFFER=1024]

const http = require('node:http');
const { Store } = require('./store');
const { Auth } = require('./auth');
const { Hub } = require('./hub');
const { makeApi, sessionView } = require('./api');

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${name} must be a positive integer, got ${raw}`);
    process.exit(2);
  }
  return n;
}

const bind = process.env.PEER_BIND ?? '127.0.0.1:0';
const [host, port] = [bind.slice(0, bind.lastIndexOf(':')), Number(bind.slice(bind.lastIndexOf(':') + 1))];
if (!process.env.PEER_DB || !Number.isInteger(port)) {
  console.error('need PEER_DB=<sqlite file> and PEER_BIND=<host:port>');
  process.exit(2);
}

const store = new Store(process.env.PEER_DB);
const auth = new Auth(positive('PEER_TOKEN_TTL_SECS', 86_400));
const hub = new Hub(store, auth, (userId) => store.q.sessionsOf.all(userId).map(sessionView), positive('PEER_WS_BUFFER', 1024));
const server = http.createServer({ keepAliveTimeout: 60_000 }, makeApi(store, auth, hub));
server.on('upgrade', (req, socket, head) => hub.upgrade(req, socket, head));
server.listen(port, host, () => console.log(`node-ws peer listening on ${host}:${server.address().port}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    store.db.close();
    process.exit(0);
  });
}
