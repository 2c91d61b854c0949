'use strict';
// Passwords (scrypt) and access tokens (HS256 JWT, as wahub's).

const crypto = require('node:crypto');
const jwt = require('jsonwebtoken');

// Light scrypt cost: registration is bench set-up, not what is measured.
const SCRYPT = { N: 1024, r: 8, p: 1 };

class Auth {
  constructor(ttlSecs) {
    // A KeyObject: given raw bytes, jsonwebtoken first tries to parse them as a public key on every call (~ms each).
    this.secret = crypto.createSecretKey(crypto.randomBytes(32));
    this.ttlSecs = ttlSecs;
  }

  mint(userId) {
    return jwt.sign({ sub: userId }, this.secret, { algorithm: 'HS256', expiresIn: this.ttlSecs });
  }

  /** The claims of a valid token, or null. */
  verify(token) {
    if (typeof token !== 'string' || token === '') return null;
    try {
      const claims = jwt.verify(token, this.secret, { algorithms: ['HS256'] });
      return typeof claims.sub === 'string' ? claims : null;
    } catch {
      return null;
    }
  }

  /** The user id of `Authorization: Bearer <token>`, or null. */
  bearer(req) {
    const h = req.headers.authorization;
    return h && h.startsWith('Bearer ') ? this.verify(h.slice(7))?.sub ?? null : null;
  }
}

function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  return new Promise((resolve, reject) =>
    crypto.scrypt(password, salt, 32, SCRYPT, (err, key) =>
      err ? reject(err) : resolve(`${salt.toString('hex')}:${key.toString('hex')}`)));
}

function checkPassword(password, stored) {
  const [salt, key] = stored.split(':');
  return new Promise((resolve) =>
    crypto.scrypt(password, Buffer.from(salt, "hex"), 32, SCRYPT, (err, got) =>
      resolve(!err && crypto.timingSafeEqual(got, Buffer.from(key, 'hex')))));
}

module.exports = { Auth, hashPassword, checkPassword };
