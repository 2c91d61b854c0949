'use strict';
// The SQLite side: schema, and one transaction per event (state change + event row),
// committed before anything is sent. Pragmas match wahub's SQLite setup (WAL,
// synchronous=NORMAL), and the tables carry the same indexes as wahub's.

const Database = require('better-sqlite3');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
  role TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  phone TEXT, push_name TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  last_connected_at TEXT, last_activity_at TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS idx_sessions_user_name ON sessions (user_id, name);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, seq INTEGER NOT NULL,
  event TEXT NOT NULL, session_id TEXT, data TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS idx_events_user_seq ON events (user_id, seq);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT NOT NULL, direction TEXT NOT NULL,
  peer TEXT NOT NULL, text TEXT, media TEXT, status TEXT NOT NULL, error TEXT, external_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_messages_session_created ON messages (session_id, created_at);
CREATE INDEX IF NOT EXISTS idx_messages_user_created ON messages (user_id, created_at);
`;

class Store {
  constructor(path) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.q = {
      insertUser: db.prepare('INSERT INTO users (id, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)'),
      userByEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
      userCount: db.prepare('SELECT COUNT(*) AS n FROM users'),
      insertSession: db.prepare(
        'INSERT INTO sessions (id, user_id, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      session: db.prepare('SELECT * FROM sessions WHERE id = ? AND user_id = ?'),
      sessionsOf: db.prepare('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at'),
      connect: db.prepare(
        'UPDATE sessions SET status = ?, phone = ?, push_name = ?, updated_at = ?, last_connected_at = ? WHERE id = ?'),
      touch: db.prepare('UPDATE sessions SET last_activity_at = ? WHERE id = ?'),
      insertMessage: db.prepare(
        'INSERT INTO messages (id, user_id, session_id, direction, peer, text, media, status, error, external_id,' +
          ' created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?, ?)'),
      insertEvent: db.prepare(
        'INSERT INTO events (user_id, seq, event, session_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events WHERE user_id = ?'),
    };
    // Per-user last sequence number, loaded from the log on first use.
    this.seqs = new Map();
  }

  lastSeq(userId) {
    let seq = this.seqs.get(userId);
    if (seq === undefined) {
      seq = this.q.maxSeq.get(userId).seq;
      this.seqs.set(userId, seq);
    }
    return seq;
  }

  /** Runs `change` and stores the event in one transaction; returns the stored event. */
  append(userId, name, sessionId, data, change) {
    // Like wahub, `at` is taken just before the transaction that stores the event.
    const at = nowIso();
    const tx = this.db.transaction(() => {
      if (change) change();
      const seq = this.lastSeq(userId) + 1;
      this.q.insertEvent.run(userId, seq, name, sessionId, JSON.stringify(data), at);
      return { seq, at };
    });
    let stamp;
    try {
      stamp = tx();
    } catch (e) {
      this.seqs.delete(userId); // reload from the log next time
      throw e;
    }
    this.seqs.set(userId, stamp.seq);
    return { type: 'event', seq: stamp.seq, event: name, session_id: sessionId, at: stamp.at, data };
  }
}

/** Wall-clock time as RFC 3339 with microseconds (Date alone gives milliseconds). */
function nowIso() {
  const t = performance.timeOrigin + performance.now();
  const ms = Math.floor(t);
  const micros = Math.min(999, Math.floor((t - ms) * 1000));
  return new Date(ms).toISOString().slice(0, -1) + String(micros).padStart(3, '0') + 'Z';
}

module.exports = { Store, nowIso };
